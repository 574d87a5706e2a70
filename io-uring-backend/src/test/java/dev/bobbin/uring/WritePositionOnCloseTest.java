package dev.bobbin.uring;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A write that a close() from another thread interrupts throws, and its buffer's position says how many of
 * its bytes were written, as a JDK channel's does: those bytes, and no fewer, reach the peer before the end
 * of stream. A position past what the peer can get tells the writer bytes went out that never will. And a
 * write already under way when the socket is closed fails with AsynchronousCloseException.
 */
@Tag("reliability")
class WritePositionOnCloseTest {
    static { LeakGuard.install(); }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void theBufferPositionOfAWriteCutShortByCloseCountsOnlyBytesThePeerGets(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            for (int round = 0; round < 200; round++) {
                FiberSocket c = io.connect(server.getLocalSocketAddress(), Duration.ofSeconds(5));
                try (Socket p = server.accept()) {
                    CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                        long n = 0;
                        try (InputStream in = p.getInputStream()) {
                            byte[] b = new byte[65536];
                            for (int r; (r = in.read(b)) > 0; ) n += r;
                        } catch (SocketException reset) {
                            return -1L;
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                        return n;
                    }, r -> Thread.ofPlatform().daemon().start(r));
                    ByteBuffer src = ByteBuffer.allocate(8 << 20);
                    CompletableFuture<Object> w = CompletableFuture.supplyAsync(() -> {
                        try {
                            c.write(src);
                            return "returned";
                        } catch (IOException e) {
                            return e;
                        }
                    }, r -> Thread.ofPlatform().daemon().start(r));
                    long until = System.nanoTime() + random.nextLong(200_000, 3_000_000);
                    while (System.nanoTime() < until) Thread.onSpinWait();
                    c.close();
                    Object outcome = w.get(20, TimeUnit.SECONDS);
                    long got = received.get(20, TimeUnit.SECONDS);
                    if (outcome instanceof IOException && src.position() > 0) {
                        int round0 = round;
                        assertInstanceOf(java.nio.channels.AsynchronousCloseException.class, outcome, () -> "round " + round0
                                + ": a write under way when another thread closed the socket, as a JDK channel's");
                    }
                    if (outcome instanceof IOException && got >= 0) {
                        int round0 = round;
                        assertTrue(got >= src.position(), () -> "round " + round0 + ": the write threw " + outcome
                                + " with its position at " + src.position() + ", the peer got " + got);
                    }
                }
            }
        }
    }
}
