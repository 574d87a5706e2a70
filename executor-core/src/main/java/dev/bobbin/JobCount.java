package dev.bobbin;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * The fibers a {@link FiberExecutor} has enrolled and not yet seen leave: two monotonic striped counters,
 * {@code enrols} and {@code exits} (a withdrawn start counts as an exit), written by the starting thread
 * and by every carrier, so each is a {@link LongAdder}.
 *
 * <p>Implementation overview. Neither sum is atomic: each lies between its counter's values at the start
 * and at the end of its reading. {@link #noneLeft} sums {@code exits} first and {@code enrols} second.
 * Every fiber's exit happens after its enrol, so the first sum is at most the second, and equal sums mean
 * that every fiber enrolled had left when the second sum began. Reading in the other order (or one
 * up-and-down counter) can see the exit of a fiber that enrolled another between the two reads and miss
 * that enrol: equal sums while a fiber runs. {@code JobCountJcstress} checks the order, and catches a
 * twin that reads {@code enrols} first.
 *
 * <p>Against shutdown. An exit (and a start that must see a shutdown) counts, then reads the executor's
 * state; a shutdown CASes the state, then sums. That is a Dekker pair, which needs a StoreLoad edge on
 * the counting side, and {@link LongAdder}'s CAS (on its base or on a cell) is a release CAS only: the
 * memory model lets a later volatile read be performed before it. Then an exit could read RUNNING while
 * the shutdown's sum misses that exit: neither terminates, and close() waits forever. So {@link #left}
 * and {@link #enrolledThenFence} end with a full fence (x86 orders a locked CAS before later loads
 * anyway; the fence makes that a guarantee of the code, not of the host). {@code JobCountJcstress} checks both
 * pairs and catches twins that read the state before counting; those twins reorder by hand what the
 * memory model allows, since on x86 (and on AArch64, a release store then an acquire load) deleting the
 * fence is not observable.
 */
class JobCount {
    private final LongAdder enrols = new LongAdder();
    private final LongAdder exits = new LongAdder();

    /** A fiber was enrolled (before its start). Any thread; a CAS on one cell. */
    final void enrolled() {
        enrols.increment();
    }

    /**
     * {@link #enrolled}, then a full fence: the caller's next read (the executor's state) stays after the
     * count. The Dekker half of a start (see the overview). Any thread.
     */
    final void enrolledThenFence() {
        enrols.increment();
        VarHandle.fullFence();                       // StoreLoad; pairs with the state CAS in ExecutorState.shutdown
    }

    /**
     * An enrolled fiber exited, or its start failed; then a full fence: the caller's next read (the
     * executor's state) stays after the count. The Dekker half of an exit (see the overview). Any thread.
     */
    final void left() {
        exits.increment();
        VarHandle.fullFence();                       // StoreLoad; pairs with the state CAS in ExecutorState.shutdown
    }

    /** For the broken twins in tests: {@link #enrolled} or {@link #left}'s count without the fence. */
    final void countWithoutFence(boolean enrol) {
        (enrol ? enrols : exits).increment();
    }

    /** Whether every enrolled fiber has left. Any thread; exits first, then enrols (see the overview). */
    boolean noneLeft() {
        long x = exits.sum();
        return x == enrols.sum();
    }

    /** Fibers enrolled and not yet left. Racy; for statistics. */
    final int live() {
        long x = exits.sum();
        return (int) Math.max(0, enrols.sum() - x);
    }

    /** For the broken twin in tests: the enrols' sum, read before the exits' by the twin. */
    final long enrolsSum() {
        return enrols.sum();
    }

    /** The exits' sum: the jobs completed plus the withdrawn starts. Racy. */
    final long exitsSum() {
        return exits.sum();
    }
}
