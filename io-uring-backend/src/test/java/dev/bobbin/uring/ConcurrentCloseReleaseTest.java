package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * FiberServerSocket.close() promises, as ServerSocket.close, to return once the listening descriptor is
 * closed, "so the address can be bound again at once". A close() that finds another close() in progress
 * (the JDK's second close waits on the channel's close lock) must keep that promise too; it returned at
 * once, with the address still taken.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConcurrentCloseReleaseTest {

    @SuppressWarnings("try")                      // the re-bound channel is held, not used
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aSecondCloseReturnsOnlyOnceTheAddressIsFree(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        FiberIo io = FiberIo.of(t);
        // one carrier, no spares: while a fiber spins on it, its loop runs nothing (the first close waits)
        try (FiberScheduler sched = FiberScheduler.create(io.schedulerConfig().name("close2-" + t)
                .parallelism(1).maxSpareCarriers(0).build())) {
            AtomicReference<FiberServerSocket> server = new AtomicReference<>();
            sched.start(() -> {
                try {
                    server.set(io.openServer().bind(new InetSocketAddress("127.0.0.1", 0)));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }).join();
            FiberServerSocket s = server.get();
            InetSocketAddress addr = s.localAddress();

            AtomicBoolean spin = new AtomicBoolean(true);
            CountDownLatch spinning = new CountDownLatch(1);
            sched.start(() -> {                      // holds the only carrier, so its loop is not run
                spinning.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                while (spin.get() && System.nanoTime() < end) Thread.onSpinWait();
            });
            assertTrue(spinning.await(10, TimeUnit.SECONDS));
            Thread first = Thread.ofPlatform().start(s::close);   // waits for the busy loop
            while (!s.isClosed()) Thread.onSpinWait();

            s.close();                                // a second close: must also wait for the release
            try (ServerSocketChannel again = ServerSocketChannel.open().bind(addr)) {
                // the address is free, as close() promised
            } catch (java.net.BindException e) {
                fail(t + ": a second close() returned while the listening descriptor was still open: " + e);
            } finally {
                spin.set(false);
                first.join();
            }
        }
    }
}
