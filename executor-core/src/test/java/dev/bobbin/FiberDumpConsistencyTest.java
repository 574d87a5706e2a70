package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(120)
class FiberDumpConsistencyTest {

    @Test
    void anEntryNeverPutsAWaitingFiberOnACarrier() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump-consistency").parallelism(2)
                .trackFibers(true).build())) {
            CountDownLatch never = new CountDownLatch(1);
            for (int i = 0; i < 2000; i++) {
                s.start(() -> {
                    try { never.await(); } catch (InterruptedException e) { }
                });
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> togglers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                togglers.add(s.start(() -> {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        while (System.nanoTime() - t0 < 100_000) Thread.onSpinWait();
                        LockSupport.parkNanos(100_000);
                    }
                }));
            }
            List<String> bad = new ArrayList<>();
            for (int d = 0; d < 100 && bad.isEmpty(); d++) {
                for (FiberDump.Entry e : s.dumpFibers().fibers()) {
                    if (e.carrier() >= 0 && e.state() != Thread.State.RUNNABLE) {
                        bad.add(e.name() + " " + e.state() + " on carrier " + e.carrier()
                                + " sinceLastRun=" + e.sinceLastRunNanos() + " top=" + (e.stackTrace().isEmpty() ? "-" : e.stackTrace().get(0)));
                    }
                }
            }
            stop.set(true);
            never.countDown();
            for (Thread t : togglers) t.join();
            assertEquals(List.of(), bad, "entries that say a fiber is both mounted and waiting");
        }
    }
    /**
     * A fiber that leaves its carrier by yielding while the dump reads the others stays RUNNABLE, but
     * queued: it must not be listed on the carrier it had when the dump began (here it never runs again
     * during the dump: the fiber it started just before it yielded runs first and spins until the end).
     * The registry lists fibers in its own order, so a dump may read the yielder before its yield; the case
     * is tried until one read it after.
     */
    @Test
    void aFiberThatYieldedDuringTheDumpIsNotListedOnItsFormerCarrier() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump-yield")
                .policy(SchedulingPolicy.SINGLE_THREAD).stallThreshold(Duration.ZERO).build())) {
            CountDownLatch never = new CountDownLatch(1);
            for (int i = 0; i < 3000; i++) {                      // a dump long enough to yield in
                s.start(() -> {
                    try { never.await(); } catch (InterruptedException e) { }
                });
            }
            int readAfterYield = 0;
            for (int attempt = 0; attempt < 10 && readAfterYield == 0; attempt++) {
                AtomicBoolean yieldNow = new AtomicBoolean(), end = new AtomicBoolean();
                CountDownLatch mounted = new CountDownLatch(1);
                Thread[] taker = new Thread[1];
                Thread yielder = s.start(() -> {
                    mounted.countDown();
                    while (!yieldNow.get()) Thread.onSpinWait();
                    taker[0] = s.start(() -> {                  // queued here, ahead of the yielder
                        while (!end.get()) Thread.onSpinWait();
                    });
                    Thread.yield();
                });
                assertTrue(mounted.await(10, TimeUnit.SECONDS));
                CompletableFuture<FiberDump> dump = CompletableFuture.supplyAsync(s::dumpFibers, r -> Thread.ofPlatform().start(r));
                Thread.sleep(2);                                  // the dump has begun with the yielder mounted
                yieldNow.set(true);
                FiberDump d = dump.get(30, TimeUnit.SECONDS);
                end.set(true);
                yielder.join();
                taker[0].join();
                FiberDump.Entry e = d.fibers().stream().filter(f -> f.id() == yielder.threadId()).findFirst().orElseThrow();
                if (e.stackTrace().stream().anyMatch(f -> f.getMethodName().equals("yield"))) {   // read after its yield
                    readAfterYield++;
                    assertEquals(-1, e.carrier(), "a queued fiber listed on a carrier: " + e);
                }
            }
            never.countDown();
            assertTrue(readAfterYield > 0, "no dump of ten read the yielder after its yield");
        }
    }
}
