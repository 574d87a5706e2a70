package dev.bobbin.scheduler.queue;

import dev.bobbin.base.LinePadding;
import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.BooleanSupplier;

/**
 * A carrier's bounded run queue, in two handles: {@link Local} for the owning carrier only, and
 * {@link Steal} for every other carrier.
 *
 * <p>Implementation overview. The design is Go's {@code runq} (also Tokio's {@code queue.rs}): a ring of
 * {@code Tunables.LOCAL_QUEUE_CAPACITY} slots with two 64-bit indices that never wrap in practice.
 * <ul>
 *   <li>{@code tail} is written by the owner only, with release; readers acquire it.</li>
 *   <li>{@code head} is advanced by CAS, by the owner when it pops and by a thief when it steals: every
 *       consumer claims its items with one CAS, so each pushed item is handed out exactly once.</li>
 *   <li>A slot is written by the owner (plain store ordered by the release of {@code tail}) only when
 *       {@code tail - head < capacity}, i.e. when no consumer can still claim the old content.</li>
 *   <li>A thief copies the slots {@code [head, head + n)} first and then CASes {@code head} forward; if
 *       the CAS fails (the owner or another thief moved head) the copy is discarded and it retries.
 *       A slot read concurrently with the owner overwriting it can only happen after head moved past it,
 *       in which case that CAS fails, so a torn view is never used (slots are accessed opaque, which
 *       keeps the racy reads well defined).</li>
 * </ul>
 * The owner pops FIFO, as Go and Tokio do, so a spawner's children run in spawn order.
 *
 * <p>Beside the ring sits the {@code next} slot: the fiber most recently woken by the fiber running on
 * this carrier, which the carrier runs next (Go's {@code runnext}, Tokio's LIFO slot). The owner
 * exchanges it; a thief takes it only as a last resort, after a grace period, so a carrier stuck in one
 * long-running fiber cannot hold a runnable fiber hostage (a never-stealable slot stalls whole
 * runtimes). The bound on consecutive next-slot runs lives in the carrier loop.
 *
 * <p>Retention. A slot still holding a task that was taken keeps its fiber reachable, and a finished
 * fiber keeps its whole task (a request and its buffers) reachable, so the ring lets go of what it hands
 * out where it safely can. The owner nulls a slot right after its own CAS claimed it (poll, spill): no
 * other thread writes slots, and a thief reading that slot for an older head fails its CAS. A thief
 * cannot do the same for the slots it took, since once head moved the owner may already be writing
 * them; those slots, and a thief's staging of a lost attempt in its own ring, are overwritten by later
 * pushes, and {@link Local#clearIfEmpty} drops them all when the owner finds its ring empty before it
 * parks (nothing can be claimed from an empty ring, and only the owner pushes).
 */
