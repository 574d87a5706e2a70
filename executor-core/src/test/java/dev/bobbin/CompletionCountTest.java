package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each fiber's completion is counted exactly once, even when a fiber parks on one carrier and is
 * resumed and ends on another before the first carrier has looked at its state. A double count made the
 * live-fiber count negative, so a scheduler never terminated and close() hung.
 */
class CompletionCountTest {
    private static final int PAIRS = 200;
    private static final int ROUND_TRIPS = 2_000;

    private volatile int turn;

    @Test
    void pingPongFibersAreCountedOnceAndTheSchedulerTerminates() throws Exception {
        FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("count").parallelism(2).build());
        try {
            for (int p = 0; p < PAIRS; p++) {
                Thread[] pair = new Thread[2];
                pair[0] = scheduler.ofVirtual().unstarted(() -> {
                    for (int i = 0; i < ROUND_TRIPS; i++) {
                        turn = 1;
                        LockSupport.unpark(pair[1]);
                        while (turn != 0) LockSupport.park();
                    }
                });
                pair[1] = scheduler.ofVirtual().unstarted(() -> {
                    for (int i = 0; i < ROUND_TRIPS; i++) {
                        while (turn != 1) LockSupport.park();
                        turn = 0;
                        LockSupport.unpark(pair[0]);
                    }
                });
                pair[1].start();
                pair[0].start();
                pair[0].join();
                pair[1].join();
            }
            SchedulerStats stats = awaitQuiescent(scheduler);
            assertEquals(2L * PAIRS, stats.fibersStarted(), "started");
            assertEquals(2L * PAIRS, stats.fibersCompleted(), "completed: " + stats);
            assertEquals(0, stats.liveFibers(), "live");
        } finally {
            scheduler.shutdown();
        }
        assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)), "the scheduler did not terminate");
    }

    /** join() returns when the fiber is terminated, a moment before its carrier counts it. */
    private static SchedulerStats awaitQuiescent(FiberScheduler scheduler) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        SchedulerStats stats = scheduler.stats();
        while (stats.liveFibers() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
            stats = scheduler.stats();
        }
        return stats;
    }
}
