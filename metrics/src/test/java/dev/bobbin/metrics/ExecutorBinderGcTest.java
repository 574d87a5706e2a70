package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The class javadoc's own idiom, {@code BobbinMetrics.of(orders).bindTo(registry)}, keeps no reference to
 * the binder. The executor's termination hook holds it only weakly, so after a GC nothing removes the
 * meters when the executor terminates.
 */
class ExecutorBinderGcTest {
    @Test
    void metersOfAnUnreferencedBinderAreRemovedWhenTheExecutorTerminates() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared-gc").parallelism(1).build())) {
            FiberExecutor e = FiberExecutor.builder().name("gc-job").scheduler(shared).build();
            BobbinMetrics.of(e).bindTo(r);                 // as documented: the binder is not kept
            e.submit(() -> { }).get();
            for (int i = 0; i < 5; i++) { System.gc(); Thread.sleep(20); }
            e.close();
            long left = r.getMeters().stream().filter(m -> "gc-job".equals(m.getId().getTag("name"))).count();
            assertEquals(0, left, left + " meters of the closed executor are still registered");
        }
    }

    /** Control: the scheduler binder is kept reachable by its strong gauges, so it survives a GC. */
    @Test
    void schedulerBinderSurvivesGc() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("gc-sched").parallelism(1).build());
        BobbinMetrics.of(s).bindTo(r);
        for (int i = 0; i < 5; i++) { System.gc(); Thread.sleep(20); }
        s.close();
        assertEquals(0, r.getMeters().stream().filter(m -> "gc-sched".equals(m.getId().getTag("name"))).count());
    }
}
