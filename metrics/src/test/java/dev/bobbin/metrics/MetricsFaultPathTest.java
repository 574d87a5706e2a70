package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingDelaySampling;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fault paths of the Micrometer binders: a spare carrier started before binding, binders closed while
 * their scheduler lives on, counters read from many threads at once, schedulers and executors that
 * terminate (before or after binding), and scrapes racing a shutdown.
 */
class MetricsFaultPathTest {

    /** A spare carrier that started before binding breaks neither a counter nor the scrape. */
    @Test
    void bindingAfterASpareStartedKeepsTheScrapeWorking() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare").parallelism(1)
                .stallThreshold(Duration.ofMillis(20)).maxSpareCarriers(1).build())) {
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = s.start(() -> { hogging.countDown(); while (!release.get()) Thread.onSpinWait(); });
            hogging.await();
            CountDownLatch others = new CountDownLatch(200);
            for (int i = 0; i < 200; i++) s.start(() -> { LockSupport.parkNanos(10_000); others.countDown(); });
            assertTrue(others.await(10, TimeUnit.SECONDS));
            release.set(true);
            hog.join();
            assertTrue(s.stats().spareActivations() >= 1, "a spare ran");
            PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            BobbinMetrics.of(s).bindTo(r);
            for (Meter m : r.getMeters()) {
                if (m instanceof FunctionCounter fc) {
                    try { fc.count(); } catch (RuntimeException e) { fail(m.getId() + " threw " + e, e); }
                }
            }
            assertDoesNotThrow(() -> r.scrape());
        }
    }

    /** A closed BobbinMetrics should not be kept reachable by a long-lived scheduler. */
    @Test
    void aClosedBinderIsNotRetainedByTheScheduler() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("leak").parallelism(1).build())) {
            List<WeakReference<BobbinMetrics>> refs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                BobbinMetrics m = BobbinMetrics.of(s).withPercentiles();
                m.bindTo(r);
                m.close();
                refs.add(new WeakReference<>(m));
            }
            for (int i = 0; i < 5; i++) { System.gc(); Thread.sleep(50); }
            long alive = refs.stream().filter(w -> w.get() != null).count();
            assertEquals(0, alive, alive + " of 100 closed binders still reachable (from the scheduler's termination future)");
        }
    }

    /**
     * Concurrent scrapes of several registries (a push and a pull, say) must never see a FunctionCounter go
     * down. One reader per registry: a single Micrometer FunctionCounter read by several threads at once
     * is not monotone by itself (its cumulative form stores the value in a plain field and reads it back).
     */
    @Test
    void functionCountersAreMonotoneUnderConcurrentReads() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("mono").parallelism(2).build())) {
            BobbinMetrics metrics = BobbinMetrics.of(s);
            List<FunctionCounter> counters = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                metrics.bindTo(r);
                counters.add(r.get("bobbin.fibers.started").functionCounter());
            }
            AtomicBoolean stop = new AtomicBoolean();
            Thread load = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try { s.start(() -> { }).join(); } catch (InterruptedException e) { return; }
                }
            });
            AtomicReference<String> violation = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (FunctionCounter started : counters) {
                readers.add(Thread.ofPlatform().start(() -> {
                    double last = 0;
                    while (!stop.get() && violation.get() == null) {
                        double v = started.count();
                        if (v < last) violation.compareAndSet(null, "went down from " + last + " to " + v);
                        last = Math.max(last, v);
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (violation.get() == null && System.nanoTime() < deadline) Thread.sleep(10);
            stop.set(true);
            load.join();
            for (Thread t : readers) t.join();
            assertNull(violation.get());
        }
    }

    /** An executor's meters and those of its own scheduler, bound side by side, are both there. */
    @Test
    void anExecutorAndItsOwnSchedulerCanBothBeBound() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberExecutor e = FiberExecutor.builder().name("orders").build()) {
            BobbinMetrics.of(e).bindTo(r);
            BobbinMetrics.of(e.scheduler()).bindTo(r);
            assertEquals(1, r.find("executor.queued").tag("name", "orders").gauges().size(), "the executor's");
            assertEquals(1, r.find("executor.queued").tag("name", e.scheduler().name()).gauges().size(), "its scheduler's");
            assertNotEquals("orders", e.scheduler().name());
        }
    }

    /** Binding a terminated scheduler registers nothing and does not throw. */
    @Test
    void bindingATerminatedSchedulerIsHarmless() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dead").parallelism(1).build());
        s.close();
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        BobbinMetrics.of(s).bindTo(r);
        assertEquals(0, r.getMeters().size());
    }

    /** A registration that fails halfway (Prometheus tag-key conflict) must not leave meters nobody removes. */
    @Test
    void aFailedBindLeavesNoOrphanMeters() throws Exception {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("orphan").parallelism(1).build());
        try (FiberExecutor e = FiberExecutor.builder().name("other").build()) {
            BobbinMetrics.of(e).bindTo(r);           // executor.active{name}
            BobbinMetrics m = BobbinMetrics.of(s, Tags.of("env", "prod"));   // executor.active{name,env}
            Throwable thrown = null;
            try { m.bindTo(r); } catch (Throwable t) { thrown = t; }
            s.close();
            long left = r.getMeters().stream().filter(x -> "orphan".equals(x.getId().getTag("name"))).count();
            assertEquals(0, left, "meters of the terminated scheduler left in the registry; bindTo threw " + thrown);
        }
    }

    /** Prometheus scrapes racing a shutdown and the termination hook's meter removal. */
    @Test
    void scrapesDuringShutdownNeverThrow() throws Exception {
        for (int round = 0; round < 20; round++) {
            PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("sd" + round).parallelism(4)
                    .schedulingDelaySampling(SchedulingDelaySampling.everyFiber()).build());
            BobbinMetrics.of(s).withHistogram().bindTo(r);
            for (int i = 0; i < 1000; i++) s.start(() -> LockSupport.parkNanos(100_000));
            AtomicReference<Throwable> err = new AtomicReference<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread scraper = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try { r.scrape(); } catch (Throwable t) { err.compareAndSet(null, t); }
                }
            });
            s.shutdown();
            assertTrue(s.awaitTermination(10, TimeUnit.SECONDS));
            stop.set(true);
            scraper.join();
            assertNull(err.get());
            assertEquals(0, r.getMeters().size(), "meters removed at termination");
        }
    }

    /** A terminated executor's meters are removed from the registry. */
    @Test
    void aClosedExecutorsMetersAreRemoved() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared").parallelism(1).build())) {
            for (int i = 0; i < 50; i++) {
                FiberExecutor e = FiberExecutor.builder().name("job-" + i).scheduler(shared).build();
                BobbinMetrics.of(e).bindTo(r);
                e.submit(() -> { }).get();
                e.close();
            }
            long left = r.getMeters().stream().filter(m -> m.getId().getTag("name").startsWith("job-")).count();
            assertEquals(0, left, left + " meters of 50 closed executors are still registered");
        }
    }
}
