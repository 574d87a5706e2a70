package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/** What the stats say of a spare carrier once it has retired: out of service is not awake. */
@Timeout(60)
class SpareAccountingTest {

    @Test
    void aRetiredSpareIsNotCountedBusy() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare-busy").parallelism(1)
                .maxSpareCarriers(1).stallThreshold(Duration.ofMillis(5)).build())) {
            AtomicBoolean release = new AtomicBoolean();
            CountDownLatch hogging = new CountDownLatch(1);
            s.start(() -> {
                hogging.countDown();
                while (!release.get()) Thread.onSpinWait();
            });
            assertTrue(hogging.await(30, TimeUnit.SECONDS));
            CountDownLatch onSpare = new CountDownLatch(1);
            s.start(() -> { if (FiberScheduler.currentCarrierIndex() == 1) onSpare.countDown(); });
            assertTrue(onSpare.await(30, TimeUnit.SECONDS), "no spare ran the fiber");
            release.set(true);                                // the stall ends: the spare retires
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (s.stats().activeSpareCarriers() != 0) {
                assertTrue(System.nanoTime() < deadline, "the spare never retired: " + s.stats());
                Thread.sleep(10);
            }
            long t1 = System.nanoTime();
            SchedulerStats.CarrierStats before = s.stats().carriers().get(1);
            Thread.sleep(300);
            SchedulerStats after = s.stats();
            long t2 = System.nanoTime();
            SchedulerStats.CarrierStats spare = after.carriers().get(1);
            assertEquals(0, after.activeSpareCarriers(), "the spare came back into service: " + after);
            assertEquals(before.parks(), spare.parks(), "the spare came back into service between the reads");
            assertTrue(spare.busyNanos() - before.busyNanos() < (t2 - t1) / 2, "a retired spare counted "
                    + (spare.busyNanos() - before.busyNanos()) / 1_000_000 + " ms busy in " + (t2 - t1) / 1_000_000 + " ms");
        }
    }
}
