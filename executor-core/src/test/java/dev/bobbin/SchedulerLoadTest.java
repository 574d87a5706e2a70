package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.*;

/** Large fiber counts, stealing, and the statistics that describe them. */
class SchedulerLoadTest {

    @Test
    void oneMillionShortFibersAllComplete() throws Exception {
        int outside = 500_000, inside = 500_000;
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("million").build())) {
            LongAdder ran = new LongAdder();
            CountDownLatch done = new CountDownLatch(outside + inside);
            Runnable task = () -> {
                ran.increment();
                done.countDown();
            };
            // half from a platform thread (injection queue), half from a fiber (local queues + stealing)
            Thread spawner = scheduler.start(() -> {
                for (int i = 0; i < inside; i++) {
                    scheduler.start(task);
                    if ((i & 1023) == 0) FiberScheduler.checkpoint();   // a long loop yields, as the docs ask
                }
            });
            for (int i = 0; i < outside; i++) scheduler.start(task);
            spawner.join();
            assertTrue(done.await(2, TimeUnit.MINUTES), "fibers lost: " + done.getCount() + " never ran");
            assertEquals(outside + inside, ran.sum());
            SchedulerStats stats = awaitQuiescent(scheduler);
            assertEquals(outside + inside + 1, stats.fibersStarted());
            assertEquals(stats.fibersStarted(), stats.fibersCompleted());
            assertEquals(0, stats.liveFibers());
        }
    }

    @Test
    void workSpawnedOnABusyCarrierIsStolenByAnother() throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("steal").parallelism(2).build())) {
            int children = 64;
            Set<Integer> childCarriers = ConcurrentHashMap.newKeySet();
            AtomicInteger parentCarrier = new AtomicInteger(-2);
            CountDownLatch childrenDone = new CountDownLatch(children);
            Thread parent = scheduler.start(() -> {
                parentCarrier.set(FiberScheduler.currentCarrierIndex());
                for (int i = 0; i < children; i++) {
                    scheduler.start(() -> {
                        childCarriers.add(FiberScheduler.currentCarrierIndex());
                        spin(Duration.ofMillis(2));
                        childrenDone.countDown();
                    });
                }
                // keep this carrier busy without blocking: only another carrier can run the children now
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (childrenDone.getCount() > 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            });
            parent.join();
            assertEquals(0, childrenDone.getCount(), "children did not finish while the parent's carrier was busy");
            assertFalse(childCarriers.contains(parentCarrier.get()),
                    "children ran on the busy parent carrier " + parentCarrier.get() + ": " + childCarriers);
            assertTrue(scheduler.stats().steals() > 0, "no steal counted: " + scheduler.stats());
            assertTrue(scheduler.stats().stolenTasks() >= scheduler.stats().steals());
        }
    }

    @Test
    void statsReturnToIdleAfterWork() throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("idle").parallelism(2).build())) {
            CountDownLatch done = new CountDownLatch(10_000);
            for (int i = 0; i < 10_000; i++) scheduler.start(done::countDown);
            assertTrue(done.await(30, TimeUnit.SECONDS));
            SchedulerStats stats = awaitQuiescent(scheduler);
            assertEquals(0, stats.injectionQueueDepth());
            stats.carriers().forEach(c -> assertEquals(0, c.queueDepth(), c.toString()));
            assertEquals(10_000, stats.fibersCompleted());
            assertEquals(2, stats.parkedCarriers(), "idle carriers should park: " + stats);
            assertEquals(10_000, stats.outsideSubmissions());
        }
    }

    /** Waits until every started fiber completed and both carriers parked. */
    static SchedulerStats awaitQuiescent(FiberScheduler scheduler) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        SchedulerStats stats = scheduler.stats();
        while (System.nanoTime() < deadline) {
            stats = scheduler.stats();
            if (stats.liveFibers() == 0 && stats.parkedCarriers() == stats.parallelism()) return stats;
            Thread.sleep(5);
        }
        return stats;
    }

    static void spin(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
