package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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
}
