package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Under THREAD_PER_CORE no carrier can run another's fibers: a carrier woken for a fiber bound to it must
 * not, on finding that work, wake a third carrier because some busy carrier has a backlog that only the
 * busy one may run (the woken carrier finds nothing and parks again: two system calls per wake, for nothing).
 */
@Timeout(120)
class ThreadPerCoreIdleWakeTest {

    @Test
    void aBackloggedCarrierDoesNotMakeEveryWakeOfAnotherWakeAThird() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("tpc-idle-wake").parallelism(3)
                .policy(SchedulingPolicy.THREAD_PER_CORE).stallThreshold(Duration.ZERO).build())) {
            AtomicBoolean release = new AtomicBoolean();
            CountDownLatch backlog = new CountDownLatch(1);
            Thread busy = s.startOn(0, () -> {
                for (int i = 0; i < 8; i++) s.startLocal(() -> { });   // queued on carrier 0, behind this fiber
                backlog.countDown();
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!release.get() && System.nanoTime() < deadline) Thread.onSpinWait();
            });
            backlog.await();
            Thread.sleep(50);                                // carrier 2 has parked
            long before = s.stats().carriers().get(2).wakeups();
            int rounds = 200;
            for (int i = 0; i < rounds; i++) {
                s.startOn(1, () -> { }).join();              // wakes carrier 1 for a fiber bound to it
                Thread.sleep(1);
            }
            long woken = s.stats().carriers().get(2).wakeups() - before;
            release.set(true);
            busy.join();
            assertTrue(woken < rounds / 10, "idle carrier 2 was woken " + woken + " times for work it cannot run");
        }
    }
}
