package dev.bobbin.uring;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

@Tag("reliability")
class InterruptedWritesTest {
    static { LeakGuard.install(); }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    /**
     * An interrupted writer closes the socket, as the JDK's does; the bytes of the writes that had
     * returned must not then be dropped behind a clean end of stream (the JDK's writes return once the
     * kernel has the bytes, which the close still sends).
     */
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void anInterruptDoesNotDropReturnedWritesBehindACleanEnd(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        try (ServerSocket small = new ServerSocket()) {
            small.setReceiveBufferSize(4096);
            small.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            FiberSocket c = FiberIo.of(transport).connect(small.getLocalSocketAddress(), Duration.ofSeconds(5));
            try (Socket p = small.accept()) {
                c.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                AtomicLong written = new AtomicLong();
                AtomicReference<Throwable> outcome = new AtomicReference<>();
                Thread writer = Thread.ofPlatform().start(() -> {
                    byte[] chunk = new byte[1024];
                    try {
                        for (;;) {
                            c.write(ByteBuffer.wrap(chunk));
                            written.addAndGet(chunk.length);
                        }
                    } catch (IOException e) {
                        outcome.set(e);
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (writer.getState() != Thread.State.WAITING) {
                    assertTrue(System.nanoTime() < deadline, "the writer never filled the connection");
                    Thread.sleep(5);
                }
                Thread.sleep(100);
                writer.interrupt();
                writer.join(10_000);
                assertFalse(writer.isAlive());
                assertInstanceOf(ClosedByInterruptException.class, outcome.get());
                long read = 0;
                boolean reset = false;
                p.setSoTimeout(10_000);
                try (InputStream in = p.getInputStream()) {
                    byte[] buf = new byte[65536];
                    for (int n; (n = in.read(buf)) > 0; ) read += n;
                } catch (SocketException e) {
                    reset = true;
                }
                assertTrue(reset || read >= written.get(),
                        "the peer saw a clean end of stream after " + read + " of " + written.get() + " bytes whose writes returned");
            } finally {
                c.close();
            }
        }
    }

    /**
     * shutdownNow() closes the sockets of its carriers at once: bytes of writes that had returned and are
     * still queued cannot go out any more, and the peer must see that (a reset), not a clean end of stream.
     */
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void shutdownNowDoesNotEndATruncatedStreamCleanly(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        try (ServerSocket small = new ServerSocket()) {
            small.setReceiveBufferSize(4096);
            small.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            dev.bobbin.FiberScheduler scheduler = io.newScheduler("trunc-" + transport.id(), 2);
            AtomicLong written = new AtomicLong();
            AtomicReference<Thread> writer = new AtomicReference<>();
            try (Socket p = connectFromFiber(scheduler, io, small, written, writer)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (writer.get() == null || writer.get().getState() != Thread.State.WAITING) {
                    assertTrue(System.nanoTime() < deadline, "the writer never filled the connection");
                    Thread.sleep(5);
                }
                Thread.sleep(100);
                scheduler.shutdownNow();
                assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)));
                long read = 0;
                boolean reset = false;
                p.setSoTimeout(10_000);
                try (InputStream in = p.getInputStream()) {
                    byte[] buf = new byte[65536];
                    for (int n; (n = in.read(buf)) > 0; ) read += n;
                } catch (SocketException e) {
                    reset = true;
                }
                assertTrue(reset || read >= written.get(),
                        "the peer saw a clean end of stream after " + read + " of " + written.get() + " bytes whose writes returned");
            } finally {
                scheduler.shutdownNow();
            }
        }
    }

    private static Socket connectFromFiber(dev.bobbin.FiberScheduler scheduler, FiberIo io, ServerSocket small,
                                           AtomicLong written, AtomicReference<Thread> writer) throws Exception {
        scheduler.start(() -> {
            writer.set(Thread.currentThread());
            try {
                FiberSocket c = io.connect(small.getLocalSocketAddress(), Duration.ofSeconds(5));
                c.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                byte[] chunk = new byte[1024];
                for (;;) {
                    c.write(ByteBuffer.wrap(chunk));
                    written.addAndGet(chunk.length);
                }
            } catch (IOException e) {
                // closed by the shutdown
            }
        });
        return small.accept();
    }
}
