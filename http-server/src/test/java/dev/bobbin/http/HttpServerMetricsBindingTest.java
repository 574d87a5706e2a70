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

/** Binding {@link HttpServerMetrics} more than once to one registry (a framework binding every binder bean, and the application too). */
class HttpServerMetricsBindingTest {
    @Test
    void bindingTwiceToOneRegistryCountsEachRequestOnce() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            s.createContext("/a", x -> { x.sendResponseHeaders(200, 2); try (OutputStream o = x.getResponseBody()) { o.write("ok".getBytes()); } });
            HttpServerMetrics m = HttpServerMetrics.of(s);
            m.bindTo(registry);
            m.bindTo(registry);          // e.g. Spring calls every MeterBinder bean, and the app binds it too
            s.start();
            try (HttpClient c = HttpClient.newHttpClient()) {
                for (int i = 0; i < 3; i++) {
                    c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/a")).build(),
                            HttpResponse.BodyHandlers.ofString());
                }
            }
            assertEquals(3, registry.get("http.server.requests").tags("uri", "/a").timer().count());
        } finally {
            s.stop(0);
        }
    }

    /**
     * A tag the binder sets itself on {@code http.server.requests} (method, status, outcome, uri) cannot be one
     * of the extra tags: the per-request value would silently replace the caller's on the timer while the other
     * meters kept it. Refused at once, as {@code BobbinMetrics.of} refuses its own tag keys.
     */
    @Test
    void extraTagsThatTheTimerSetsItselfAreRefused() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(null, 0);
        try {
            for (String key : new String[] {"method", "status", "outcome", "uri"}) {
                assertThrows(IllegalArgumentException.class,
                        () -> HttpServerMetrics.of(s, io.micrometer.core.instrument.Tags.of(key, "mine")), key);
            }
            HttpServerMetrics.of(s, io.micrometer.core.instrument.Tags.of("app", "shop"));   // any other key is fine
        } finally {
            s.stop(0);
        }
    }
}
