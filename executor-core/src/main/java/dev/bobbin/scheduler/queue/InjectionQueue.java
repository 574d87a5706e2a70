package dev.bobbin.scheduler.queue;

import dev.bobbin.base.LinePadding;
import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/**
 * The scheduler-wide queue for work submitted from outside the carriers and for spills of full local
 * queues; also each carrier's inbox of tasks of fibers bound to it.
 *
 * <p>Implementation overview. A lock-free linked queue (the JDK's {@link ConcurrentLinkedQueue}, a
 * Michael–Scott queue) plus two counts. No operation waits for another thread: a submitter or carrier
 * preempted in the middle of a push or poll holds nothing the others need, where under a lock the other
 * carriers and every outside submitter would wait for it to be scheduled again (seen in the echo
 * benchmark: a carrier blocked on the lock for milliseconds while the holder sat preempted). Each task
 * costs one node while it is queued; a drained queue holds one node, so a burst leaves no memory behind.
 *
 * <p>Emptiness is the queue's own: {@link #isEmpty} reads the head node (volatile reads), and a push
 * links its node with a CAS, so a submitter that pushes and then reads a carrier's sleep flag, and a
 * carrier that sets that flag and then calls {@link #isEmpty}, cannot both miss each other (the wake
 * protocol's Dekker pairs). {@link #size} is two separate counts, tasks pushed (added to after the
 * link) less tasks taken (added to after the unlink), each on its own cache line; it may lag the queue
 * by the operations in flight and is for estimates only (the batch share, statistics, the stall
 * monitor), never for the wake protocol.
 *
 * <p>{@link #pushAll} links all its tasks with one CAS, in order. {@link #pollBatch} polls one task at a
 * time, so two carriers taking batches at once interleave; each task is still taken exactly once.
 */
public final class InjectionQueue {
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Tally pushed = new Tally();     // written by submitters only
    private final Tally polled = new Tally();     // written by takers only

    /** An empty queue. */
    public InjectionQueue() { }

    /** Appends {@code task}. Any thread; never blocks. */
    public void push(Runnable task) {
        Objects.requireNonNull(task, "task");
        tasks.offer(task);                        // CAS links the node: the publication the wake protocol reads
        pushed.add(1);
    }

    /** Appends {@code batch} and then {@code extra} (if not null), in that order, all at once. */
    public void pushAll(Runnable[] batch, Runnable extra) {
        List<Runnable> all = new Batch(batch, extra);
        if (all.isEmpty()) return;
        tasks.addAll(all);                        // one CAS links the whole chain
        pushed.add(all.size());
    }

    /** The oldest task, or null when empty. Any thread. */
    public Runnable poll() {
        Runnable t = tasks.poll();
        if (t != null) polled.add(1);
        return t;
    }

    /**
     * Moves up to {@code max} tasks: returns the first and offers the rest to {@code dst} (which must have
     * room for them). Returns null when empty.
     */
    public Runnable pollBatch(RunQueue.Local dst, int max) {
        Runnable first = tasks.poll();
        if (first == null) return null;
        int taken = 1;                            // counted once for the batch
        while (taken < max) {
            Runnable t = tasks.poll();
            if (t == null) break;
            taken++;
            if (!dst.offer(t)) {                  // cannot happen when max <= dst.remaining(); keep safe
                polled.add(taken);
                push(t);
                return first;
            }
        }
        polled.add(taken);
        return first;
    }

    /**
     * Takes out every task {@code which} accepts, in order, leaving the others in theirs. A scan of the
     * whole queue: for rare rescues (the stall monitor's), not for the hot path. A task that another
     * thread polls during the scan goes to that thread instead; each is taken exactly once.
     */
    public List<Runnable> takeMatching(Predicate<Runnable> which) {
        List<Runnable> taken = new ArrayList<>();
        for (Iterator<Runnable> it = tasks.iterator(); it.hasNext(); ) {
            Runnable t = it.next();
            if (which.test(t) && tasks.remove(new SameTask(t))) {  // true only for the thread that unlinked it
                polled.add(1);
                taken.add(t);
            }
        }
        return taken;
    }

    /** Whether the queue holds no task. Exact at the moment of its volatile reads; the wake protocol uses it. */
    public boolean isEmpty() { return tasks.isEmpty(); }

    /** How many tasks are queued, about: may lag pushes and polls in flight. Never negative. */
    public int size() {
        long out = polled.get();                  // first: a push counted later only makes the estimate larger
        return Math.clamp(pushed.get() - out, 0, Integer.MAX_VALUE);
    }

    /**
     * A count that one side of the queue adds to (submitters to {@code pushed}, takers to {@code polled}),
     * on a cache line of its own: a submitter and a carrier handing tasks over do not pass a shared
     * counter's line back and forth on every task.
     */
    static final class Tally extends InjectionQueueTallyFields {
        @SuppressWarnings("unused")               // after the value: see LinePadding
        private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;
    }

    /**
     * Matches only {@code task} itself: {@link ConcurrentLinkedQueue#remove} asks its argument's
     * {@code equals}, and two distinct tasks that are equal must not stand for each other.
     */
    private static final class SameTask {
        private final Runnable task;

        SameTask(Runnable task) { this.task = task; }

        @Override public boolean equals(Object o) { return o == task || o == this; }

        @Override public int hashCode() { return System.identityHashCode(task); }
    }

    /** {@code batch} followed by {@code extra}, as a list for {@link ConcurrentLinkedQueue#addAll}. */
    private static final class Batch extends AbstractList<Runnable> implements RandomAccess {
        private final Runnable[] batch;
        private final Runnable extra;

        Batch(Runnable[] batch, Runnable extra) {
            this.batch = Objects.requireNonNull(batch, "batch");
            this.extra = extra;
        }

        @Override public Runnable get(int i) {
            return i < batch.length ? Objects.requireNonNull(batch[i], "batch element") : extra;   // size() counts extra only when it is set
        }

        @Override public int size() { return batch.length + (extra != null ? 1 : 0); }
    }
}

/** A {@link InjectionQueue.Tally}'s value, behind 128 bytes of padding ({@link LinePadding}). */
abstract class InjectionQueueTallyFields extends LinePadding {
    private static final VarHandle VALUE = VarHandles.field(MethodHandles.lookup(), InjectionQueueTallyFields.class, "value", long.class);

    volatile long value;

    /** Atomic add (volatile semantics); pairs with the volatile read in {@code get}. */
    final void add(int delta) {
        VALUE.getAndAdd(this, (long) delta);
    }

    final long get() { return value; }
}
