package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class FiberDumpPinnedTest {

    static final CountDownLatch entered = new CountDownLatch(1);
    static final CountDownLatch release = new CountDownLatch(1);

    /** Its initializer waits: a fiber initializing it parks pinned, i.e. on its carrier (JEP 491). */
    static final class WaitsInInit {
        static {
            entered.countDown();
            try { release.await(); } catch (InterruptedException e) { throw new RuntimeException(e); }
        }
        static void touch() { }
    }

    @Test
    void aFiberParkedPinnedStaysOnItsCarrierInTheDump() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump-pinned").parallelism(2)
                .trackFibers(true).build())) {
            Thread f = s.start(WaitsInInit::touch);
            entered.await();
            Thread.State st;
            while ((st = f.getState()) == Thread.State.RUNNABLE) Thread.onSpinWait();
            try {
                FiberDump.Entry e = s.dumpFibers().fibers().stream().filter(x -> x.id() == f.threadId()).findFirst().orElseThrow();
                String jdk = f.toString();   // VirtualThread#toString names the carrier while mounted
                assertTrue(jdk.contains("@"), "the JDK sees the parked-while-pinned fiber on a carrier: " + jdk + " state " + st);
                assertTrue(e.carrier() >= 0, "a fiber parked while pinned occupies its carrier (JDK: " + jdk
                        + "), but the dump says " + e);
            } finally {
                release.countDown();
                f.join();
            }
        }
    }
}
