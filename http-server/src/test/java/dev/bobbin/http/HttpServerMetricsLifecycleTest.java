package dev.bobbin.http;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The HTTP server's meters over the server's life: a server stopped leaves the registry to the next one
 * bound there, and two binders of one server in one registry count each request once, and two servers sharing a
 * registry's meters keep them until the last one stops.
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
     * Two running servers bound to one registry with the same (here: no) tags share their meters, as
     * Micrometer merges meters of one name and tags: stopping one must not take the other's out of the
     * registry, since the running server still counts requests into them.
     */
    @Test
    void stoppingOneServerLeavesTheMetersOfARunningServerInTheRegistry() throws Exception {
        // Micrometer warns once that the second server's gauge of the same id is ignored: expected here
        java.util.logging.Logger micrometer = java.util.logging.Logger.getLogger("io.micrometer");
        java.util.logging.Level previous = micrometer.getLevel();
        micrometer.setLevel(java.util.logging.Level.SEVERE);
        try {
            stoppingOneOfTwoServers();
        } finally {
            micrometer.setLevel(previous);
        }
    }

    private static void stoppingOneOfTwoServers() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BobbinHttpServer running = server();
        BobbinHttpServer stopped = server();
        try {
            HttpServerMetrics.of(running).bindTo(registry);
            HttpServerMetrics.of(stopped).bindTo(registry);
            running.start();
            stopped.start();
            get(running, 1);
            get(stopped, 1);
            stopped.stop(0);

            get(running, 2);
            assertNotNull(registry.find("http.server.connections.active").gauge(),
                    "the running server's gauge left the registry when the other server stopped");
            assertNotNull(registry.find("http.server.bytes.received").functionCounter(),
                    "the running server's byte counter left the registry when the other server stopped");
            long requests = registry.find("http.server.requests").timers().stream().mapToLong(Timer::count).sum();
            assertTrue(requests >= 2, "requests of the running server after the other's stop counted in the registry: " + requests);
        } finally {
            running.stop(0);
        }
    }
}
