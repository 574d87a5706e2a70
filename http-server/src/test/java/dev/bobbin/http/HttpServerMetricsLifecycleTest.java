package dev.bobbin.http;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The HTTP server's meters over the server's life: a server stopped leaves the registry to the next one
 * bound there, two binders of one server in one registry count each request once, and a second server bound
 * with the same tags is refused.
 */
class HttpServerMetricsLifecycleTest {
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

    /** A stopped server's meters leave the registry: a new server bound there with the same tags reads its own values. */
    @Test
    void aNewServerBoundAfterAStoppedOneReportsItsOwnCounters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BobbinHttpServer first = server();
        HttpServerMetrics.of(first).bindTo(registry);
        first.start();
        get(first, 3);
        first.stop(0);
        long firstReceived = first.stats().bytesReceived();
        assertTrue(firstReceived > 0);

        BobbinHttpServer second = server();
        try {
            HttpServerMetrics.of(second).bindTo(registry);
            second.start();
            get(second, 1);
            double received = registry.get("http.server.bytes.received").functionCounter().count();
            assertEquals(second.stats().bytesReceived(), (long) received,
                    "the meter reads the stopped server (" + firstReceived + " bytes), not the running one");
        } finally {
            second.stop(0);
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

    /**
     * Two running servers bound to one registry with the same (here: no) tags would share their meters (a
     * registry hands back the meter it has for an identical id): the second would read the first's figures and
     * be invisible itself. Its binding is refused, naming the meter; with a tag of its own it binds, each server
     * reports its own figures, and stopping one leaves the other's meters in the registry.
     */
    @Test
    void aSecondServerWithTheSameTagsIsRefusedAndOneWithATagOfItsOwnReportsItsOwnFigures() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BobbinHttpServer first = server();
        BobbinHttpServer second = server();
        try {
            HttpServerMetrics.of(first).bindTo(registry);
            int meters = registry.getMeters().size();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HttpServerMetrics.of(second).bindTo(registry));
            assertTrue(e.getMessage().contains("http.server.connections.active{}"), e.getMessage());
            assertEquals(meters, registry.getMeters().size(), "the refused binding left no meter behind");
            HttpServerMetrics.of(second, Tags.of("server", "second")).bindTo(registry);
            first.start();
            second.start();
            get(first, 1);
            get(second, 2);
            assertEquals(second.stats().bytesReceived(),
                    (long) registry.get("http.server.bytes.received").tag("server", "second").functionCounter().count());
            assertEquals(2, registry.get("http.server.requests").tag("server", "second").timer().count());
            second.stop(0);

            get(first, 2);
            assertEquals(first.stats().bytesReceived(), (long) registry.find("http.server.bytes.received").tags(Tags.empty())
                    .functionCounters().stream().filter(c -> c.getId().getTags().isEmpty()).findFirst().orElseThrow().count(),
                    "the first server's counter stays when the second stops");
            assertEquals(3, registry.find("http.server.requests").timers().stream().mapToLong(Timer::count).sum());
        } finally {
            first.stop(0);
            second.stop(0);
        }
    }

    /** An exchange that ends as its server stops leaves no timer behind in the registry. */
    @Test
    void anExchangeEndingAfterTheStopRegistersNoTimer() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BobbinHttpServer s = server();
        HttpServerMetrics metrics = HttpServerMetrics.of(s);
        metrics.bindTo(registry);
        s.start();
        get(s, 1);
        ExchangeObserver recorder = metrics.recorder(registry);
        assertNotNull(recorder);
        s.stop(0);
        assertEquals(List.of(), registry.getMeters(), "meters left after the stop");
        recorder.exchangeFinished("GET", 200, "/b", true, 1_000);   // ended late: still passing through the recorder
        recorder.exchangeFinished("GET", 200, "/a", true, 1_000);
        assertEquals(List.of(), registry.getMeters(), "a timer came back after the stop");
    }
}
