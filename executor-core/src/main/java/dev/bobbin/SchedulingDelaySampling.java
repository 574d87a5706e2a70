package dev.bobbin;

import dev.bobbin.scheduler.Tunables;

/**
 * How often a {@link FiberScheduler} measures scheduling delay: the time from the moment a fiber becomes
 * runnable (started, unparked, woken by I/O, or yielding) until a carrier begins to run it.
 *
 * <p>A measurement costs two {@link System#nanoTime()} reads and a slot exchange in a small table
 * shared by the carriers; nothing is kept per fiber. Measured delays are summed in
 * {@link SchedulerStats} and handed to listeners added with
 * {@link FiberScheduler#addSchedulingDelayListener}.
 *
 * <pre>{@code
 * SchedulerConfig.builder().schedulingDelaySampling(SchedulingDelaySampling.oneIn(16)).build();
 * }</pre>
 *
 * @param period 0 to measure nothing; 1 to measure every time a fiber becomes runnable; n &gt; 1 to
 *               measure one submission in n on each carrier (and a random one in n from other threads)
 */
public record SchedulingDelaySampling(int period) {

    /** Validates {@code period}. */
    public SchedulingDelaySampling {
        if (period < 0) throw new IllegalArgumentException("period must be >= 0: " + period);
    }

    /** No measurement: the hot path only tests a null field. */
    public static SchedulingDelaySampling off() {
        return new SchedulingDelaySampling(0);
    }

    /**
     * Every time any fiber becomes runnable. A diagnostic mode: it allocates a small record per
     * submission and may drop samples when more than 16k fibers are runnable at once.
     */
    public static SchedulingDelaySampling everyFiber() {
        return new SchedulingDelaySampling(1);
    }

    /**
     * One submission in {@code n}.
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static SchedulingDelaySampling oneIn(int n) {
        if (n < 1) throw new IllegalArgumentException("n must be >= 1: " + n);
        return new SchedulingDelaySampling(n);
    }

    /** The default: one submission in 64 on each carrier. */
    public static SchedulingDelaySampling defaults() {
        return new SchedulingDelaySampling(Tunables.DELAY_SAMPLING_DEFAULT_PERIOD);
    }

    /** Whether nothing is measured. */
    public boolean isOff() {
        return period == 0;
    }
}
