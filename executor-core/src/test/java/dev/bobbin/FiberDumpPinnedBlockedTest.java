package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber that blocks on a monitor while pinned (here: inside a class initializer, JEP 491) keeps its
 * carrier, as one parked while pinned does (FiberDumpPinnedTest): the JDK reports it BLOCKED through the
 * carrier's state and names that carrier; the dump must show the carrier too.
 */
@Timeout(60)
class FiberDumpPinnedBlockedTest {

    static final Object LOCK = new Object();

    /** Its initializer enters LOCK: a fiber initializing it while LOCK is held blocks pinned. */
    static final class LocksInInit {
        static {
            synchronized (LOCK) { }
        }
        static void touch() { }
    }

    @Test
    void aFiberBlockedOnAMonitorWhilePinnedStaysOnItsCarrierInTheDump() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump-pinned-blocked").parallelism(2)
                .trackFibers(true).build())) {
            Thread f;
            synchronized (LOCK) {
                f = s.start(LocksInInit::touch);
                while (f.getState() != Thread.State.BLOCKED) Thread.onSpinWait();
                FiberDump.Entry e = s.dumpFibers().fibers().stream().filter(x -> x.id() == f.threadId()).findFirst().orElseThrow();
                String jdk = f.toString();   // VirtualThread#toString names the carrier while mounted
                assertTrue(jdk.contains("@"), "the JDK sees the blocked-while-pinned fiber on a carrier: " + jdk);
                assertTrue(e.carrier() >= 0, "a fiber blocked while pinned occupies its carrier (JDK: " + jdk
                        + "), but the dump says " + e);
                assertEquals(0, e.sinceLastRunNanos(), "it is still running on its carrier: " + e);
            }
            f.join();
        }
    }
}
