package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each fiber's completion is counted exactly once even when its last park and its end happen on
 * different carriers, so live fibers return to zero and shutdown completes. Pairs of fibers ping-pong
 * across two carriers, which makes a fiber often finish on one carrier while the carrier that ran its
 * previous slice has not yet looked at its state.
 */
class CompletionAccountingTest {

    static final class Pair {
        volatile Thread a, b;
        volatile int ball;

        void ping(int rounds) {
            for (int i = 1; i <= rounds; i++) {
                ball = 2 * i - 1;
                LockSupport.unpark(b);
                while (ball != 2 * i) LockSupport.park();
            }
        }

        void pong(int rounds) {
            for (int i = 1; i <= rounds; i++) {
                while (ball != 2 * i - 1) LockSupport.park();
                ball = 2 * i;
                LockSupport.unpark(a);
            }
        }
    }

    @Test
    void migratingFibersAreCountedOnceAndShutdownCompletes() throws Exception {
        for (int round = 0; round < 20; round++) {
            FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("count").parallelism(2).build());
            List<Thread> fibers = new ArrayList<>();
            for (int p = 0; p < 20; p++) {
                Pair pair = new Pair();
                Thread b = s.ofVirtual().unstarted(() -> pair.pong(50));
                Thread a = s.ofVirtual().unstarted(() -> pair.ping(50));
                pair.a = a;
                pair.b = b;
                b.start();
                a.start();
                fibers.add(a);
                fibers.add(b);
            }
            for (Thread f : fibers) f.join();
            s.shutdown();
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "round " + round + ": shutdown hung: " + s.stats());
            SchedulerStats st = s.stats();
            assertEquals(40, st.fibersStarted());
            assertEquals(40, st.fibersCompleted(), "round " + round + ": " + st);
            assertEquals(0, st.liveFibers());
        }
    }
}
