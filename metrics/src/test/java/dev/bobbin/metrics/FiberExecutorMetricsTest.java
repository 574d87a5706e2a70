package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

class FiberExecutorMetricsTest {

    @Test
    void perExecutorMetersCountItsOwnTasksByName() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared").parallelism(2).build());
             FiberExecutor orders = FiberExecutor.builder().name("orders").scheduler(shared).build();
             FiberExecutor billing = FiberExecutor.builder().name("billing").scheduler(shared).build()) {
            BobbinMetrics.of(orders).bindTo(r);
            BobbinMetrics.of(billing).bindTo(r);
            BobbinMetrics.of(orders).bindTo(r);                          // twice: harmless
            for (int i = 0; i < 30; i++) orders.submit(() -> { }).get();
            for (int i = 0; i < 5; i++) billing.submit(() -> { throw new IllegalStateException("counted too"); });
            CountDownLatch release = new CountDownLatch(1);
            Future<?> running = orders.submit(() -> { release.await(); return null; });
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (r.get("executor.active").tag("name", "orders").gauge().value() != 1) {
                assertTrue(System.nanoTime() < deadline, "the running task shows as active");
                Thread.sleep(5);
            }
            release.countDown();
            running.get();
            while (r.get("executor.completed").tag("name", "billing").functionCounter().count() != 5) {
                assertTrue(System.nanoTime() < deadline, "billing's failed tasks count as completed");
                Thread.sleep(5);
            }
            // a task counts as completed once its fiber exited, just after its future completed
            while (r.get("executor.completed").tag("name", "orders").functionCounter().count() != 31) {
                assertTrue(System.nanoTime() < deadline, "orders' 31 tasks count as completed, got "
                        + r.get("executor.completed").tag("name", "orders").functionCounter().count());
                Thread.sleep(5);
            }
            assertEquals(0, r.get("executor.queued").tag("name", "orders").gauge().value());
        }
    }
}
