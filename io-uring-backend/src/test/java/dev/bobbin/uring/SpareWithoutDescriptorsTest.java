package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.Closeable;
import java.io.FileInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A spare carrier started while the process has no descriptor left cannot make its event loop (an
 * io_uring ring, an epoll instance, a selector). It runs without one, as a plain carrier whose fibers'
 * sockets live on the runtime's fallback loop, so the fibers waiting behind a stalled carrier still run;
 * the loop it could not make is said once, as a WARNING of {@code dev.bobbin.uring}, not as a carrier
 * error per spare. Before, each spare reported its failure through the scheduler's error handler and
 * left service for good, the monitor tried the next one, and the fibers behind the stall waited for it
 * to end.
 */
@Tag("reliability")
class SpareWithoutDescriptorsTest {
    static { LeakGuard.install(); }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aSpareWithoutDescriptorsRunsTheFibersBehindAStall(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        List<Throwable> carrierErrors = new CopyOnWriteArrayList<>();
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger("dev.bobbin.uring");
        Handler capture = new Handler() {
            @Override public void publish(LogRecord r) { if (r.getLevel().intValue() >= Level.WARNING.intValue()) warnings.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        logger.addHandler(capture);
        boolean parentHandlers = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);
        AtomicBoolean release = new AtomicBoolean();
        FiberScheduler s = FiberScheduler.create(io.schedulerConfig().name("spare-emfile-" + transport.id())
                .parallelism(1).maxSpareCarriers(2).stallThreshold(Duration.ofMillis(50))
                .errorHandler((carrier, e) -> carrierErrors.add(e)).build());
        try {
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = s.start(() -> {                 // keeps the only regular carrier busy
                hogging.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!release.get() && System.nanoTime() < end) Thread.onSpinWait();
            });
            hogging.await();
            boolean ran, stalledThroughout;
            boolean ranTwice;
            List<Closeable> filler = new ArrayList<>();
            try {
                try {
                    for (;;) filler.add(new FileInputStream("/dev/null"));
                } catch (IOException exhausted) {
                    // no descriptor left
                }
                Thread behind = s.start(() -> { });     // waits behind the stall: a spare must run it
                ran = behind.join(Duration.ofSeconds(10));
                CountDownLatch more = new CountDownLatch(20);
                for (int i = 0; i < 20; i++) s.start(more::countDown);
                ranTwice = more.await(10, TimeUnit.SECONDS);
                stalledThroughout = hog.isAlive();
            } finally {
                for (Closeable c : filler) c.close();
            }
            release.set(true);
            hog.join();
            assertTrue(ran, () -> "no spare ran the fiber waiting behind the stalled carrier: " + s.stats()
                    + ", carrier errors " + carrierErrors);
            assertTrue(ranTwice, "later fibers behind the stall ran too");
            assertEquals(List.of(), carrierErrors, "a spare without an event loop is no carrier error");
            assertEquals(1, warnings.size(), () -> "one WARNING for the spare's missing event loop: "
                    + warnings.stream().map(LogRecord::getMessage).toList());
            assertTrue(stalledThroughout, "the hog ended early; the test proves nothing");
        } finally {
            release.set(true);
            s.shutdownNow();
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "did not terminate: " + s.stats());
            logger.removeHandler(capture);
            logger.setUseParentHandlers(parentHandlers);
        }
    }
}
