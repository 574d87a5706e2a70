package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import dev.bobbin.FiberScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/** Stopping, executors, failing handlers and the metrics of Bobbin's server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpServerLifecycleTest {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private static URI uri(HttpServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.getAddress().getPort() + path);
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    private static void ok(com.sun.net.httpserver.HttpExchange x, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(200, b.length);
        try (OutputStream o = x.getResponseBody()) {
            o.write(b);
        }
    }

    /** A log handler that keeps every record in {@code records}. */
    private static Handler recordingInto(List<LogRecord> records) {
        return new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
    }

    @Test
    void stopLetsAnExchangeInProgressFinishThenLeavesNoFiberOrCarrier() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        CountDownLatch inHandler = new CountDownLatch(1);
        s.createContext("/slow", x -> {
            inHandler.countDown();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            ok(x, "finished");
        });
        s.start();
        FiberScheduler scheduler = s.scheduler();
        try (HttpClient c = client()) {
            CompletableFuture<HttpResponse<String>> r = c.sendAsync(HttpRequest.newBuilder(uri(s, "/slow")).build(), HttpResponse.BodyHandlers.ofString());
            // an idle keep-alive connection too: stop closes it at once
            Socket idle = new Socket("127.0.0.1", s.getAddress().getPort());
            inHandler.await();
            s.stop(10);
            assertEquals("finished", r.get(5, TimeUnit.SECONDS).body(), "the exchange in progress finished");
            idle.setSoTimeout(5000);
            assertEquals(-1, idle.getInputStream().read(), "the idle connection was closed");
            idle.close();
        }
        assertTrue(scheduler.isTerminated(), "the server's own scheduler is closed");
        assertEquals(0, s.activeConnections());
        assertThrows(IOException.class, () -> new Socket("127.0.0.1", s.getAddress() == null ? 1 : s.getAddress().getPort()).close(),
                "the listener is closed");
    }

    @Test
    void stopClosesAnExchangeThatOutlivesTheDelay() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        s.createContext("/stuck", x -> {
            inHandler.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        s.start();
        try (Socket c = new Socket("127.0.0.1", s.getAddress().getPort())) {
            c.getOutputStream().write("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            inHandler.await();
            Thread stopper = Thread.ofPlatform().start(() -> s.stop(1));
            c.setSoTimeout(10_000);
            assertEquals(-1, c.getInputStream().read(), "the connection was closed after the delay");
            release.countDown();
            stopper.join(10_000);
            assertFalse(stopper.isAlive(), "stop returned");
        }
        assertEquals(0, s.activeConnections());
    }

    /**
     * A handler may stop its own server (a shutdown endpoint), on the connection's fiber or on an executor,
     * after answering: stop() returns normally and quietly, without waiting for the calling handler's own
     * exchange (a delay of 60 s would outlast the test's wait), and the server's scheduler terminates once
     * that handler returned.
     */
    @Test
    void aHandlerMayStopItsOwnServer() throws Exception {
        Logger log = Logger.getLogger("dev.bobbin.http");
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = recordingInto(records);
        log.addHandler(capture);
        try (java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (boolean onExecutor : new boolean[] {false, true}) {
                BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
                if (onExecutor) s.setExecutor(executor);
                CompletableFuture<String> outcome = new CompletableFuture<>();
                s.createContext("/shutdown", x -> {
                    ok(x, "bye");
                    try {
                        s.stop(60);
                        outcome.complete("stopped");
                    } catch (Throwable t) {
                        outcome.complete(t.toString());
                    }
                });
                s.start();
                FiberScheduler scheduler = s.scheduler();
                try (Socket c = new Socket("127.0.0.1", s.getAddress().getPort())) {
                    c.getOutputStream().write("GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    assertEquals("stopped", outcome.get(20, TimeUnit.SECONDS), "executor: " + onExecutor);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!scheduler.isTerminated() && System.nanoTime() < deadline) Thread.sleep(5);
                assertTrue(scheduler.isTerminated(), "the server's own scheduler terminated after the handler returned");
            }
            List<LogRecord> warnings = records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue()).toList();
            assertEquals(List.of(), warnings.stream().map(LogRecord::getMessage).toList());
        } finally {
            log.removeHandler(capture);
        }
    }

    @Test
    void aGivenExecutorRunsTheHandlers() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "app-pool"));
        try {
            s.setExecutor(pool);
            assertSame(pool, s.getExecutor());
            s.createContext("/", x -> ok(x, Thread.currentThread().getName()));
            s.start();
            assertThrows(IllegalStateException.class, () -> s.setExecutor(null), "too late once started");
            try (HttpClient c = client()) {
                for (int i = 0; i < 5; i++) {
                    assertEquals("app-pool", c.send(HttpRequest.newBuilder(uri(s, "/")).build(), HttpResponse.BodyHandlers.ofString()).body());
                }
            }
        } finally {
            s.stop(0);
            pool.shutdown();
        }
    }

    @Test
    void aThrowingHandlerGets500TheServerGoesOnAndWarnsOnce() throws Exception {
        Logger log = Logger.getLogger("dev.bobbin.http");
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = recordingInto(records);
        boolean parents = log.getUseParentHandlers();
        log.addHandler(capture);
        log.setUseParentHandlers(false);
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        try {
            s.createContext("/boom", x -> { throw new IllegalStateException("handler bug"); });
            s.createContext("/fine", x -> ok(x, "fine"));
            s.start();
            try (HttpClient c = client()) {
                for (int i = 0; i < 3; i++) {
                    HttpResponse<String> r = c.send(HttpRequest.newBuilder(uri(s, "/boom")).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(500, r.statusCode());
                    assertEquals("fine", c.send(HttpRequest.newBuilder(uri(s, "/fine")).build(), HttpResponse.BodyHandlers.ofString()).body());
                }
            }
            assertEquals(3, s.stats().failures());
            List<LogRecord> warnings = records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue()).toList();
            assertEquals(1, warnings.size(), () -> "one WARNING line for three failures: " + warnings);
            assertTrue(warnings.getFirst().getParameters()[1].toString().contains("handler bug"));
        } finally {
            s.stop(0);
            log.removeHandler(capture);
            log.setUseParentHandlers(parents);
        }
    }

    @Test
    void metersCountRequestsByContextAndBytes() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            s.createContext("/a", x -> ok(x, "aaaa"));
            s.createContext("/b", x -> {
                x.sendResponseHeaders(404, -1);
            });
            HttpServerMetrics.of(s).bindTo(registry);
            s.start();
            try (HttpClient c = client()) {
                for (int i = 0; i < 3; i++) c.send(HttpRequest.newBuilder(uri(s, "/a/x" + i)).build(), HttpResponse.BodyHandlers.ofString());
                c.send(HttpRequest.newBuilder(uri(s, "/b")).POST(HttpRequest.BodyPublishers.ofString("12345")).build(), HttpResponse.BodyHandlers.ofString());
            }
            assertEquals(3, registry.get("http.server.requests").tags("uri", "/a", "status", "200", "method", "GET", "outcome", "SUCCESS").timer().count(),
                    "the context path is the uri tag, not the raw path");
            assertEquals(1, registry.get("http.server.requests").tags("uri", "/b", "status", "404", "method", "POST", "outcome", "CLIENT_ERROR").timer().count());
            assertTrue(registry.get("http.server.bytes.received").functionCounter().count() > 4 * 30);
            assertTrue(registry.get("http.server.bytes.sent").functionCounter().count() >= 4 * 30 + 12);
            assertTrue(registry.get("http.server.connections.active").gauge().value() >= 0);
            com.sun.net.httpserver.spi.HttpServerProvider jdk = (com.sun.net.httpserver.spi.HttpServerProvider)
                    Class.forName("sun.net.httpserver.DefaultHttpServerProvider").getConstructor().newInstance();
            HttpServer other = jdk.createHttpServer(null, 0);
            assertThrows(IllegalArgumentException.class, () -> HttpServerMetrics.of(other), "only Bobbin servers");
        } finally {
            s.stop(0);
        }
    }

    @Test
    void optionsRejectBadValuesAtOnce() {
        assertThrows(IllegalArgumentException.class, () -> HttpServerOptions.builder().maxConnections(0));
        assertThrows(IllegalArgumentException.class, () -> HttpServerOptions.builder().maxRequestLineBytes(10));
        assertThrows(IllegalArgumentException.class, () -> HttpServerOptions.builder().maxRequestBodyBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> HttpServerOptions.builder().idleTimeout(java.time.Duration.ZERO));
        assertThrows(NullPointerException.class, () -> HttpServerOptions.builder().ioTimeout(null));
        assertThrows(NullPointerException.class, () -> BobbinHttpServer.create(ANY, 0, null));
    }

    @Test
    @SuppressWarnings("try")   // a resource held open for the test, not read
    void lifecycleMisuseFailsClearly() throws Exception {
        BobbinHttpServer unbound = BobbinHttpServer.create(null, 0);
        assertNull(unbound.getAddress());
        assertThrows(IllegalStateException.class, unbound::start, "not bound");
        unbound.bind(ANY, 0);
        assertThrows(java.net.BindException.class, () -> unbound.bind(ANY, 0), "already bound");
        unbound.start();
        assertThrows(IllegalStateException.class, unbound::start, "started twice");
        assertThrows(IllegalArgumentException.class, () -> unbound.stop(-1));
        unbound.stop(0);
        unbound.stop(0);   // idempotent
        assertThrows(IllegalStateException.class, unbound::start, "stopped");
        try (InputStream ignored = InputStream.nullInputStream()) {
            assertThrows(IllegalArgumentException.class, () -> unbound.createContext("no-slash", x -> { }));
            assertThrows(NullPointerException.class, () -> unbound.createContext("/x", null));
        }
    }

    /**
     * A start() that fails (the given scheduler was shut down) throws and leaves a server that can still be
     * stopped: stop() releases the listening socket and does not throw.
     */
    @Test
    void aStartThatFailsLeavesAServerThatStopsCleanly() throws Exception {
        FiberScheduler closed = dev.bobbin.uring.FiberIo.system().newScheduler("http-closed", 1);
        closed.close();
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0, HttpServerOptions.builder().scheduler(closed).build());
        s.createContext("/", x -> ok(x, "never"));
        InetSocketAddress addr = s.getAddress();
        assertThrows(java.util.concurrent.RejectedExecutionException.class, s::start);
        assertDoesNotThrow(() -> s.stop(0));
        assertThrows(java.net.ConnectException.class, () -> new Socket(addr.getAddress(), addr.getPort()).close(),
                "the listener is closed once stopped");
    }

    /**
     * HttpServerStats.bytesSent counts "bytes handed to the sockets": the server's own answers too, the 503
     * to a connection over the limit and the 408 to a head that did not arrive in time.
     */
    @Test
    void bytesSentCountsThe503AndThe408TheServerSends() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0, HttpServerOptions.builder().maxConnections(1)
                .headerReadTimeout(java.time.Duration.ofMillis(200)).build());
        s.createContext("/", x -> ok(x, "x"));
        s.start();
        try (Socket first = new Socket(s.getAddress().getAddress(), s.getAddress().getPort());
             Socket second = new Socket(s.getAddress().getAddress(), s.getAddress().getPort())) {
            first.setSoTimeout(10_000);
            second.setSoTimeout(10_000);
            byte[] refusal = second.getInputStream().readAllBytes();
            assertTrue(new String(refusal, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 503"));
            first.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1));   // never ends
            byte[] timeout = first.getInputStream().readAllBytes();
            assertTrue(new String(timeout, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 408"));
            assertEquals(refusal.length + timeout.length, s.stats().bytesSent(), "bytes sent: " + s.stats());
        } finally {
            s.stop(0);
        }
    }
}
