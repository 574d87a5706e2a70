package dev.bobbin.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.*;

class HttpServerMetricsTwoBindersTest {
    static BobbinHttpServer server() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/a", x -> { x.sendResponseHeaders(200, 2); try (OutputStream o = x.getResponseBody()) { o.write("ok".getBytes()); } });
        return s;
    }

    static void get(BobbinHttpServer s, int n) throws Exception {
        try (HttpClient c = HttpClient.newHttpClient()) {
            for (int i = 0; i < n; i++) {
                c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/a")).build(),
                        HttpResponse.BodyHandlers.ofString());
            }
        }
    }

    /** Two binders of one server in one registry (a framework's bean and the application's own call). */
    @Test
    void twoBindersOfOneServerCountEachRequestOnce() throws Exception {
        BobbinHttpServer s = server();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            HttpServerMetrics.of(s).bindTo(registry);
            HttpServerMetrics.of(s).bindTo(registry);
            s.start();
            get(s, 3);
            assertEquals(3, registry.get("http.server.requests").tags("uri", "/a").timer().count());
        } finally {
            s.stop(0);
        }
    }
}
