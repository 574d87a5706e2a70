package dev.bobbin.scheduler;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.scheduler.queue.RunQueue;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The owner-only rules are checked by assertions (tests run with {@code -ea}): a carrier's counters and
 * the owner end of its run queue refuse other threads, and accept the carrier and its fibers.
 */
class OwnerOnlyAssertionsTest {

    @Test
    void testsRunWithAssertionsOn() {
        boolean on = false;
        assert on = true;
        assertTrue(on, "run the tests with -ea: the owner-only rules are assertions");
    }

    @Test
    void aRunQueuesOwnerEndRefusesOtherThreads() {
        RunQueue q = new RunQueue(4);
        Thread owner = Thread.currentThread();
        q.assertOwnerWith(() -> Thread.currentThread() == owner);
        assertTrue(q.local().offer(() -> { }));                  // the owner may
        AssertionError e = assertThrows(AssertionError.class, () -> runElsewhere(() -> q.local().poll()));
        assertTrue(e.getMessage().contains("owner"), e.getMessage());
        assertNotNull(q.local().poll());
        assertNotNull(q.steal(), "thieves use the shared handle, which has no such rule");
    }

    @Test
    void aCarriersCountersRefuseOtherThreadsButNotItsFibers() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("owner-only").parallelism(1).build())) {
            CompletableFuture<Carrier> carrier = new CompletableFuture<>();
            Thread f = s.start(() -> {
                Carrier c = (Carrier) JdkVirtualThreads.currentCarrier();
                c.counters.increment(CarrierCounters.LOCAL_SCHEDULES);  // a fiber mounted on it may
                carrier.complete(c);
            });
            f.join();
            Carrier c = carrier.get(10, TimeUnit.SECONDS);
            AssertionError e = assertThrows(AssertionError.class, () -> c.counters.increment(CarrierCounters.LOCAL_SCHEDULES));
            assertTrue(e.getMessage().contains("owner only"), e.getMessage());
            assertThrows(AssertionError.class, () -> c.counters.set(CarrierCounters.PARKED_SINCE, 1));
        }
    }

    /**
     * A spare carrier whose thread fails to start is counted out by the monitor thread without touching
     * the carrier's counters (which only the carrier may write), so the scheduler still terminates.
     */
    @Test
    void aSpareThatNeverStartedIsCountedOutAndTheSchedulerTerminates() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare-fail").parallelism(1)
                .maxSpareCarriers(1).build());
        CompletableFuture<Carrier> carrier = new CompletableFuture<>();
        s.start(() -> carrier.complete((Carrier) JdkVirtualThreads.currentCarrier())).join();
        CarrierPool pool = carrier.get(10, TimeUnit.SECONDS).pool;
        assertTrue(pool.spareStarting(), "counted as starting, as Carrier.activate does before start()");
        pool.spareNeverStarted();                              // what activate does when start() throws
        s.shutdown();
        assertTrue(s.awaitTermination(java.time.Duration.ofSeconds(10)), "terminates");
    }

    /** Runs {@code r} on another platform thread and rethrows what it threw. */
    private static void runElsewhere(Runnable r) throws Throwable {
        Throwable[] thrown = new Throwable[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                r.run();
            } catch (Throwable x) {
                thrown[0] = x;
            }
        });
        t.join();
        if (thrown[0] != null) throw thrown[0];
    }
}
