package dev.bobbin.scheduler.queue;

import dev.bobbin.base.LinePadding;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * The scheduler-wide queue for work submitted from outside the carriers and for spills of full local
 * queues.
 *
 * <p>Implementation overview. A growable ring guarded by a lock, as Go's {@code sched.runq} and Tokio's
 * inject queue are: it is off the hot path (a carrier reaches it every
 * {@code Tunables.INJECTION_POLL_INTERVAL} tasks or when its local work runs out) and batch moves are
 * simpler under a lock. {@code size} is written under the lock and read without it, so idle checks and
 * statistics cost one volatile load.
 *
 * <p>Submitters may be fibers: the JDK pins a fiber while it calls the scheduler, so a contended lock
 * blocks its carrier for the few instructions of the critical section, never across a park.
 */
public final class InjectionQueue extends InjectionQueueFields {
    @SuppressWarnings("unused")                   // after the ring's words: see LinePadding
    private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

    private final ReentrantLock lock = new ReentrantLock();
    private final int initialCapacity;            // the ring's size when new and after a burst drains
    private final int retainedCapacity;           // a drained ring larger than this shrinks to initialCapacity

    /**
     * An empty queue whose ring starts with {@code initialCapacity} slots and, once drained after growing
     * past {@code retainedCapacity}, shrinks back to that.
     *
     * @throws IllegalArgumentException if {@code initialCapacity} is not a power of two, or
     *                                  {@code retainedCapacity} is below it
     */
    public InjectionQueue(int initialCapacity, int retainedCapacity) {
        if (initialCapacity < 1 || Integer.bitCount(initialCapacity) != 1) {
            throw new IllegalArgumentException("initialCapacity must be a power of two: " + initialCapacity);
        }
        if (retainedCapacity < initialCapacity) {
            throw new IllegalArgumentException("retainedCapacity must be >= initialCapacity: " + retainedCapacity);
        }
        this.initialCapacity = initialCapacity;
        this.retainedCapacity = retainedCapacity;
        this.ring = new Runnable[initialCapacity];
    }

    public void push(Runnable task) {
        lock.lock();
        try {
            ensureRoom(1);
            ring[(headIndex + size) & (ring.length - 1)] = task;
            size = size + 1;                      // volatile write; pairs with the read in isEmpty/size
        } finally {
            lock.unlock();
        }
    }

    public void pushAll(Runnable[] tasks, Runnable extra) {
        lock.lock();
        try {
            int n = tasks.length + (extra != null ? 1 : 0);
            ensureRoom(n);
            int s = size;
            for (Runnable t : tasks) ring[(headIndex + s++) & (ring.length - 1)] = t;
            if (extra != null) ring[(headIndex + s++) & (ring.length - 1)] = extra;
            size = s;
        } finally {
            lock.unlock();
        }
    }

    public Runnable poll() {
        if (size == 0) return null;
        lock.lock();
        try {
            return pollLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves up to {@code max} tasks: returns the first and offers the rest to {@code dst} (which must have
     * room for them). Returns null when empty.
     */
    public Runnable pollBatch(RunQueue.Local dst, int max) {
        if (size == 0) return null;
        lock.lock();
        try {
            Runnable first = pollLocked();
            if (first == null) return null;
            for (int i = 1; i < max && size > 0; i++) {
                Runnable t = pollLocked();
                if (!dst.offer(t)) { // cannot happen when the caller sized max by dst.remaining(); keep safe
                    unpollLocked(t);
                    break;
                }
            }
            return first;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes out every task {@code which} accepts, in order, leaving the others in theirs. A scan of the
     * whole queue under the lock: for rare rescues (the stall monitor's), not for the hot path.
     */
    public List<Runnable> takeMatching(Predicate<Runnable> which) {
        List<Runnable> taken = new ArrayList<>();
        if (size == 0) return taken;
        lock.lock();
        try {
            int s = size, mask = ring.length - 1, kept = 0;
            for (int i = 0; i < s; i++) {
                Runnable t = ring[(headIndex + i) & mask];
                if (which.test(t)) taken.add(t);
                else ring[(headIndex + kept++) & mask] = t;
            }
            for (int i = kept; i < s; i++) ring[(headIndex + i) & mask] = null;
            if (kept != s) size = kept;           // volatile write; pairs with the read in isEmpty/size
            return taken;
        } finally {
            lock.unlock();
        }
    }

    public boolean isEmpty() { return size == 0; }

    public int size() { return size; }

    private Runnable pollLocked() {
        int s = size;
        if (s == 0) return null;
        int i = headIndex & (ring.length - 1);
        Runnable t = ring[i];
        ring[i] = null;
        headIndex = i + 1;
        size = s - 1;
        if (s == 1 && ring.length > retainedCapacity) {
            ring = new Runnable[initialCapacity];   // drained after a burst: give the memory back
            headIndex = 0;
        }
        return t;
    }

    private void unpollLocked(Runnable t) {
        headIndex = (headIndex - 1) & (ring.length - 1);
        ring[headIndex] = t;
        size = size + 1;
    }

    private void ensureRoom(int n) {
        int s = size;
        if (s + n <= ring.length) return;
        int cap = ring.length;
        while (cap < s + n) cap <<= 1;
        Runnable[] bigger = new Runnable[cap];
        for (int i = 0; i < s; i++) bigger[i] = ring[(headIndex + i) & (ring.length - 1)];
        ring = bigger;
        headIndex = 0;
    }
}

/**
 * An {@link InjectionQueue}'s ring words, behind 128 bytes of padding ({@link LinePadding}): submitters and
 * carriers write them under the lock, and idle carriers read {@code size} without it.
 */
abstract class InjectionQueueFields extends LinePadding {
    Runnable[] ring;                              // guarded by lock; power of two
    int headIndex;                                // guarded by lock; index of the oldest task
    volatile int size;                            // written under lock; read racily by idle checks
}
