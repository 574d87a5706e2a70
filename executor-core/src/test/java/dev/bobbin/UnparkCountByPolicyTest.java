package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * fiberUnparks() is "submissions minus starts", but a bound fiber's submission (scheduleBound: startOn,
 * THREAD_PER_CORE, a wake-up of a bound fiber) counts neither as an outside submission nor as a local
 * schedule, while its start still counts: under THREAD_PER_CORE the unparks read 0 however often fibers
 * slept, and outsideSubmissions misses every task submitted from outside.
 */
class UnparkCountByPolicyTest {
    static void run(SchedulingPolicy policy) throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("unparks-" + policy)
                .parallelism(policy == SchedulingPolicy.SINGLE_THREAD ? 1 : 2).policy(policy).build())) {
            List<Thread> fibers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                fibers.add(s.start(() -> {
                    try { Thread.sleep(1); Thread.sleep(1); } catch (InterruptedException e) { throw new RuntimeException(e); }
                }));
            }
            for (Thread f : fibers) f.join();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (s.stats().fibersCompleted() < 50) {
                assertTrue(System.nanoTime() < deadline);
                Thread.sleep(2);
            }
            SchedulerStats st = s.stats();
            assertTrue(st.fiberParks() >= 80, policy + ": parks " + st.fiberParks());
            assertEquals(st.fiberParks(), st.fiberUnparks(), policy + ": every park was followed by an unpark; " + st);
            assertTrue(st.outsideSubmissions() >= 50, policy + ": 50 fibers were started from outside: " + st.outsideSubmissions());
        }
    }

    @Test void workStealing() throws Exception { run(SchedulingPolicy.WORK_STEALING); }
    @Test void threadPerCore() throws Exception { run(SchedulingPolicy.THREAD_PER_CORE); }
    @Test void singleThread() throws Exception { run(SchedulingPolicy.SINGLE_THREAD); }
}
