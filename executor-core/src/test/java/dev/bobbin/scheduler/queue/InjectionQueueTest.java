package dev.bobbin.scheduler.queue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link InjectionQueue}: order, batches, the stall monitor's {@code takeMatching}, and a stress run of
 * every operation at once where each task must be taken exactly once. The lock-free protocol's races are
 * also run by {@link InjectionQueueJcstress}, against a deliberately broken twin.
 */
class InjectionQueueTest {
    /** A task that knows its producer and number. */
    record Task(int producer, int n) implements Runnable {
        Task(int n) { this(0, n); }

        @Override public void run() { }
    }

    @Test
    void pollsInPushOrderAndCounts() {
        InjectionQueue q = new InjectionQueue();
        assertTrue(q.isEmpty());
        assertNull(q.poll());
        for (int i = 0; i < 100; i++) q.push(new Task(i));
        assertFalse(q.isEmpty());
        assertEquals(100, q.size());
        for (int i = 0; i < 100; i++) assertEquals(new Task(i), q.poll());
        assertTrue(q.isEmpty());
        assertEquals(0, q.size());
    }

    @Test
    void pushAllAppendsTheBatchThenTheExtra() {
        InjectionQueue q = new InjectionQueue();
        q.push(new Task(0));
        q.pushAll(new Runnable[] {new Task(1), new Task(2)}, new Task(3));
        q.pushAll(new Runnable[] {new Task(4)}, null);
        q.pushAll(new Runnable[0], null);
        assertEquals(5, q.size());
        for (int i = 0; i < 5; i++) assertEquals(new Task(i), q.poll());
        assertNull(q.poll());
    }

    @Test
    void rejectsNullTasksWithoutQueueingAnyOfTheBatch() {
        InjectionQueue q = new InjectionQueue();
        assertThrows(NullPointerException.class, () -> q.push(null));
        assertThrows(NullPointerException.class, () -> q.pushAll(null, new Task(0)));
        assertThrows(NullPointerException.class, () -> q.pushAll(new Runnable[] {new Task(0), null}, null));
        assertTrue(q.isEmpty());
        assertEquals(0, q.size());
    }

    @Test
    void pollBatchReturnsTheFirstAndMovesAtMostMaxMinusOne() {
        InjectionQueue q = new InjectionQueue();
        for (int i = 0; i < 10; i++) q.push(new Task(i));
        RunQueue ring = new RunQueue(16);
        assertEquals(new Task(0), q.pollBatch(ring.local(), 4));
        List<Runnable> moved = new ArrayList<>();
        for (Runnable t; (t = ring.local().poll()) != null; ) moved.add(t);
        assertEquals(List.of(new Task(1), new Task(2), new Task(3)), moved);
        assertEquals(6, q.size());
        assertEquals(new Task(4), q.pollBatch(ring.local(), 100));   // takes what there is
        assertEquals(5, ring.sizeEstimate());
        assertTrue(q.isEmpty());
        assertNull(q.pollBatch(ring.local(), 4));
    }

    @Test
    void pollBatchIntoARingWithoutRoomPutsTheTaskItCouldNotPlaceBack() {
        InjectionQueue q = new InjectionQueue();
        for (int i = 0; i < 5; i++) q.push(new Task(i));
        RunQueue ring = new RunQueue(4);
        for (int i = 0; i < 3; i++) assertTrue(ring.local().offer(new Task(-1)));
        assertEquals(new Task(0), q.pollBatch(ring.local(), 5));   // a caller that misjudged the room
        assertEquals(4, ring.sizeEstimate());                     // task 1 went in; task 2 found it full
        assertEquals(3, q.size());
        List<Runnable> rest = new ArrayList<>();
        for (Runnable t; (t = q.poll()) != null; ) rest.add(t);
        assertEquals(List.of(new Task(3), new Task(4), new Task(2)), rest);
        assertEquals(0, q.size());
    }

