package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A failed socket operation throws an exception whose stack trace shows where it was called, as the JDK's
 * sockets' do (the control): a {@code BindException} or {@code ConnectException} made on the event loop
 * and thrown as it is names only Netty's and the carrier's frames, so a user cannot tell which line failed.
 */
class CallerStackTraceTest {

    private static boolean namesThisTest(Throwable t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().startsWith(CallerStackTraceTest.class.getName()));
    }

    private static String trace(Throwable t) {
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aBindToAPortInUseNamesItsCaller(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            BindException jdk = assertThrows(BindException.class, () -> {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(taken.getLocalSocketAddress());
                }
            });
            assertTrue(namesThisTest(jdk), "control: " + trace(jdk));
            FiberIo io = FiberIo.of(transport);
            try (FiberScheduler scheduler = io.newScheduler("stack", 1)) {
                // from a platform thread, as HttpServer.create binds
                BindException bobbin = assertThrows(BindException.class, () -> {
                    try (FiberServerSocket s = io.openServer()) {
                        s.bind(taken.getLocalSocketAddress());
                    }
                });
                assertTrue(namesThisTest(bobbin), trace(bobbin));
                // from a fiber
                AtomicReference<Throwable> inFiber = new AtomicReference<>();
                scheduler.start(() -> {
                    try (FiberServerSocket s = io.openServer()) {
                        s.bind(taken.getLocalSocketAddress());
                    } catch (Throwable t) {
                        inFiber.set(t);
                    }
                }).join();
                assertInstanceOf(BindException.class, inFiber.get());
                assertTrue(namesThisTest(inFiber.get()), trace(inFiber.get()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aRefusedConnectNamesItsCaller(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        InetSocketAddress closed;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            closed = (InetSocketAddress) s.getLocalSocketAddress();
        }
        ConnectException jdk = assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(closed);
            }
        });
        assertTrue(namesThisTest(jdk), "control: " + trace(jdk));
        FiberIo io = FiberIo.of(transport);
        try (FiberScheduler scheduler = io.newScheduler("stack", 1)) {
            AtomicReference<Throwable> inFiber = new AtomicReference<>();
            scheduler.start(() -> {
                try (FiberSocket s = io.connect(closed, Duration.ofSeconds(5))) {
                    fail("connected to a closed port: " + s);
                } catch (Throwable t) {
                    inFiber.set(t);
                }
            }).join();
            assertInstanceOf(ConnectException.class, inFiber.get());
            assertEquals(jdk.getClass(), inFiber.get().getClass(), "the JDK's type, not Netty's: " + trace(inFiber.get()));
            assertTrue(namesThisTest(inFiber.get()), trace(inFiber.get()));
        }
    }
}
