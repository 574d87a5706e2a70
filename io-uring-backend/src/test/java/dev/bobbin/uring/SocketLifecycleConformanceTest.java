package dev.bobbin.uring;

import dev.bobbin.uring.SocketSemanticsConformanceTest.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * More of {@link SocketSemanticsConformanceTest}: the JDK's {@code Socket} or {@code SocketChannel} as the
 * control where the kind is JDK, Bobbin's sockets on each transport otherwise. Shutdowns and buffered
 * bytes, connect after a failed write, and an accept racing {@code bind}.
 */
class SocketLifecycleConformanceTest {
    static { LeakGuard.install(); }

    private ServerSocket server;
    private final CompletableFuture<Socket> accepted = new CompletableFuture<>();

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            try {
                accepted.complete(server.accept());
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        if (accepted.isDone() && !accepted.isCompletedExceptionally()) accepted.get().close();
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    private InetSocketAddress address() { return (InetSocketAddress) server.getLocalSocketAddress(); }
    private Socket peer() throws Exception { return accepted.get(10, TimeUnit.SECONDS); }

    private static void assume(Kind kind) {
        if (kind.transport != null) TransportSelectionTest.assumeOrRequire(kind.transport);
    }

    private static Object outcome(java.util.concurrent.Callable<?> c) {
        try {
            return c.call();
        } catch (Throwable t) {
            return t;
        }
    }

    private FiberSocket fiber(Kind kind) throws IOException {
        return FiberIo.of(kind.transport).connect(address(), Duration.ofSeconds(5));
    }


    /** {@code available()} after {@code shutdownInput()} with bytes buffered is 0, as the next read is the end of stream. */
    @ParameterizedTest @EnumSource(Kind.class)
    void availableIsZeroAfterShutdownInput(Kind kind) throws Exception {
        assume(kind);
        int avail;
        if (kind == Kind.JDK) {
            try (Socket s = new Socket()) {
                s.connect(address(), 5000);
                peer().getOutputStream().write(new byte[100]);
                InputStream in = s.getInputStream();
                assertEquals(1, in.read(new byte[1]));
                Thread.sleep(50);
                s.shutdownInput();
                avail = in.available();
            }
        } else {
            try (FiberSocket s = fiber(kind)) {
                peer().getOutputStream().write(new byte[100]);
                InputStream in = s.inputStream();
                assertEquals(1, in.read(new byte[1]));
                s.shutdownInput();
                avail = in.available();
                assertEquals(-1, in.read(new byte[10]));
            }
        }
        assertEquals(0, avail);
    }

    /** A zero-length write after {@code shutdownOutput()} is refused like any other write. */
    @ParameterizedTest @EnumSource(Kind.class)
    void emptyWriteAfterShutdownOutputIsRefused(Kind kind) throws Exception {
        assume(kind);
        Object o, twice;
        if (kind == Kind.JDK) {
            try (SocketChannel s = SocketChannel.open(address())) {
                s.shutdownOutput();
                twice = outcome(() -> s.shutdownOutput());
                o = outcome(() -> s.write(ByteBuffer.allocate(0)));
            }
        } else {
            try (FiberSocket s = fiber(kind)) {
                s.shutdownOutput();
                twice = outcome(() -> { s.shutdownOutput(); return "ok"; });
                o = outcome(() -> s.write(ByteBuffer.allocate(0)));
            }
        }
        assertInstanceOf(ClosedChannelException.class, o);
    }

    /** A connected socket stays connected (for {@code connect} and {@code isConnected}) after a reset and a failed write, as the JDK's does. */
    @ParameterizedTest @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void secondConnectAfterAFailedWrite(Kind kind) throws Exception {
        assume(kind);
        try (FiberSocket s = fiber(kind)) {
            Socket p = peer();
            p.setSoLinger(true, 0);
            p.close();
            Object w = null;
            for (int i = 0; i < 50 && !(w instanceof Throwable); i++) {
                w = outcome(() -> { s.write(ByteBuffer.allocate(100)); s.flush(); return "ok"; });
            }
            Thread.sleep(50);
            Object o = outcome(() -> { s.connect(address(), Duration.ofSeconds(1)); return "ok"; });
            assertInstanceOf(AlreadyConnectedException.class, o);
        }
    }

    /** The same for an accepted socket: {@code connect} is refused, never attempted. */
    @ParameterizedTest @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void connectOnAnAcceptedSocketAfterAFailedWrite(Kind kind) throws Exception {
        assume(kind);
        try (FiberServerSocket srv = FiberIo.of(kind.transport).openServer().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Socket c = new Socket();
            c.connect(srv.localAddress(), 5000);
            try (FiberSocket s = srv.accept(Duration.ofSeconds(5))) {
                c.setSoLinger(true, 0);
                c.close();
                Object w = null;
                for (int i = 0; i < 50 && !(w instanceof Throwable); i++) w = outcome(() -> { s.write(ByteBuffer.allocate(100)); s.flush(); return 100; });
                Thread.sleep(50);
                Object o = outcome(() -> { s.connect(address(), Duration.ofSeconds(1)); return "ok"; });
                assertInstanceOf(AlreadyConnectedException.class, o);
            }
        }
    }

    /** An accept made while {@code bind} runs on another thread is refused as not yet bound or gets the connection, never a channel not yet listening (300 rounds). */
    @ParameterizedTest @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void anAcceptRacingWithBindIsServed(Kind kind) throws Exception {
        assume(kind);
        int hung = 0;
        for (int i = 0; i < 300; i++) {
            try (FiberServerSocket srv = FiberIo.of(kind.transport).openServer()) {
                CompletableFuture<Object> r = new CompletableFuture<>();
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                Thread b = Thread.ofPlatform().start(() -> {
                    go.countDown();
                    for (;;) {
                        try {
                            r.complete(srv.accept(Duration.ofSeconds(2)));
                            return;
                        } catch (java.nio.channels.NotYetBoundException e) {
                            Thread.onSpinWait();
                        } catch (Throwable t) {
                            r.complete(t);
                            return;
                        }
                    }
                });
                go.await();
                srv.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                try (Socket c = new Socket()) {
                    c.connect(srv.localAddress(), 5000);
                    Object o = r.get(10, TimeUnit.SECONDS);
                    if (o instanceof FiberSocket fs) fs.close();
                    else hung++;
                }
                b.join();
            }
        }
        assertEquals(0, hung, "accepts that missed a connection made once bind returned");
    }
}