public final class RunQueue extends RunQueueFields {
    private static final VarHandle HEAD = VarHandles.field(MethodHandles.lookup(), RunQueueFields.class, "head", long.class);
    private static final VarHandle TAIL = VarHandles.field(MethodHandles.lookup(), RunQueueFields.class, "tail", long.class);
    private static final VarHandle NEXT = VarHandles.field(MethodHandles.lookup(), RunQueueFields.class, "next", Runnable.class);
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Runnable[].class);

    @SuppressWarnings("unused")                 // after the indices: see LinePadding
    private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

    private final Local local = new Local();
    private final Steal steal = new Steal();
    private static final BooleanSupplier ANY_THREAD = () -> true;
    private BooleanSupplier isOwner = ANY_THREAD; // for the owner-only assertions; set before the queue is shared

    public RunQueue(int capacity) {
        super(checkedCapacity(capacity));
    }

    private static int checkedCapacity(int capacity) {
        if (Integer.bitCount(capacity) != 1 || capacity < 2) {
            throw new IllegalArgumentException("capacity must be a power of two >= 2: " + capacity);
        }
        return capacity;
    }

    public Local local() { return local; }

    /**
     * Names the owner for the assertions of {@link Local}'s operations: {@code isOwner} answers whether
     * the calling thread may act as the owner. Call before the queue is shared (e.g. before the owner
     * thread starts); without it any thread passes.
     */
    public void assertOwnerWith(BooleanSupplier isOwner) {
        this.isOwner = java.util.Objects.requireNonNull(isOwner, "isOwner");
    }

    private boolean calledByOwner() {
        return isOwner.getAsBoolean();
    }
    public Steal steal() { return steal; }
    int capacity() { return slots.length; }

    /** Racy size for statistics and idle checks: ring plus next slot. Any thread. */
    public int sizeEstimate() {
        long h = (long) HEAD.getAcquire(this);
        long t = (long) TAIL.getAcquire(this);
        int n = (int) Math.max(0, Math.min(t - h, slots.length));
        return NEXT.getAcquire(this) != null ? n + 1 : n;
    }

    /** True when nothing is visible to a thief; any thread. */
    public boolean isEmpty() {
        return (long) TAIL.getAcquire(this) == (long) HEAD.getAcquire(this) && NEXT.getAcquire(this) == null;
    }

    /** Operations of the owning carrier. Called from the owner thread only. */
    public final class Local {
        /**
         * Pushes to the tail. Returns false when the ring is full; the caller then spills with
         * {@link #drainHalfForSpill}.
         */
        public boolean offer(Runnable task) {
            assert calledByOwner() : "RunQueue.offer from a thread other than the owner";
            long t = (long) TAIL.get(RunQueue.this);            // plain: only we write tail
            long h = (long) HEAD.getAcquire(RunQueue.this);     // acquire; pairs with consumers' CAS on head
            if (t - h >= slots.length) return false;
            SLOTS.setOpaque(slots, (int) (t & mask), task);
            TAIL.setRelease(RunQueue.this, t + 1);              // release; pairs with the acquire in poll/stealInto
            return true;
        }

        /** Pops the head, or null when the ring is empty. Does not look at the next slot. */
        public Runnable poll() {
            assert calledByOwner() : "RunQueue.poll from a thread other than the owner";
            for (;;) {
                long h = (long) HEAD.getAcquire(RunQueue.this);
                long t = (long) TAIL.get(RunQueue.this);
                if (h == t) return null;
                int i = (int) (h & mask);
                Runnable task = (Runnable) SLOTS.getOpaque(slots, i);
                if (HEAD.compareAndSet(RunQueue.this, h, h + 1)) {    // claim; races thieves
                    SLOTS.setOpaque(slots, i, null);                  // let the task go (see "Retention")
                    return task;
                }
            }
        }

        /**
         * Puts a task in the next slot, returning the task it displaced (which the caller must queue), or
         * null.
         */
        public Runnable swapNext(Runnable task) {
            assert calledByOwner() : "RunQueue.swapNext from a thread other than the owner";
            return (Runnable) NEXT.getAndSet(RunQueue.this, task); // pairs with a thief's CAS in takeNext
        }

        /** Takes the next slot, or null. */
        public Runnable takeNext() {
            assert calledByOwner() : "RunQueue.takeNext from a thread other than the owner";
            if (NEXT.getOpaque(RunQueue.this) == null) return null; // cheap check before the exchange
            return (Runnable) NEXT.getAndSet(RunQueue.this, null);
        }

        /**
         * Claims the older half of a full ring for a spill to the injection queue. Returns the claimed
         * tasks, or null when a thief made room meanwhile (then simply offer again).
         */
        public Runnable[] drainHalfForSpill() {
            assert calledByOwner() : "RunQueue.drainHalfForSpill from a thread other than the owner";
            long h = (long) HEAD.getAcquire(RunQueue.this);
            long t = (long) TAIL.get(RunQueue.this);
            int n = (int) ((t - h) / 2);
            if (t - h < slots.length || n == 0) return null;
            Runnable[] batch = new Runnable[n];
            for (int i = 0; i < n; i++) batch[i] = (Runnable) SLOTS.getOpaque(slots, (int) ((h + i) & mask));
            if (!HEAD.compareAndSet(RunQueue.this, h, h + n)) return null; // a thief took some: room now
            for (int i = 0; i < n; i++) SLOTS.setOpaque(slots, (int) ((h + i) & mask), null); // see "Retention"
            return batch;
        }

        /**
         * When the ring is empty, drops every stale reference its slots still hold (tasks thieves took,
         * staging of a lost steal); does nothing otherwise. The owner calls it before it parks, so an
         * idle carrier keeps no finished fiber reachable.
         */
        public void clearIfEmpty() {
            assert calledByOwner() : "RunQueue.clearIfEmpty from a thread other than the owner";
            long h = (long) HEAD.getAcquire(RunQueue.this);     // acquire; pairs with consumers' CAS on head
            if (h != (long) TAIL.get(RunQueue.this)) return;
            for (int i = 0; i < slots.length; i++) {
                if (SLOTS.getOpaque(slots, i) != null) SLOTS.setOpaque(slots, i, null);
            }
        }

        /**
         * Writes {@code task} at {@code tail + offset} without publishing it. Used by a thief filling its own
         * (empty) ring before {@link #publish}.
         */
        void stage(int offset, Runnable task) {
            long t = (long) TAIL.get(RunQueue.this);
            SLOTS.setOpaque(slots, (int) ((t + offset) & mask), task);
        }

        /** Publishes {@code n} staged tasks. */
        void publish(int n) {
            long t = (long) TAIL.get(RunQueue.this);
            TAIL.setRelease(RunQueue.this, t + n);          // release; pairs with the acquire in poll/stealInto
        }

        /** Free ring slots as seen by the owner. */
        public int remaining() {
            long h = (long) HEAD.getAcquire(RunQueue.this);
            long t = (long) TAIL.get(RunQueue.this);
            return slots.length - (int) (t - h);
        }
    }

    /** Operations of other carriers on this queue. Any thread. */
    public final class Steal {
        /**
         * Steals half of this ring (rounded up) into {@code dst}, which must be the thief's own, empty
         * local queue. Returns one stolen task for the thief to run at once (the rest are published in
         * {@code dst}), or null when there was nothing to steal. {@code stolen[0]} receives the count.
         */
        public Runnable stealInto(RunQueue.Local dst, int[] stolen) {
            for (;;) {
                long h = (long) HEAD.getAcquire(RunQueue.this);   // acquire; pairs with consumers' CAS
                long t = (long) TAIL.getAcquire(RunQueue.this);   // acquire; pairs with the owner's release
                long avail = t - h;
                if (avail <= 0) return null;
                if (avail > slots.length) continue;               // inconsistent snapshot (head moved); retry
                int n = (int) (avail - avail / 2);
                n = Math.min(n, Math.min(slots.length / 2, dst.remaining()));
                if (n <= 0) return null;
                // copy into dst's unpublished slots first, then claim with one CAS
                for (int i = 0; i < n - 1; i++) {
                    dst.stage(i, (Runnable) SLOTS.getOpaque(slots, (int) ((h + i) & mask)));
                }
                Runnable first = (Runnable) SLOTS.getOpaque(slots, (int) ((h + n - 1) & mask));
                if (HEAD.compareAndSet(RunQueue.this, h, h + n)) {
                    if (n > 1) dst.publish(n - 1);
                    stolen[0] = n;
                    return first;
                }
                // lost the race: staged slots are simply overwritten next time
            }
        }

        /** Takes the victim's next slot, the last resort of a thief. */
        public Runnable stealNext() {
            Runnable task = (Runnable) NEXT.getAcquire(RunQueue.this);
            if (task != null && NEXT.compareAndSet(RunQueue.this, task, null)) return task; // pairs with swapNext
            return null;
        }

        public boolean hasNext() {
            return NEXT.getAcquire(RunQueue.this) != null;
        }
    }
}

/**
 * The fields of a {@link RunQueue} that every carrier reads and writes, behind 128 bytes of padding
 * ({@link LinePadding}): the owner writes {@code tail} and the thieves CAS {@code head} on every
 * transfer, so the queue must not share a line with another carrier's queue or counters.
 */
abstract class RunQueueFields extends LinePadding {
    final Runnable[] slots;                     // the ring; slot i holds item with index i & mask
    final int mask;                             // capacity - 1
    @SuppressWarnings("unused") volatile long head;  // next index to consume; CAS by all consumers
    @SuppressWarnings("unused") volatile long tail;  // next index to produce; owner writes (release)
    @SuppressWarnings("unused") volatile Runnable next; // the "next" slot; owner exchanges, thieves CAS

    RunQueueFields(int capacity) {
        slots = new Runnable[capacity];
        mask = capacity - 1;
    }
}
