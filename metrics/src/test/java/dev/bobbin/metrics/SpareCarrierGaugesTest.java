package dev.bobbin.metrics;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The carrier gauges while a spare carrier serves a stall and after it: the spare counts in the pool
 * while in service, and no gauge leaves the range the pool size gives it.
 */
@Timeout(60)
class SpareCarrierGaugesTest {

    @Test
    void carrierGaugesStayWithinThePoolWhileASpareServes() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare-gauges").parallelism(1)
                .maxSpareCarriers(1).stallThreshold(Duration.ofMillis(5)).build())) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            BobbinMetrics.of(s).bindTo(registry);
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
            List<String> bad = new ArrayList<>();
            double maxPool = 0;
            for (int i = 0; i < 400; i++) {
                if (i == 200) release.set(true);                // the stall ends: the spare parks, then retires
                if (i < 200 && i % 20 == 0) {
                    s.start(() -> {                             // the spare runs fibers
                        long t = System.nanoTime();
                        while (System.nanoTime() - t < 2_000_000) Thread.onSpinWait();
                    });
                }
                double poolBefore = gauge(registry, "executor.pool.size");
                double active = gauge(registry, "executor.active");
                double running = gauge(registry, "executor.running");
                double parked = gauge(registry, "bobbin.carriers.parked");
                double pool = Math.max(poolBefore, gauge(registry, "executor.pool.size"));
                maxPool = Math.max(maxPool, pool);
                if (active > pool || running < 0 || running > pool) {
                    bad.add("pool.size=" + pool + " active=" + active + " running=" + running + " parked=" + parked);
                }
                Thread.sleep(1);
            }
            assertEquals(List.of(), bad, "gauges outside the pool");
            assertEquals(2.0, maxPool, "the spare in service never counted in executor.pool.size");
        }
    }

    private static double gauge(SimpleMeterRegistry registry, String name) {
        return registry.get(name).gauge().value();
    }
}
