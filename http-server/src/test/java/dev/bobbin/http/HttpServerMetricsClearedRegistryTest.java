package dev.bobbin.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

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
}
