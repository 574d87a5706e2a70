package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AcceptFailedByCloseTest {
    enum Kind { JDK, IO_URING, EPOLL, NIO }

    static IoTransport t(Kind k) { return k == Kind.JDK ? null : IoTransport.valueOf(k.name()); }

    /**
     * An accept that close() fails with AsynchronousCloseException throws only once the listening descriptor
     * is closed, as on the JDK (control: ServerSocketChannel in a virtual thread), so the acceptor can bind
     * the same address again at once (100 rounds).
     */
    @SuppressWarnings("try")                        // the re-bound servers are held, not used
    @ParameterizedTest @EnumSource(Kind.class)
    void anAcceptFailedByCloseFindsTheAddressFree(Kind kind) throws Exception {
        if (kind != Kind.JDK) TransportSelectionTest.assumeOrRequire(t(kind));
        FiberIo io = kind == Kind.JDK ? null : FiberIo.of(t(kind));
        FiberScheduler sched = io == null ? null : io.newScheduler("rebind-" + kind, 2);
        int failures = 0;
        String first = null;
        try {
            for (int round = 0; round < 100; round++) {
                CompletableFuture<Object> outcome = new CompletableFuture<>();
                AtomicReference<Thread> acceptor = new AtomicReference<>();
                AtomicReference<AutoCloseable> server = new AtomicReference<>();
                Runnable body = () -> {
                    try {
                        acceptor.set(Thread.currentThread());
                        InetSocketAddress addr;
                        if (io == null) {
                            ServerSocketChannel s = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                            server.set(s);
                            addr = (InetSocketAddress) s.getLocalAddress();
                            try { s.accept(); outcome.complete("accepted?"); return; } catch (AsynchronousCloseException e) { /* expected */ }
                            try (ServerSocketChannel again = ServerSocketChannel.open().bind(addr)) { outcome.complete("ok"); }
                        } else {
                            FiberServerSocket s = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0));
                            server.set(s);
                            addr = s.localAddress();
                            try { s.accept(); outcome.complete("accepted?"); return; } catch (AsynchronousCloseException e) { /* expected */ }
                            try (FiberServerSocket again = io.openServer().bind(addr)) { outcome.complete("ok"); }
                        }
                    } catch (Throwable e) {
                        outcome.complete(e);
                    }
                };
                if (sched == null) Thread.ofVirtual().start(body); else sched.start(body);
                while (server.get() == null) Thread.sleep(1);
                FiberSocketContract.awaitBlocked(acceptor.get());
                server.get().close();
                Object o = outcome.get(10, TimeUnit.SECONDS);
                if (!"ok".equals(o)) {
                    failures++;
                    if (first == null) first = "round " + round + ": " + o;
                }
            }
        } finally {
            if (sched != null) {
                sched.shutdown();
                sched.awaitTermination(Duration.ofSeconds(10));
            }
        }
        assertEquals(0, failures, kind + ": rebinding right after accept failed on close: " + first);
    }
}
