package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A bind made with an interrupt pending binds and leaves the interrupt pending, as
 * {@code ServerSocketChannel.bind} does in a virtual thread (the JDK is the control): binding is not an
 * interruptible operation there, so it must not close the server here.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BindWithPendingInterruptTest {
    enum Kind { JDK, IO_URING, EPOLL, NIO }

    record Outcome(String bind, boolean open, boolean stillInterrupted) { }

    private interface Bind {
        void run() throws Exception;
    }

    /** Binds with the caller's interrupt set: "bound", or the simple name of what it threw. */
    private static String bindWithInterruptPending(Bind bind) {
        Thread.currentThread().interrupt();
        try {
            bind.run();
            return "bound";
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    @ParameterizedTest @EnumSource(Kind.class)
    void aPendingInterruptDoesNotStopABind(Kind kind) throws Exception {
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        if (kind == Kind.JDK) {
            Thread.ofVirtual().start(() -> {
                try (ServerSocketChannel s = ServerSocketChannel.open()) {
                    String r = bindWithInterruptPending(() -> s.bind(loopback));
                    f.complete(new Outcome(r, s.isOpen(), Thread.interrupted()));
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
        } else {
            IoTransport t = IoTransport.valueOf(kind.name());
            TransportSelectionTest.assumeOrRequire(t);
            FiberIo io = FiberIo.of(t);
            try (FiberScheduler sched = io.newScheduler("bind-interrupt-" + t.id(), 2)) {
                sched.start(() -> {
                    try (FiberServerSocket s = io.openServer()) {
                        String r = bindWithInterruptPending(() -> s.bind(loopback));
                        boolean interrupted = Thread.interrupted();
                        boolean open = !s.isClosed();
                        if (open) {                           // and it really listens
                            try (Socket c = new Socket()) {
                                c.connect(s.localAddress(), 5000);
                                s.accept(Duration.ofSeconds(5)).close();
                            }
                        }
                        f.complete(new Outcome(r, open, interrupted));
                    } catch (Throwable e) {
                        f.completeExceptionally(e);
                    }
                });
                Outcome o = f.get(20, TimeUnit.SECONDS);
                assertEquals(new Outcome("bound", true, true), o, kind.name());
                return;
            }
        }
        assertEquals(new Outcome("bound", true, true), f.get(20, TimeUnit.SECONDS), "control");
    }
}
