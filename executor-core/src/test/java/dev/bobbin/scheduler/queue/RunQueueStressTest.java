package dev.bobbin.scheduler.queue;

import dev.bobbin.scheduler.queue.QueueUnderTest.Item;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The run queue under load: one owner pushing (ring and next slot), popping and spilling millions of
 * items while two thieves steal halves and next slots, each into its own queue. Every consumer counts
 * what it was handed in its own array (a counting bitmap over item ids); at the end every item must
 * have been handed out exactly once.
 */
class RunQueueStressTest {
    private static final int ITEMS = 2_000_000;
    private static final int THIEVES = 2;

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {8, 256})
    void everyItemIsHandedOutExactlyOnce(int capacity) throws Exception {
        Item[] items = QueueUnderTest.items(ITEMS);
        RunQueue victim = new RunQueue(capacity);
        RunQueue.Local owner = victim.local();
        byte[] ownerCounts = new byte[ITEMS];
        byte[][] thiefCounts = new byte[THIEVES][ITEMS];
        long[] steals = new long[THIEVES];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();

        Thread[] thieves = new Thread[THIEVES];
        for (int k = 0; k < THIEVES; k++) {
            int me = k;
            thieves[k] = new Thread(() -> {
                RunQueue own = new RunQueue(capacity);
                RunQueue.Local ownLocal = own.local();
                int[] stolen = new int[1];
                byte[] counts = thiefCounts[me];
                try {
                    int round = 0;
                    while (!done.get()) {
                        Runnable t = victim.steal().stealInto(ownLocal, stolen);
                        if (t == null && (++round & 7) == 0) t = victim.steal().stealNext();
                        if (t == null) { Thread.onSpinWait(); continue; }
                        steals[me]++;
                        counts[((Item) t).id()]++;
                        for (Runnable r; (r = ownLocal.poll()) != null; ) counts[((Item) r).id()]++;
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "thief-" + k);
            thieves[k].start();
        }

        try {
            for (int i = 0; i < ITEMS; i++) {
                Runnable task = items[i];
                if (i % 5 == 0) {
                    task = owner.swapNext(task);          // a woken fiber; the displaced one is queued
                    if (task == null) continue;
                }
                while (!owner.offer(task)) {              // full: spill half (the owner consumes it here)
                    Runnable[] half = owner.drainHalfForSpill();
                    if (half != null) for (Runnable r : half) ownerCounts[((Item) r).id()]++;
                }
                if (i % 3 == 0) take(owner.poll(), ownerCounts);
                if (i % 11 == 0) take(owner.takeNext(), ownerCounts);
            }
            for (Runnable r; (r = owner.poll()) != null; ) take(r, ownerCounts);
            take(owner.takeNext(), ownerCounts);
        } finally {
            done.set(true);
            for (Thread t : thieves) t.join();
        }
        assertNull(failure.get(), () -> "a thief failed: " + failure.get());
        assertTrue(victim.isEmpty(), "the owner drained the queue");

        long stolenTotal = 0;
        for (int i = 0; i < ITEMS; i++) {
            int n = ownerCounts[i];
            for (byte[] c : thiefCounts) { n += c[i]; }
            if (n != 1) fail("item " + i + " handed out " + n + " times (owner " + ownerCounts[i] + ")");
        }
        for (byte[] c : thiefCounts) for (byte b : c) stolenTotal += b;
        assertTrue(steals[0] + steals[1] > 0 && stolenTotal > 0,
                "the thieves never stole anything: the test did not exercise the race");
    }

    private static void take(Runnable r, byte[] counts) {
        if (r != null) counts[((Item) r).id()]++;
    }
}
