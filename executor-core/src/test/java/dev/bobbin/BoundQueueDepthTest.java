package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link SchedulerStats#queuedFibers()} promises the runnable fibers waiting anywhere; fibers bound to a
 * carrier (THREAD_PER_CORE, startOn) wait in that carrier's inbox and must be counted too.
 */
@Timeout(60)
class BoundQueueDepthTest {

    private static void check(SchedulingPolicy policy, boolean viaStartOn) throws Exception {
        SchedulerConfig config = SchedulerConfig.builder().name("bound-depth-" + policy).parallelism(1).policy(policy)
                .stallThreshold(Duration.ZERO).build();
        try (FiberScheduler s = FiberScheduler.create(config)) {
            AtomicBoolean go = new AtomicBoolean();
            CountDownLatch running = new CountDownLatch(1);
            Thread hog = s.start(() -> {                 // holds the only carrier without a blocking point
                running.countDown();
                while (!go.get()) Thread.onSpinWait();
            });
            running.await();
            int n = 10;
            for (int i = 0; i < n; i++) {
                if (viaStartOn) s.startOn(0, () -> { });
                else s.start(() -> { });
            }
            SchedulerStats st = s.stats();
            go.set(true);
            hog.join();
            assertTrue(st.queuedFibers() >= n, "queued fibers: " + st.queuedFibers() + " of " + n + " runnable; " + st);
        }
    }

    @Test
    void threadPerCoreFibersStartedFromOutsideAreCountedAsQueued() throws Exception {
        check(SchedulingPolicy.THREAD_PER_CORE, false);
    }

    @Test
    void startOnFibersAreCountedAsQueued() throws Exception {
        check(SchedulingPolicy.WORK_STEALING, true);
    }
}
