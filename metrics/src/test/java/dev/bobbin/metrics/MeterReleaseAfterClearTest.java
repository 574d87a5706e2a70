package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A binding whose meters the application removed (registry.clear()) lets another scheduler or executor of
 * the same name bind there (MeterClaims drops the stale claims); the first one's later termination or close
 * must then remove nothing of the second one's meters, which have the same ids.
 */
class MeterReleaseAfterClearTest {

    @Test
    void theFirstSchedulersTerminationLeavesTheSecondOnesMeters() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        FiberScheduler first = MeterClashTest.scheduler("cleared");
        try (FiberScheduler second = MeterClashTest.scheduler("cleared")) {
            BobbinMetrics.of(first).bindTo(r);
            r.clear();
            BobbinMetrics.of(second).bindTo(r);
            int bound = r.getMeters().size();
            assertTrue(bound > 0);
            first.close();                          // terminates: its binder removes its meters
            assertEquals(bound, r.getMeters().size(), "the second scheduler's meters were removed: " + r.getMetersAsString());
            assertNotNull(r.find("executor.pool.size").tag("name", "cleared").gauge());
        } finally {
            first.close();
        }
    }

    @Test
    void closingTheFirstExecutorsBinderLeavesTheSecondOnesMeters() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared").parallelism(1).build());
             FiberExecutor first = FiberExecutor.builder().name("jobs").scheduler(shared).build();
             FiberExecutor second = FiberExecutor.builder().name("jobs").scheduler(shared).build()) {
            FiberExecutorMetrics a = BobbinMetrics.of(first);
            a.bindTo(r);
            r.clear();
            BobbinMetrics.of(second).bindTo(r);
            assertEquals(3, r.getMeters().size());
            a.close();
            assertEquals(3, r.getMeters().size(), "the second executor's meters were removed: " + r.getMetersAsString());
            // and the second executor's meters stay claimed: a third executor of that name is still refused
            try (FiberExecutor third = FiberExecutor.builder().name("jobs").scheduler(shared).build()) {
                assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(third).bindTo(r));
            }
        }
    }
}
