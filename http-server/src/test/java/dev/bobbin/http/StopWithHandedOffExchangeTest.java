package dev.bobbin.http;

import com.sun.net.httpserver.HttpExchange;
import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A handler hands its exchange to another thread and returns; {@code stop()} then tears the connection
 * down (the connection fiber releases its buffers) while that thread still uses the exchange. Its later
 * or concurrent stream calls must fail with an {@link IOException}, never touch a released buffer.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StopWithHandedOffExchangeTest {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** A chunk still open in the connection's buffer; stop(0) (which waits for the connection fiber), then the other thread closes. */
    @Test
    void closingAHandedOffChunkedResponseAfterStopFailsWithAnIOException() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        CompletableFuture<HttpExchange> handed = new CompletableFuture<>();
        s.createContext("/async", x -> {
            x.sendResponseHeaders(200, 0);                      // chunked
            x.getResponseBody().write("hello".getBytes(ISO_8859_1)); // buffered in Connection.out, open chunk
            handed.complete(x);                                 // handed to another thread; the handler returns
        });
        s.start();
        try (Socket c = new Socket("127.0.0.1", s.getAddress().getPort())) {
            c.getOutputStream().write("GET /async HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
            HttpExchange x = handed.get(10, TimeUnit.SECONDS);
            s.stop(0);                                           // returns once the connection fiber has ended
            CompletableFuture<Throwable> closeOutcome = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {                    // "another thread" finishes the exchange
                try {
                    x.getResponseBody().close();
                    closeOutcome.complete(null);
                } catch (Throwable t) {
                    closeOutcome.complete(t);
                }
            });
            Throwable t = closeOutcome.get(10, TimeUnit.SECONDS);
            assertTrue(t == null || t instanceof IOException, () -> "close after stop threw " + stackOf(t));
        }
    }

    /** Another thread streams a fixed-length body while stop(0) tears the connection down (a race, tried up to 300 times). */
    @Test
    void streamingFromAnotherThreadWhileStopTearsDownNeverTouchesAReleasedBuffer() throws Exception {
        FiberScheduler scheduler = FiberIo.system().newScheduler("handoff", 2);
        List<Throwable> bad = new CopyOnWriteArrayList<>();
        try {
            for (int i = 0; i < 300 && bad.isEmpty(); i++) {
                BobbinHttpServer s = BobbinHttpServer.create(ANY, 0, HttpServerOptions.builder().scheduler(scheduler).build());
                CompletableFuture<Thread> writerF = new CompletableFuture<>();
                AtomicBoolean writing = new AtomicBoolean();
                s.createContext("/stream", x -> {
                    writerF.complete(Thread.ofPlatform().start(() -> {
                        try {
                            x.sendResponseHeaders(200, 1L << 40);
                            OutputStream os = x.getResponseBody();
                            byte[] b = new byte[37];
                            writing.set(true);
                            for (;;) os.write(b);
                        } catch (IOException expected) {
                            // the connection is closed: fine
                        } catch (Throwable t) {
                            bad.add(t);
                        }
                    }));
                });
                s.start();
                Socket c = new Socket("127.0.0.1", s.getAddress().getPort());
                try {
                    c.getOutputStream().write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
                    Thread drainer = Thread.ofPlatform().start(() -> {
                        byte[] sink = new byte[65536];
                        try (InputStream in = c.getInputStream()) {
                            while (in.read(sink) >= 0) { }
                        } catch (IOException e) {
                            // closed
                        }
                    });
                    Thread w = writerF.get(10, TimeUnit.SECONDS);
                    while (!writing.get() && w.isAlive()) Thread.onSpinWait();
                    Thread.sleep(i % 5);
                    s.stop(0);
                    w.join(10_000);
                    assertFalse(w.isAlive(), "the writer ended");
                    c.close();                          // ends the drainer
                    drainer.join(10_000);
                } finally {
                    c.close();
                }
            }
        } finally {
            scheduler.close();
        }
        assertEquals(List.of(), bad.stream().map(StopWithHandedOffExchangeTest::stackOf).toList(),
                "the handed-off writer touched a released buffer");
    }

    private static String stackOf(Throwable t) {
        if (t == null) return "nothing";
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }
}
