package dev.bobbin.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What an idle keep-alive connection holds: once its requests are answered and it waits for the next one,
 * none of the buffers its wire received is still held (a server keeps thousands of idle connections; each
 * received buffer is a whole read's worth of direct memory, up to the transport's largest read).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdleConnectionMemoryTest {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** Hands out the scripted segments, each in a buffer of a read's size, then waits in receive until closed. */
    private static final class RecordingWire implements Wire {
        final List<ByteBuf> received = new CopyOnWriteArrayList<>();
        final CountDownLatch waitingForMore = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        final StringBuffer written = new StringBuffer();
        private final ConcurrentLinkedQueue<String> toRead = new ConcurrentLinkedQueue<>();

        RecordingWire(String... segments) {
            toRead.addAll(List.of(segments));
        }

        @Override public ByteBuf receive() throws IOException {
            String next = toRead.poll();
            if (next != null) {
                ByteBuf b = Unpooled.directBuffer(2048).writeBytes(next.getBytes(ISO_8859_1));
                received.add(b);
                return b;
            }
            waitingForMore.countDown();
            try {
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new ClosedChannelException();
        }

        @Override public void write(ByteBuf buf) {
            written.append(buf.toString(ISO_8859_1));
            buf.release();
        }

        @Override public void flush() { }
        @Override public void shutdownOutput() { }
        @Override public void close() { closed.countDown(); }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 1); }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 2); }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",                                       // a head in one read
            "GET / HTTP/1.1\r\nHo|st: x\r\n\r\n",                                       // a head merged from two
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n|hello",            // a body's last read
            "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n"})   // pipelined, then a stray line break
    void anIdleConnectionHoldsNoReceivedBuffer(String script) throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        s.createContext("/", x -> {
            x.getRequestBody().readAllBytes();
            byte[] b = "ok".getBytes(ISO_8859_1);
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        s.start();
        RecordingWire wire = new RecordingWire(script.split("\\|"));
        try {
            s.core().serveForTest(wire);
            assertTrue(wire.waitingForMore.await(20, TimeUnit.SECONDS), "the connection never waited for its next request");
            assertTrue(wire.written.toString().endsWith("\r\n\r\nok"), "answered: " + wire.written);
            for (ByteBuf b : wire.received) {
                assertEquals(0, b.refCnt(), "an idle connection still holds a received buffer of " + b.capacity() + " bytes");
            }
        } finally {
            s.stop(0);
        }
        for (ByteBuf b : wire.received) assertEquals(0, b.refCnt(), "a received buffer outlived its connection");
    }
}
