package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsServer;
import com.sun.net.httpserver.spi.HttpServerProvider;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The {@code com.sun.net.httpserver} provider that makes {@code HttpServer.create} and
 * {@code HttpsServer.create} (every overload) return Bobbin servers with the default
 * {@link HttpServerOptions}. It is registered in {@code META-INF/services}, so adding this module's jar
 * is enough; {@code -Dcom.sun.net.httpserver.HttpServerProvider=dev.bobbin.http.BobbinHttpServerProvider}
 * selects it explicitly.
 */
public final class BobbinHttpServerProvider extends HttpServerProvider {
    /** Called by the JDK's provider lookup. */
    public BobbinHttpServerProvider() {
    }

    @Override
    public HttpServer createHttpServer(InetSocketAddress addr, int backlog) throws IOException {
        return BobbinHttpServer.create(addr, backlog);
    }

    @Override
    public HttpsServer createHttpsServer(InetSocketAddress addr, int backlog) throws IOException {
        return BobbinHttpsServer.create(addr, backlog);
    }
}
