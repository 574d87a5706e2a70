package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.Closeable;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A connect made while the process has no descriptor left fails with an IOException, as the JDK's
 * {@code Socket.connect} and {@code SocketChannel.open} do ("Too many open files"), not with an unchecked
 * Netty exception that a caller handling I/O errors does not catch; a bad argument is still refused as
 * such (it is checked before a descriptor is taken).
 */
@Tag("reliability")
class DescriptorExhaustionConnectTest {
    static { LeakGuard.install(); }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aConnectWithoutDescriptorsIsAnIOException(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             FiberScheduler scheduler = io.newScheduler("emfile-" + transport.id(), 1)) {
            InetSocketAddress addr = (InetSocketAddress) server.getLocalSocketAddress();
            // load every class the paths below use while descriptors are plentiful
            Object warm = run(scheduler, () -> {
                FiberSocket c = io.connect(addr, Duration.ofSeconds(5));
                c.close();
                return c.isClosed() ? "ok" : "still open";
            });
            assertEquals("ok", warm);
            server.accept().close();
            Body badTimeout = () -> {
                try {
                    io.connect(addr, Duration.ofSeconds(-1)).close();
                    return "ok";
                } catch (Throwable t) {
                    return t;
                }
            };
            assertInstanceOf(IllegalArgumentException.class, run(scheduler, badTimeout));   // and its classes loaded
            Object jdk, bobbin, refused;
            List<Closeable> filler = new ArrayList<>();
            try {
                try {
                    for (;;) filler.add(new FileInputStream("/dev/null"));
                } catch (IOException exhausted) {
                    // no descriptor left
                }
                jdk = outcome(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(addr, 5000);
                    }
                    return "ok";
                });
                bobbin = run(scheduler, () -> {
                    try {
                        io.connect(addr, Duration.ofSeconds(5)).close();
                        return "ok";
                    } catch (Throwable t) {
                        return t;
                    }
                });
                refused = run(scheduler, badTimeout);
            } finally {
                for (Closeable c : filler) c.close();
            }
            assertInstanceOf(IllegalArgumentException.class, refused,
                    () -> "a bad argument is refused before a descriptor is needed, not " + refused);
            assertInstanceOf(IOException.class, jdk, "the JDK control");
            assertInstanceOf(IOException.class, bobbin, () -> "io.connect without descriptors threw " + bobbin);
        }
    }

    interface Body { Object run() throws Exception; }

    private static Object outcome(Body b) {
        try {
            return b.run();
        } catch (Throwable t) {
            return t;
        }
    }

    private static Object run(FiberScheduler s, Body b) throws Exception {
        CompletableFuture<Object> f = new CompletableFuture<>();
        s.start(() -> f.complete(outcome(b)));
        return f.get(20, TimeUnit.SECONDS);
    }
}
