package dev.bobbin.uring;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A half close while another thread's write waits for a peer that reads nothing returns at once, as a JDK
 * channel's does; the peer then reads the bytes written so far and the end of stream, and the writer stops.
 */
@Tag("reliability")
class HalfCloseBehindWriterTest {
    static { LeakGuard.install(); }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    enum Kind { JDK, IO_URING, EPOLL, NIO }

    interface Half { void shutdownOutput() throws IOException; void write(ByteBuffer b) throws IOException; void close() throws IOException; }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shutdownOutputDoesNotWaitForAWriterThePeerNeverDrains(Kind kind) throws Exception {
        if (kind != Kind.JDK) TransportSelectionTest.assumeOrRequire(IoTransport.valueOf(kind.name()));
        try (ServerSocket small = new ServerSocket()) {
            small.setReceiveBufferSize(4096);
            small.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            Half c = connect(kind, small);
            try (Socket p = small.accept()) {
                Thread writer = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        for (;;) c.write(ByteBuffer.allocate(16 * 1024));
                    } catch (IOException expected) {
                        // the output was shut down or the socket closed
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (writer.getState() != Thread.State.WAITING && writer.getState() != Thread.State.RUNNABLE
                        || !inWrite(writer)) {
                    assertTrue(System.nanoTime() < deadline, "the writer never blocked");
                    Thread.sleep(5);
                }
                Thread.sleep(300);
                CompletableFuture<Object> half = CompletableFuture.supplyAsync(() -> {
                    try {
                        c.shutdownOutput();
                        return "returned";
                    } catch (Throwable t) {
                        return t;
                    }
                }, r -> Thread.ofPlatform().daemon().start(r));
                Object o;
                try {
                    o = half.get(3, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    o = "still blocked after 3 s";
                }
                assertEquals("returned", o, kind + ": shutdownOutput with another thread's write blocked");
                // the peer reads what was written, then the end of stream; the writer stops with an IOException
                CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> {
                    try {
                        return p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                    } catch (IOException e) {
                        return -1L;
                    }
                }, r -> Thread.ofPlatform().daemon().start(r));
                long read = drained.get(10, TimeUnit.SECONDS);
                assertTrue(read > 0, kind + ": the peer read the bytes written before the end of stream: " + read);
                writer.join(10_000);
                assertFalse(writer.isAlive(), kind + ": the writer stopped once the output was shut");
                c.close();
            }
        }
    }

    private static boolean inWrite(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getMethodName().equals("park") || e.getMethodName().equals("write0") || e.getMethodName().equals("poll")) return true;
        }
        return false;
    }

    /**
     * The writer blocked on a peer that reads nothing stops at the half close: its write fails at once (the
     * JDK wakes it and its next write meets EPIPE), instead of staying blocked until the peer reads.
     */
    @SuppressWarnings("try")                           // the peer is held open, never read
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aWriterBlockedOnAPeerThatReadsNothingFailsOnceTheOutputIsShut(Kind kind) throws Exception {
        if (kind != Kind.JDK) TransportSelectionTest.assumeOrRequire(IoTransport.valueOf(kind.name()));
        try (ServerSocket small = new ServerSocket()) {
            small.setReceiveBufferSize(4096);
            small.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            Half c = connect(kind, small);
            try (Socket p = small.accept()) {                 // the peer never reads
                CompletableFuture<Object> writer = new CompletableFuture<>();
                java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        for (;;) {
                            c.write(ByteBuffer.allocate(16 * 1024));
                            written.addAndGet(16 * 1024);
                        }
                    } catch (Throwable t) {
                        writer.complete(t);
                    }
                });
                long last = -1;
                for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); ; ) {   // until the writer stalls
                    Thread.sleep(300);
                    long now = written.get();
                    if (now == last) break;
                    last = now;
                    assertTrue(System.nanoTime() < deadline, "the writer never stalled");
                }
                assertFalse(writer.isDone(), "the writer is blocked");
                c.shutdownOutput();
                Object outcome;
                try {
                    outcome = writer.get(3, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    outcome = "still blocked 3 s after shutdownOutput";
                }
                c.close();
                assertInstanceOf(IOException.class, outcome, kind + ": the blocked write after shutdownOutput");
            }
        }
    }

    /** A connection to {@code server} with a small send buffer: the JDK's channel, or a fiber socket on {@code kind}. */
    private static Half connect(Kind kind, ServerSocket server) throws IOException {
        if (kind == Kind.JDK) {
            SocketChannel ch = SocketChannel.open(server.getLocalSocketAddress());
            ch.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
            return new Half() {
                public void shutdownOutput() throws IOException { ch.shutdownOutput(); }
                public void write(ByteBuffer b) throws IOException { while (b.hasRemaining()) ch.write(b); }
                public void close() throws IOException { ch.close(); }
            };
        }
        FiberSocket s = FiberIo.of(IoTransport.valueOf(kind.name())).connect(server.getLocalSocketAddress(), Duration.ofSeconds(5));
        s.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
        s.setCloseDrainTimeout(Duration.ofMillis(200));
        return new Half() {
            public void shutdownOutput() throws IOException { s.shutdownOutput(); }
            public void write(ByteBuffer b) throws IOException { s.write(b); }
            public void close() { s.close(); }
        };
    }

    /**
     * A half close racing small writes on another thread: every write that returned had its bytes reach
     * the peer before the end of stream, and none that was refused did (each write here is one chunk, all
     * or nothing). A write handed to the loop after the shutdown went out would have returned without its
     * bytes ever being sent. (That race's window, between a writer's refusal check and its hand-over, is
     * too narrow for this test to hit with the re-check removed: it guards the end-to-end promise.)
     */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void everyWriteThatReturnedBeforeAHalfCloseReachesThePeer(Kind kind) throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.valueOf(kind.name()));
        FiberIo io = FiberIo.of(IoTransport.valueOf(kind.name()));
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            for (int round = 0; round < 60; round++) {
                try (FiberSocket c = io.connect(server.getLocalSocketAddress(), java.time.Duration.ofSeconds(5));
                     Socket p = server.accept()) {
                    java.util.concurrent.atomic.AtomicLong acknowledged = new java.util.concurrent.atomic.AtomicLong();
                    java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
                    Thread writer = Thread.ofPlatform().start(() -> {
                        try {
                            for (;;) {
                                c.write(ByteBuffer.allocate(64));
                                acknowledged.addAndGet(64);
                                writing.countDown();
                            }
                        } catch (IOException refused) {
                            // the half close: this and later writes are refused
                        }
                    });
                    assertTrue(writing.await(10, TimeUnit.SECONDS));
                    p.setSoTimeout(10_000);
                    java.util.concurrent.CompletableFuture<Long> received = new java.util.concurrent.CompletableFuture<>();
                    Thread.ofPlatform().start(() -> {          // the peer reads throughout: a half close that
                        try {                                  // waits for the bytes in flight is never stuck
                            received.complete(p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()));
                        } catch (IOException e) {
                            received.completeExceptionally(e);
                        }
                    });
                    c.shutdownOutput();
                    writer.join(10_000);
                    assertFalse(writer.isAlive(), "the writer went on after the half close");
                    assertEquals(acknowledged.get(), received.get(10, TimeUnit.SECONDS),
                            "round " + round + ": bytes of the writes that returned");
                }
            }
        }
    }
}