    @Test
    void takeMatchingTakesTheMatchesInOrderAndKeepsTheRestInTheirs() {
        InjectionQueue q = new InjectionQueue();
        for (int i = 0; i < 10; i++) q.push(new Task(i));
        List<Runnable> taken = q.takeMatching(t -> ((Task) t).n() % 3 == 0);
        assertEquals(List.of(new Task(0), new Task(3), new Task(6), new Task(9)), taken);
        assertEquals(6, q.size());
        List<Runnable> rest = new ArrayList<>();
        for (Runnable t; (t = q.poll()) != null; ) rest.add(t);
        assertEquals(List.of(new Task(1), new Task(2), new Task(4), new Task(5), new Task(7), new Task(8)), rest);
        assertTrue(q.isEmpty());
        assertEquals(List.of(), q.takeMatching(t -> true));
    }

    @Test
    void takeMatchingTakesTheVeryTaskItMatchedNotAnEqualOne() {
        InjectionQueue q = new InjectionQueue();
        Task first = new Task(1), second = new Task(1);    // equal, distinct
        q.push(first);
        q.push(second);
        List<Runnable> taken = q.takeMatching(t -> t == second);
        assertEquals(1, taken.size());
        assertSame(second, taken.get(0));
        assertSame(first, q.poll(), "the task left behind is the one not matched");
        assertNull(q.poll());
    }

    /**
     * Two producers (one pushing tasks one by one, one in batches), a poller, a batch poller and a
     * thread taking matches, all at once: every task is taken exactly once, each poller sees each
     * producer's tasks in the order they were pushed, and the count ends at zero.
     */
    @Test
    void concurrentPushesAndPollsTakeEachTaskExactlyOnce() throws Exception {
        final int perProducer = 200_000;
        InjectionQueue q = new InjectionQueue();
        AtomicIntegerArray takenCount = new AtomicIntegerArray(2 * perProducer);
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicReference<String> orderError = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);

        Thread single = new Thread(() -> {
            await(start);
            for (int i = 0; i < perProducer; i++) q.push(new Task(0, i));
        });
        Thread batches = new Thread(() -> {
            await(start);
            for (int i = 0; i < perProducer; ) {
                int n = Math.min(1 + i % 7, perProducer - i);
                Runnable[] batch = new Runnable[n - 1];
                for (int k = 0; k < n - 1; k++) batch[k] = new Task(1, i + k);
                q.pushAll(batch, new Task(1, i + n - 1));
                i += n;
            }
        });
        class Consumer extends Thread {
            final int[] lastSeen = {-1, -1};
            final boolean batched;

            Consumer(boolean batched) { this.batched = batched; }

            void took(Runnable r) {
                Task t = (Task) r;
                takenCount.incrementAndGet(t.producer() * perProducer + t.n());
                if (t.n() <= lastSeen[t.producer()]) {
                    orderError.compareAndSet(null, "producer " + t.producer() + ": " + t.n() + " after " + lastSeen[t.producer()]);
                }
                lastSeen[t.producer()] = t.n();
            }

            @Override public void run() {
                await(start);
                RunQueue ring = new RunQueue(64);
                for (;;) {
                    boolean done = !producing.get();        // read before the poll: a miss after it means empty
                    Runnable t = batched ? q.pollBatch(ring.local(), 1 + (int) (Math.random() * 32)) : q.poll();
                    if (t == null) {
                        if (done) return;
                        Thread.onSpinWait();
                        continue;
                    }
                    took(t);
                    for (Runnable r; (r = ring.local().poll()) != null; ) took(r);
                }
            }
        }
        Consumer poller = new Consumer(false), batchPoller = new Consumer(true);
        Thread matcher = new Thread(() -> {
            await(start);
            while (producing.get()) {
                for (Runnable r : q.takeMatching(t -> ((Task) t).n() % 5 == 0)) {
                    Task t = (Task) r;
                    takenCount.incrementAndGet(t.producer() * perProducer + t.n());
                }
            }
        });
        List<Thread> all = List.of(single, batches, poller, batchPoller, matcher);
        all.forEach(Thread::start);
        start.countDown();
        single.join();
        batches.join();
        producing.set(false);
        for (Thread t : all) t.join();

        assertNull(orderError.get(), "a poller saw a producer's tasks out of order");
        for (int i = 0; i < takenCount.length(); i++) {
            assertEquals(1, takenCount.get(i), "task " + (i / perProducer) + "/" + (i % perProducer) + " taken that many times");
        }
        assertTrue(q.isEmpty());
        assertEquals(0, q.size(), "the count must return to zero once every push and poll is done");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
