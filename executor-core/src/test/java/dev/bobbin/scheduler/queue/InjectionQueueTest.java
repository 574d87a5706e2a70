package dev.bobbin.scheduler.queue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link InjectionQueue#takeMatching}: the stall monitor's rescue of some tasks out of the shared queue. */
class InjectionQueueTest {
    /** A task that knows its number. */
    record Task(int n) implements Runnable {
        @Override public void run() { }
    }

    @Test
    void takeMatchingTakesTheMatchesInOrderAndKeepsTheRestInTheirs() {
        InjectionQueue q = new InjectionQueue(4, 64);
        for (int i = 0; i < 10; i++) q.push(new Task(i));   // grows past its 4 slots
        List<Runnable> taken = q.takeMatching(t -> ((Task) t).n() % 3 == 0);
        assertEquals(List.of(new Task(0), new Task(3), new Task(6), new Task(9)), taken);
        assertEquals(6, q.size());
        List<Runnable> rest = new ArrayList<>();
        for (Runnable t; (t = q.poll()) != null; ) rest.add(t);
        assertEquals(List.of(new Task(1), new Task(2), new Task(4), new Task(5), new Task(7), new Task(8)), rest);
        assertTrue(q.isEmpty());
    }

    @Test
    void takeMatchingOnAWrappedRingClearsTheSlotsItFrees() {
        InjectionQueue q = new InjectionQueue(8, 64);
        for (int i = 0; i < 6; i++) q.push(new Task(-1));
        for (int i = 0; i < 6; i++) q.poll();          // head at slot 6
        for (int i = 0; i < 5; i++) q.push(new Task(i)); // slots 6, 7, 0, 1, 2
        assertEquals(List.of(new Task(0), new Task(1), new Task(2), new Task(3), new Task(4)), q.takeMatching(t -> true));
        assertTrue(q.isEmpty());
        assertNull(q.poll());
        q.push(new Task(7));
        assertEquals(List.of(), q.takeMatching(t -> false));
        assertEquals(new Task(7), q.poll());
    }
}
