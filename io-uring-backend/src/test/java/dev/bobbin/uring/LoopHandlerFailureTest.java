package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.driver.IoCarrierDriver;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoRegistration;
import io.netty.channel.ManualIoEventLoop;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A carrier whose event loop's I/O handler keeps throwing an Error (reported to the scheduler's error
 * handler; the carrier goes on) still runs the loop's tasks and timers: a connect with a timeout pending
 * on that loop fails with its SocketTimeoutException instead of waiting forever. Netty's loop skips its
 * task queue, and with it the timers that have come due, on a pass whose handler threw, so the connect's
 * timeout never fired. The test swaps the carrier's handler for one that fails while armed (a field
 * Netty keeps private, written on the loop's own thread).
 */
class LoopHandlerFailureTest {
    static { LeakGuard.install(); }

    /** Netty's handler, failing every pass while {@link #failing} is set. */
    static final class FailingHandler implements IoHandler {
        final IoHandler netty;
        volatile boolean failing;

        FailingHandler(IoHandler netty) { this.netty = netty; }

        @Override public void initialize() { netty.initialize(); }
        @Override public int run(IoHandlerContext context) {
            if (failing) throw new Error("test: the event loop's handler fails");
            return netty.run(context);
        }
        @Override public void prepareToDestroy() { netty.prepareToDestroy(); }
        @Override public void destroy() { netty.destroy(); }
        @Override public IoRegistration register(IoHandle handle) throws Exception { return netty.register(handle); }
        @Override public void wakeup() { netty.wakeup(); }
        @Override public boolean isCompatible(Class<? extends IoHandle> handleType) { return netty.isCompatible(handleType); }
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aTimedConnectTimesOutWhileItsLoopKeepsFailing(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        List<Throwable> carrierErrors = new CopyOnWriteArrayList<>();
        List<Socket> backlog = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("loop-error-" + transport.id())
                     .parallelism(1).errorHandler((carrier, e) -> carrierErrors.add(e)).build())) {
            InetSocketAddress addr = (InetSocketAddress) full.getLocalSocketAddress();
            for (;;) {                                   // fill the listener's backlog: the next connect stays pending
                Socket s = new Socket();
                backlog.add(s);
                try {
                    s.connect(addr, 200);
                } catch (SocketTimeoutException pending) {
                    break;
                }
            }
            CompletableFuture<FailingHandler> handler = new CompletableFuture<>();
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            scheduler.start(() -> {
                try {
                    IoCarrierDriver driver = IoCarrierDriver.current(io.drivers);
                    ManualIoEventLoop loop = (ManualIoEventLoop) driver.loop();
                    Field f = ManualIoEventLoop.class.getDeclaredField("handler");
                    f.setAccessible(true);
                    loop.execute(() -> {                 // on the loop's thread, between its passes
                        try {
                            FailingHandler h = new FailingHandler((IoHandler) f.get(loop));
                            f.set(loop, h);
                            handler.complete(h);
                        } catch (ReflectiveOperationException e) {
                            handler.completeExceptionally(e);
                        }
                    });
                    FailingHandler h = handler.get();
                    try (FiberSocket c = io.openSocket()) {
                        h.failing = true;                // from the next pass on, which the connect's own task starts
                        c.connect(addr, Duration.ofMillis(500));
                        outcome.complete("connected");
                    }
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            Object result;
            try {
                result = outcome.get(20, TimeUnit.SECONDS);     // hang guard
            } catch (java.util.concurrent.TimeoutException hung) {
                result = "still waiting: the connect's timeout never fired";
            } finally {
                if (handler.isDone() && !handler.isCompletedExceptionally()) handler.join().failing = false;
            }
            assertInstanceOf(SocketTimeoutException.class, result, String.valueOf(result));
            assertFalse(carrierErrors.isEmpty(), "the handler's failures reach the scheduler's error handler");
            for (Throwable e : carrierErrors) assertEquals("test: the event loop's handler fails", e.getMessage());
        } finally {
            for (Socket s : backlog) s.close();
        }
    }
}
