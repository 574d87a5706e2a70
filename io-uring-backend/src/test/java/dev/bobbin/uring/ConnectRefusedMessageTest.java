package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A refused connect reads as the JDK's SocketChannel.connect says it (the control): "Connection refused";
 * arguments it cannot use are refused before a socket is opened.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectRefusedMessageTest {

    @SuppressWarnings("try")                      // the scheduler runs; the body only waits
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aRefusedConnectHasTheJdksMessage(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        InetSocketAddress closed;
        try (ServerSocketChannel s = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            closed = (InetSocketAddress) s.getLocalAddress();
        }
        String jdk;
        try (SocketChannel c = SocketChannel.open()) {
            jdk = assertThrows(ConnectException.class, () -> c.connect(closed)).getMessage();
        }
        FiberIo io = FiberIo.of(t);
        AtomicReference<Throwable> fromFiber = new AtomicReference<>();
        try (FiberScheduler sched = io.newScheduler("refused-" + t, 1)) {
            sched.start(() -> {
                try (FiberSocket s = io.connect(closed, Duration.ofSeconds(5))) {
                    fromFiber.set(new AssertionError("connected?"));
                } catch (Throwable e) {
                    fromFiber.set(e);
                }
            }).join();
        }
        Throwable fiber = fromFiber.get();
        assertInstanceOf(ConnectException.class, fiber, t + " (fiber)");
        assertEquals(jdk, fiber.getMessage(), t + " (fiber): " + fiber);
        Throwable thread = assertThrows(ConnectException.class, () -> io.connect(closed, Duration.ofSeconds(5)));
        assertEquals(jdk, thread.getMessage(), t + " (platform thread): " + thread);
    }

    /** Bad arguments of {@code FiberIo.connect} fail at once, with no socket opened (and so none to leak). */
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void badConnectArgumentsFailBeforeASocketIsOpened(IoTransport t) {
        TransportSelectionTest.assumeOrRequire(t);
        FiberIo io = FiberIo.of(t);
        InetSocketAddress somewhere = new InetSocketAddress("127.0.0.1", 9);
        int open = io.stats().openSockets();
        assertThrows(NullPointerException.class, () -> io.connect(null, Duration.ofSeconds(1)));
        assertThrows(NullPointerException.class, () -> io.connect(somewhere, null));
        assertThrows(IllegalArgumentException.class, () -> io.connect(somewhere, Duration.ofSeconds(-1)));
        assertThrows(java.nio.channels.UnresolvedAddressException.class,
                () -> io.connect(InetSocketAddress.createUnresolved("nowhere.invalid", 80), Duration.ofSeconds(1)));
        assertThrows(java.nio.channels.UnsupportedAddressTypeException.class,
                () -> io.connect(new java.net.SocketAddress() { }, Duration.ofSeconds(1)));
        // the count is the JVM's (earlier tests' sockets may still be leaving): none of these adds one
        assertTrue(io.stats().openSockets() <= open, "no socket was opened for them");
    }
}
