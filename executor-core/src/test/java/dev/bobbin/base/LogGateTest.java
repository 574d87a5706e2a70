package dev.bobbin.base;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gate of rate-limited log lines: one event per interval passes, with the number held back since the
 * last one; the clock is a test's, so no timing of the machine matters, and racing events neither pass
 * twice in one interval nor drop out of the counts.
 */
class LogGateTest {
    private static final long INTERVAL = 1_000;

    @Test
    void onePassPerIntervalWithTheCountHeldBackSince() {
        AtomicLong now = new AtomicLong(Long.MAX_VALUE - 2_500);      // crosses the clock's wrap on the way
        LogGate gate = new LogGate(INTERVAL, now::get);
        assertEquals(0, gate.pass(), "the first event passes");
        now.addAndGet(10);
        assertEquals(-1, gate.pass());
        now.addAndGet(INTERVAL - 11);                                 // one tick before the interval ends
        assertEquals(-1, gate.pass());
        now.addAndGet(1);                                             // the interval since the first pass is over
        assertEquals(2, gate.pass(), "the two held back since");
        assertEquals(-1, gate.pass());
        now.addAndGet(INTERVAL);                                      // past Long.MAX_VALUE by now
        assertEquals(1, gate.pass());
        now.addAndGet(5 * INTERVAL);
        assertEquals(0, gate.pass(), "nothing held back: a long quiet spell is no event");

        assertEquals(-1, gate.pass());
        gate.reset();
        assertEquals(0, gate.pass(), "inside the interval, yet reset: passes, and the count starts again");
    }

    /** Events racing for one interval: exactly one passes, in every round. */
    @Test
    void racingEventsPassOneBetweenThem() throws Exception {
        int threads = 4;
        for (int round = 0; round < 300; round++) {
            LogGate gate = new LogGate(60_000_000_000L);
            AtomicInteger passed = new AtomicInteger();
            race(threads, () -> {
                if (gate.pass() >= 0) passed.incrementAndGet();
            });
            assertEquals(1, passed.get(), "round " + round);
        }
    }

    /**
     * Threads hammer one gate on a clock that ticks with every read, so intervals end while events race:
     * passes are at least an interval apart on that clock (each pass's time is at least the previous
     * pass's plus the interval), and every event held back is counted in exactly one pass's figure (or is
     * still held at the end).
     */
    @Test
    void everyEventHeldBackIsCountedOnce() throws Exception {
        int threads = 4;
        int perThread = 200_000;
        AtomicLong ticks = new AtomicLong();
        long interval = 4;                                            // short: many passes race with held-back events
        LogGate gate = new LogGate(interval, ticks::incrementAndGet);
        AtomicLong passes = new AtomicLong();
        AtomicLong countedInPasses = new AtomicLong();
        race(threads, () -> {
            for (int n = 0; n < perThread; n++) {
                long r = gate.pass();
                if (r >= 0) {
                    passes.incrementAndGet();
                    countedInPasses.addAndGet(r);
                }
            }
        });
        long lastTick = ticks.get();
        assertTrue(passes.get() <= (lastTick - 1) / interval + 1,
                passes.get() + " passes in " + lastTick + " ticks: two passed in one interval");
        ticks.addAndGet(1_000);                                       // the last interval is over
        long stillHeld = gate.pass();
        long events = (long) threads * perThread;
        assertEquals(events - passes.get(), countedInPasses.get() + stillHeld,
                "held back: counted once each (" + passes.get() + " passes)");
    }

    /** Runs {@code body} on {@code threads} platform threads released together, and waits for them. */
    private static void race(int threads, Runnable body) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> racers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            racers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                body.run();
            }));
        }
        go.countDown();
        for (Thread t : racers) t.join();
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new LogGate(0));
        assertThrows(IllegalArgumentException.class, () -> new LogGate(-1, System::nanoTime));
        assertThrows(NullPointerException.class, () -> new LogGate(1, null));
    }
}
