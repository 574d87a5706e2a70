package dev.bobbin;

import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A spare carrier whose driver fails to open stays out of service: its failure is reported, it does not
 * count as a spare in service, and the stall monitor goes on to the next spare while every carrier is
 * stalled with work waiting.
 */
@Tag("reliability")
class SpareOpenFailureTest {

    @Test
    void aSpareWhoseDriverFailsToOpenDoesNotKeepTheNextSpareFromStarting() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CarrierDriverFactory parking = CarrierDriverFactory.parking();
        CarrierDriverFactory firstSpareFails = ctx -> {
            if (ctx.carrierIndex() == 1) throw new IllegalStateException("no ring for spare carrier 1");
            return parking.open(ctx);
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare-open-fails").parallelism(1)
                .maxSpareCarriers(2).stallThreshold(Duration.ofMillis(50)).driverFactory(firstSpareFails)
                .errorHandler((t, e) -> errors.add(e)).build());
        AtomicBoolean release = new AtomicBoolean();
        try {
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = s.start(() -> {
                hogging.countDown();
                StallProtectionTest.spinUntilReleased(release, System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            });
            hogging.await();
            Thread behind = s.start(() -> { });              // waits in the injection queue: a spare must run it
            boolean ran = behind.join(Duration.ofSeconds(5));
            boolean hogStillRunning = hog.isAlive();
            int activeSpares = s.stats().activeSpareCarriers();
            release.set(true);
            hog.join();
            assertTrue(hogStillRunning, "the hog ended early; the test proves nothing");
            assertEquals(1, errors.size(), () -> "the failed spare is reported: " + errors);
            assertTrue(ran, "no spare ran the fiber waiting behind the stalled carrier: " + s.stats());
            assertTrue(activeSpares <= 1, "a spare that never opened its driver counts as in service: " + activeSpares);
        } finally {
            release.set(true);
            s.shutdownNow();
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "did not terminate: " + s.stats());
        }
    }
}
