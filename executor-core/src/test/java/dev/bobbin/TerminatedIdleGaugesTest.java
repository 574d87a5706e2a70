package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

/** A terminated scheduler has no carrier left: none searches for work, none is parked. */
@Timeout(60)
class TerminatedIdleGaugesTest {

    @Test
    void noCarrierSearchesOnceTerminated() throws Exception {
        for (SchedulingPolicy policy : SchedulingPolicy.values()) {
            FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("gauges-" + policy).policy(policy)
                    .parallelism(policy == SchedulingPolicy.SINGLE_THREAD ? 1 : 2).build());
            for (int i = 0; i < 10; i++) s.start(() -> { }).join();
            s.close();
            assertTrue(s.isTerminated());
            SchedulerStats st = s.stats();
            assertEquals(0, st.searchingCarriers(), policy + ": " + st);
            assertEquals(0, st.parkedCarriers(), policy + ": " + st);
        }
    }
}
