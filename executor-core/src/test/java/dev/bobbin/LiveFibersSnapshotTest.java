package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SchedulerStats.liveFibers() is "started minus completed"; a snapshot reads the starts of an earlier carrier
 * (or of outside threads) before the completions of a later one, so a fiber started and finished in between
 * is counted as completed but not as started: live goes below zero (and the bobbin.fibers.live gauge with it).
 */
class LiveFibersSnapshotTest {
    @Test
    void liveFibersNeverNegative() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("live").parallelism(2).build())) {
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> load = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                load.add(Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        try { s.start(() -> { }).join(); } catch (InterruptedException e) { return; }
                    }
                }));
            }
            long min = Long.MAX_VALUE, reads = 0;
            SchedulerStats worst = null;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline) {
                SchedulerStats st = s.stats();
                reads++;
                if (st.liveFibers() < min) { min = st.liveFibers(); worst = st; }
                if (min < 0) break;
            }
            stop.set(true);
            for (Thread t : load) t.join();
            assertTrue(min >= 0, "live fibers " + min + " after " + reads + " snapshots: started "
                    + worst.fibersStarted() + ", completed " + worst.fibersCompleted());
        }
    }
}
