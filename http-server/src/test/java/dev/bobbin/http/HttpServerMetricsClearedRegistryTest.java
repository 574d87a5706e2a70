package dev.bobbin.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A registry the application cleared (between tests, say) holds no meter of a running server any more: a
 * second server bound there with the same tags reports its own figures, as a scheduler does (BobbinMetrics),
 * and the first one's stop leaves them in place.
 */
class HttpServerMetricsClearedRegistryTest {

    @Test
    void aServerBoundAfterTheRegistryWasClearedIsNotRefusedAndKeepsItsMeters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BobbinHttpServer first = HttpServerMetricsLifecycleTest.server();
        BobbinHttpServer second = HttpServerMetricsLifecycleTest.server();
        try {
            HttpServerMetrics.of(first).bindTo(registry);
            first.start();
            registry.clear();                                  // the first server's meters are gone
            HttpServerMetrics.of(second).bindTo(registry);     // refused before the fix: "bound already for another server"
            second.start();
            HttpServerMetricsLifecycleTest.get(second, 1);
            assertEquals(second.stats().bytesReceived(),
                    (long) registry.get("http.server.bytes.received").functionCounter().count());
            first.stop(0);                                     // removes nothing of the second server's
            assertNotNull(registry.find("http.server.bytes.received").functionCounter(), registry.getMetersAsString());
            assertNotNull(registry.find("http.server.requests").timer(), registry.getMetersAsString());
        } finally {
            first.stop(0);
            second.stop(0);
        }
    }
    /** The same server bound again after a clear, by a new binder or by the one bound before, records anew. */
    @Test
    void theSameServerBoundAgainAfterTheRegistryWasClearedRecordsAnew() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BobbinHttpServer server = HttpServerMetricsLifecycleTest.server();
        try {
            HttpServerMetrics first = HttpServerMetrics.of(server);
            first.bindTo(registry);
            server.start();
            HttpServerMetricsLifecycleTest.get(server, 1);
            registry.clear();
            HttpServerMetrics.of(server).bindTo(registry);     // registered nothing before the fix
            HttpServerMetricsLifecycleTest.get(server, 3);
            awaitRequests(registry, 3);
            assertEquals(server.stats().bytesReceived(),
                    (long) registry.get("http.server.bytes.received").functionCounter().count());
            registry.clear();
            first.bindTo(registry);                            // its own earlier binding: returned at once before
            HttpServerMetricsLifecycleTest.get(server, 2);
            awaitRequests(registry, 2);
            assertNotNull(registry.find("http.server.connections.active").gauge(), registry.getMetersAsString());
            server.stop(0);
            assertEquals(List.of(), registry.getMeters(), "meters left after the server stopped");
        } finally {
            server.stop(0);
        }
    }

    /** The exchange is timed once its response is on the socket, so the client may see it first: waits a little. */
    private static void awaitRequests(SimpleMeterRegistry registry, long n) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            var timer = registry.find("http.server.requests").timer();
            if (timer != null && timer.count() >= n) {
                assertEquals(n, timer.count(), registry.getMetersAsString());
                return;
            }
            if (System.nanoTime() > deadline) fail("http.server.requests never counted " + n + ": " + registry.getMetersAsString());
            Thread.sleep(5);
        }
    }
}
