package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(120)
class StatsDriftTest {
    @Test
    void fiberParksNeverGoesNegative() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("drift").parallelism(2).build())) {
            int n = 300_000;
            CountDownLatch done = new CountDownLatch(n);
            AtomicBoolean stop = new AtomicBoolean();
            long[] min = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
            String[] worst = new String[1];
            Thread reader = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    SchedulerStats st = s.stats();
                    if (st.fiberParks() < min[0]) { min[0] = st.fiberParks(); worst[0] = st.toString(); }
                    min[1] = Math.min(min[1], st.liveFibers());
                    for (var c : st.carriers()) min[2] = Math.min(min[2], c.tasksRun() - c.fibersCompleted());
                }
            });
            for (int i = 0; i < n; i++) s.start(done::countDown);
            assertTrue(done.await(60, TimeUnit.SECONDS));
            stop.set(true);
            reader.join();
            assertTrue(min[0] >= 0, "fiberParks went to " + min[0] + ": " + worst[0]);
            assertTrue(min[1] >= 0, "liveFibers went to " + min[1]);
            assertTrue(min[2] >= 0, "a carrier's runs minus completions went to " + min[2]);
        }
    }
    /**
     * The metrics keep the highest value they saw of the two derived counts, so a snapshot must never read
     * them above their true value. The fibers here never park and are never unparked; only the
     * scheduler's own (the JDK's pollers) do, before and after, so no reading during the run may exceed
     * the quiet reading at its end (a carrier counts a run once it ended, with its completion).
     */
    @Test
    void derivedParkAndUnparkCountsNeverReadAboveTheTruth() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("drift-high").parallelism(2)
                .maxSpareCarriers(0).build())) {
            int n = 300_000;
            CountDownLatch done = new CountDownLatch(n);
            AtomicBoolean stop = new AtomicBoolean();
            long[] max = {0, 0};
            Thread reader = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    SchedulerStats st = s.stats();
                    max[0] = Math.max(max[0], st.fiberParks());
                    max[1] = Math.max(max[1], st.fiberUnparks());
                }
            });
            for (int i = 0; i < n; i++) s.start(done::countDown);
            assertTrue(done.await(60, TimeUnit.SECONDS));
            stop.set(true);
            reader.join();
            SchedulerStats quiet = quietStats(s);
            assertTrue(max[0] <= quiet.fiberParks(), "fiberParks read " + max[0] + ", then " + quiet.fiberParks() + " at rest");
            assertTrue(max[1] <= quiet.fiberUnparks(), "fiberUnparks read " + max[1] + ", then " + quiet.fiberUnparks() + " at rest");
        }
    }

    /** A snapshot once the carriers stopped running fibers: two in a row with the same runs. */
    private static SchedulerStats quietStats(FiberScheduler s) throws InterruptedException {
        SchedulerStats last = s.stats();
        for (int i = 0; i < 500; i++) {
            Thread.sleep(10);
            SchedulerStats next = s.stats();
            if (next.tasksRun() == last.tasksRun() && next.fibersCompleted() == last.fibersCompleted()) return next;
            last = next;
        }
        throw new AssertionError("the scheduler never came to rest: " + last);
    }
}
