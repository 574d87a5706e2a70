package dev.bobbin.scheduler.queue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The broken twin of {@link RunQueue}, for the protocol tests only: the same ring, with exactly one
 * deliberate {@link Bug} switched on, so a test that passes on {@link RunQueue} must show that it fails
 * here. Each bug is one the real queue's comments explain away; where the race window is a few
 * instructions wide the twin widens it with a short spin so the time-boxed run catches it every time.
 */
final class BrokenRunQueue implements QueueUnderTest {
    enum Bug {
        /** A thief claims with a plain store to head instead of a CAS: it can claim what the owner popped. */
        STEAL_PLAIN_HEAD,
        /** A thief claims first and copies the slots afterwards: the owner may have overwritten them. */
        STEAL_COPIES_AFTER_CLAIM,
        /** A thief takes the next slot with a read and a plain clear instead of a CAS. */
        STEAL_NEXT_WITHOUT_CAS,
        /** The owner claims a spill batch with a plain store to head instead of a CAS. */
        SPILL_PLAIN_HEAD,
        /** The owner drops its slots' references without checking that the ring is empty. */
        CLEAR_WITHOUT_EMPTY_CHECK
    }

    private static final VarHandle HEAD, TAIL, NEXT, SLOTS;
    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(BrokenRunQueue.class, "head", long.class);
            TAIL = l.findVarHandle(BrokenRunQueue.class, "tail", long.class);
            NEXT = l.findVarHandle(BrokenRunQueue.class, "next", Runnable.class);
            SLOTS = MethodHandles.arrayElementVarHandle(Runnable[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int WINDOW_SPINS = 50;   // widens a bug's race window

    private final Bug bug;
    private final Runnable[] slots;
    private final int mask;
    @SuppressWarnings("unused") private volatile long head;
    @SuppressWarnings("unused") private volatile long tail;
    @SuppressWarnings("unused") private volatile Runnable next;

    BrokenRunQueue(int capacity, Bug bug) {
        this.bug = bug;
        this.slots = new Runnable[capacity];
        this.mask = capacity - 1;
    }

    private static void window() {
        for (int i = 0; i < WINDOW_SPINS; i++) Thread.onSpinWait();
    }

    @Override public boolean offer(Runnable task) {
        long t = (long) TAIL.get(this);
        long h = (long) HEAD.getAcquire(this);
        if (t - h >= slots.length) return false;
        SLOTS.setOpaque(slots, (int) (t & mask), task);
        TAIL.setRelease(this, t + 1);
        return true;
    }

    @Override public Runnable poll() {
        for (;;) {
            long h = (long) HEAD.getAcquire(this);
            long t = (long) TAIL.get(this);
            if (h == t) return null;
            Runnable task = (Runnable) SLOTS.getOpaque(slots, (int) (h & mask));
            if (HEAD.compareAndSet(this, h, h + 1)) return task;
        }
    }

    @Override public Runnable swapNext(Runnable task) {
        return (Runnable) NEXT.getAndSet(this, task);
    }

    @Override public Runnable takeNext() {
        if (NEXT.getOpaque(this) == null) return null;
        return (Runnable) NEXT.getAndSet(this, null);
    }

    @Override public void clearIfEmpty() {
        long h = (long) HEAD.getAcquire(this);
        if (bug != Bug.CLEAR_WITHOUT_EMPTY_CHECK && h != (long) TAIL.get(this)) return; // BUG when skipped
        for (int i = 0; i < slots.length; i++) SLOTS.setOpaque(slots, i, null);
    }

    @Override public Runnable[] drainHalfForSpill() {
        long h = (long) HEAD.getAcquire(this);
        long t = (long) TAIL.get(this);
        int n = (int) ((t - h) / 2);
        if (t - h < slots.length || n == 0) return null;
        Runnable[] batch = new Runnable[n];
        for (int i = 0; i < n; i++) batch[i] = (Runnable) SLOTS.getOpaque(slots, (int) ((h + i) & mask));
        if (bug == Bug.SPILL_PLAIN_HEAD) {
            window();
            HEAD.setRelease(this, h + n);                        // BUG: no CAS
            return batch;
        }
        if (!HEAD.compareAndSet(this, h, h + n)) return null;
        return batch;
    }

    private int remaining() {
        return slots.length - (int) ((long) TAIL.get(this) - (long) HEAD.getAcquire(this));
    }

    @Override public Runnable stealInto(QueueUnderTest into, int[] stolen) {
        BrokenRunQueue dst = (BrokenRunQueue) into;
        for (;;) {
            long h = (long) HEAD.getAcquire(this);
            long t = (long) TAIL.getAcquire(this);
            long avail = t - h;
            if (avail <= 0) return null;
            if (avail > slots.length) continue;
            int n = (int) (avail - avail / 2);
            n = Math.min(n, Math.min(slots.length / 2, dst.remaining()));
            if (n <= 0) return null;
            long dt = (long) TAIL.get(dst);
            if (bug == Bug.STEAL_COPIES_AFTER_CLAIM) {
                if (!HEAD.compareAndSet(this, h, h + n)) continue;
                window();                                         // BUG: the slots may be reused by now
                for (int i = 0; i < n - 1; i++) {
                    SLOTS.setOpaque(dst.slots, (int) ((dt + i) & dst.mask), SLOTS.getOpaque(slots, (int) ((h + i) & mask)));
                }
                Runnable first = (Runnable) SLOTS.getOpaque(slots, (int) ((h + n - 1) & mask));
                TAIL.setRelease(dst, dt + n - 1);
                stolen[0] = n;
                return first;
            }
            for (int i = 0; i < n - 1; i++) {
                SLOTS.setOpaque(dst.slots, (int) ((dt + i) & dst.mask), SLOTS.getOpaque(slots, (int) ((h + i) & mask)));
            }
            Runnable first = (Runnable) SLOTS.getOpaque(slots, (int) ((h + n - 1) & mask));
            if (bug == Bug.STEAL_PLAIN_HEAD) {
                window();
                HEAD.setRelease(this, h + n);                     // BUG: no CAS
            } else if (!HEAD.compareAndSet(this, h, h + n)) {
                continue;
            }
            TAIL.setRelease(dst, dt + n - 1);
            stolen[0] = n;
            return first;
        }
    }

    @Override public Runnable stealNext() {
        Runnable task = (Runnable) NEXT.getAcquire(this);
        if (task == null) return null;
        if (bug == Bug.STEAL_NEXT_WITHOUT_CAS) {
            window();
            NEXT.setRelease(this, null);                          // BUG: may clear a newer task
            return task;
        }
        return NEXT.compareAndSet(this, task, null) ? task : null;
    }
}
