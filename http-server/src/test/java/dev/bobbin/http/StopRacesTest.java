package dev.bobbin.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code stop(delay)} racing a connection's own steps: the interleavings are forced with the server's
 * test hook and scripted wires, so each runs the same way every time.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StopRacesTest {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    /** How long a step waits for a stop that wrongly closes its connection (which takes microseconds) to do so. */
    private static final long CHANCE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private static void ok(com.sun.net.httpserver.HttpExchange x, String body) throws IOException {
        byte[] b = body.getBytes(ISO_8859_1);
        x.sendResponseHeaders(200, b.length);
        try (OutputStream o = x.getResponseBody()) {
            o.write(b);
        }
    }

    /** Waits (a hang guard bounds it) until {@code condition} holds. */
    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) throw new AssertionError("never: " + what);
            Thread.onSpinWait();
        }
    }

    /** Gives a stop that wrongly closes connection {@code c} the time to do it. */
    private static void chanceToClose(Connection c) {
        long end = System.nanoTime() + CHANCE_NANOS;
        while (c.phase() != Connection.CLOSED && System.nanoTime() - end < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * A request whose head has just been parsed, its exchange not yet started, is in progress: stop counts
     * its connection busy and lets it be answered within the delay, rather than closing it under the
     * request being dispatched.
     */
    @Test
    void stopLetsARequestWhoseHeadWasJustParsedBeAnswered() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        s.createContext("/", x -> ok(x, "served"));
        AtomicReference<Thread> stopper = new AtomicReference<>();
        AtomicBoolean busyBetween = new AtomicBoolean();
        s.core().headParsedForTest = c -> {
            busyBetween.set(c.busy());
            // stop begins between this head's parse and its exchange
            stopper.set(Thread.ofPlatform().name("stopper").start(() -> s.stop(30)));
            awaitTrue("stop began", s.core()::isStopping);
            chanceToClose(c);
        };
        s.start();
        try (RawHttp.Conn c = RawHttp.connect(s.getAddress().getPort())) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response r = c.read();
            assertNotNull(r, "stop closed the connection under a request being dispatched");
            assertEquals(200, r.status());
            assertEquals("served", r.bodyText());
            assertTrue(r.closes(), "a response written while stopping says Connection: close");
            c.assertClosed();
        }
        assertTrue(busyBetween.get(), "the connection counts as busy between a head's parse and its exchange");
        awaitTrue("the stopper started", () -> stopper.get() != null);
        stopper.get().join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(stopper.get().isAlive(), "stop returned once the request was answered");
    }

    /**
     * A response held back while the next request's bytes were buffered (here a stray line break after the
     * request, which RFC 9112 section 2.2 lets a client send) is a response already accepted: a stop that
     * begins while it is being written lets it be written, rather than closing the connection as idle under
     * the write.
     */
    @Test
    void stopLetsAHeldResponseBeWritten() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        s.createContext("/", x -> ok(x, "held"));
        s.start();
        AtomicReference<Thread> stopper = new AtomicReference<>();
        ScriptedWire wire = new ScriptedWire("GET /a HTTP/1.1\r\nHost: x\r\n\r\n\r\n") {
            @Override void beforeWrite(int index) {
                if (index != 0) return;
                // stop begins while the held response is being written
                stopper.set(Thread.ofPlatform().name("stopper").start(() -> s.stop(30)));
                awaitTrue("stop began", s.core()::isStopping);
                awaitClose(CHANCE_NANOS);
            }
        };
        s.core().serveForTest(wire);
        assertTrue(wire.closed.await(20, TimeUnit.SECONDS), "the connection was never closed");
        String written = wire.written.toString();
        assertTrue(written.startsWith("HTTP/1.1 200") && written.endsWith("\r\n\r\nheld"),
                "stop closed the connection under its held response; written: " + RawHttp.show(written));
        awaitTrue("the stopper started", () -> stopper.get() != null);
        stopper.get().join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(stopper.get().isAlive(), "stop returned");
    }

    /**
     * Pipelined requests the connection has received when stop begins are answered within the delay (the
     * JDK's provider handles buffered requests while it stops as well): the response before them keeps the
     * connection, the last one says close. Here the second request is all in the buffer.
     */
    @Test
    void stopAnswersPipelinedRequestsAlreadyReceived() throws Exception {
        String[] responses = pipelinedAcrossStop("GET /hold HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertPipelinedAnswers(responses);
    }

    /** The same with only the start of the pipelined head received: a head arriving finishes, as on an idle connection. */
    @Test
    void stopAnswersAPipelinedRequestWhoseHeadIsArriving() throws Exception {
        String[] responses = pipelinedAcrossStop("GET /hold HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo", "st: x\r\n\r\n");
        assertPipelinedAnswers(responses);
    }

    private static void assertPipelinedAnswers(String[] responses) {
        assertEquals(2, responses.length, () -> "responses: " + RawHttp.show(String.join("", responses)));
        assertTrue(responses[0].startsWith("HTTP/1.1 200") && responses[0].endsWith("\r\n\r\n/hold"), RawHttp.show(responses[0]));
        assertFalse(responses[0].toLowerCase(java.util.Locale.ROOT).contains("connection: close"),
                () -> "a response followed by another on the connection must not say close: " + RawHttp.show(responses[0]));
        assertTrue(responses[1].startsWith("HTTP/1.1 200") && responses[1].endsWith("\r\n\r\n/b"), RawHttp.show(responses[1]));
        assertTrue(responses[1].toLowerCase(java.util.Locale.ROOT).contains("connection: close"),
                () -> "the last response while stopping says close: " + RawHttp.show(responses[1]));
    }

    /**
     * Serves {@code segments} (a request to /hold, then more) on a scripted connection; stop(30) begins while
     * /hold's handler runs. Returns the responses written before the connection closed.
     */
    private static String[] pipelinedAcrossStop(String... segments) throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        s.createContext("/", x -> {
            if (x.getRequestURI().getPath().equals("/hold")) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            ok(x, x.getRequestURI().getPath());
        });
        s.start();
        ScriptedWire wire = new ScriptedWire(segments);
        s.core().serveForTest(wire);
        assertTrue(entered.await(20, TimeUnit.SECONDS), "the first request never reached its handler");
        Thread stopper = Thread.ofPlatform().name("stopper").start(() -> s.stop(30));
        awaitTrue("stop began", s.core()::isStopping);
        release.countDown();
        assertTrue(wire.closed.await(20, TimeUnit.SECONDS), "the connection was never closed");
        stopper.join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(stopper.isAlive(), "stop returned");
        String written = wire.written.toString();
        List<String> responses = new ArrayList<>();
        for (int from = 0; from < written.length(); ) {
            int next = written.indexOf("HTTP/1.1 ", from + 1);
            if (next < 0) next = written.length();
            responses.add(written.substring(from, next));
            from = next;
        }
        return responses.toArray(String[]::new);
    }

    /**
     * A wire whose bytes to read come one segment per receive, after which a receive waits until the wire
     * is closed; a write fails once it is closed, as a socket's would, and is kept otherwise.
     */
    private static class ScriptedWire implements Wire {
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        final StringBuffer written = new StringBuffer();
        private final java.util.concurrent.ConcurrentLinkedQueue<String> toRead = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();

        ScriptedWire(String... segments) {
            toRead.addAll(List.of(segments));
        }

        /** Called on the connection's fiber before write number {@code index} (from 0) goes out. */
        void beforeWrite(int index) { }

        /** Waits up to {@code nanos} for the wire to be closed. */
        final void awaitClose(long nanos) {
            try {
                closed.await(nanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override public io.netty.buffer.ByteBuf receive() throws IOException {
            String next = toRead.poll();
            if (next != null) return io.netty.buffer.Unpooled.copiedBuffer(next, ISO_8859_1);
            awaitClose(Long.MAX_VALUE);
            throw new java.nio.channels.ClosedChannelException();
        }

        @Override public void write(io.netty.buffer.ByteBuf buf) throws IOException {
            try {
                beforeWrite(writes.getAndIncrement());
                if (closed.getCount() == 0) throw new java.nio.channels.ClosedChannelException();
                written.append(buf.toString(ISO_8859_1));
            } finally {
                buf.release();
            }
        }

        @Override public void flush() throws IOException {
            if (closed.getCount() == 0) throw new java.nio.channels.ClosedChannelException();
        }
        @Override public void shutdownOutput() { }
        @Override public void close() { closed.countDown(); }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 1); }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 2); }
    }
}
