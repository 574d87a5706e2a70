package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;

/** Prints the provider the JVM selected and the class of the server it makes; run in a child JVM. */
public final class ProviderProbe {
    private ProviderProbe() { }

    public static void main(String[] args) throws Exception {
        HttpServer s = HttpServer.create();
        System.out.println(HttpServerProvider.provider().getClass().getName() + " " + s.getClass().getName());
    }
}
