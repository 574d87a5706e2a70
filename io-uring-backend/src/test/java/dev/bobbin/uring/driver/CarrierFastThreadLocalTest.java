package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.IoTransport;
import dev.bobbin.uring.TransportSelectionTest;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A carrier's event loop runs on a thread Netty treats as one of its own fast-thread-local threads
 * ({@link IoCarrierDriver#runCarrier}), so Netty recycles its per-write objects and keeps its allocators'
 * per-thread caches there (Netty 4.2 allocates them anew for each operation on any other thread); the
 * fibers themselves stay plain threads to Netty.
 */
class CarrierFastThreadLocalTest {

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aCarriersLoopRunsAsANettyFastThreadLocalThreadAndItsFibersDoNot(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        CompletableFuture<String> onLoop = new CompletableFuture<>();
        CompletableFuture<Boolean> onFiber = new CompletableFuture<>();
        try (FiberScheduler scheduler = io.newScheduler("ftl-" + transport.id(), 2)) {
            scheduler.startOn(1, () -> {
                onFiber.complete(FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals());
                IoCarrierDriver d = IoCarrierDriver.current(RuntimeDrivers.of(io));
                d.loop().execute(() -> onLoop.complete(Thread.currentThread().isVirtual() + " "
                        + FastThreadLocalThread.currentThreadHasFastThreadLocal() + " "
                        + FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals()));
            }).join();
            assertEquals("false true true", onLoop.get(30, TimeUnit.SECONDS),
                    "the loop task ran on a platform thread that Netty counts as its own");
        }
        assertFalse(onFiber.get(), "a fiber is a thread of its own to Netty");
    }
}
