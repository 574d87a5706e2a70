package dev.bobbin;

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
 */
class JobCount {
    private final LongAdder enrols = new LongAdder();
    private final LongAdder exits = new LongAdder();

    /** A fiber was enrolled (before its start). Any thread; a CAS on one cell. */
    final void enrolled() {
        enrols.increment();
    }

    /** An enrolled fiber exited, or its start failed. Any thread. */
    final void left() {
        exits.increment();
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
