package dev.bobbin;

/**
 * How a {@link FiberScheduler} relates its fibers to its carrier threads: the three task models of an
 * async runtime.
 *
 * <pre>{@code
 * FiberScheduler perCore = FiberScheduler.create(SchedulerConfig.builder()
 *         .policy(SchedulingPolicy.THREAD_PER_CORE)
 *         .placement(SchedulingPolicy.Placement.LEAST_LOADED)
 *         .build());
 * }</pre>
 *
 * <p>Whatever the policy, a single fiber can also be started bound to one carrier with
 * {@link FiberScheduler#startLocal(Runnable)} or {@link FiberScheduler#startOn(int, Runnable)}.
 */
public enum SchedulingPolicy {

    /**
     * The default: a fiber runs on whichever carrier has time; idle carriers steal queued fibers from
     * busy ones, so a fiber may resume on another carrier after each blocking point. Best throughput
     * and latency under uneven load. Carriers stalled by a fiber that does not yield have their queued
     * fibers handed to other carriers, and spare carriers are started if every carrier is stalled.
     */
    WORK_STEALING,

    /**
     * Each fiber is dealt to one carrier when it starts (see {@link Placement}) and runs only there until
     * it ends; carriers never steal. Keeps a fiber's data in one core's caches and lets fibers of one
     * carrier share state with the guarantees of {@link #SINGLE_THREAD}; the price is that an uneven
     * load is not rebalanced. Stall protection re-deals fibers not yet started from a stalled carrier; started ones wait.
     */
    THREAD_PER_CORE,

    /**
     * One carrier: fibers of this scheduler never run in parallel, so they may share non-thread-safe
     * state without locks. They interleave only where one of them blocks (a park, sleep, I/O, lock, or
     * {@link Thread#yield()} and {@link FiberScheduler#checkpoint()}). The parallelism is 1; stall
     * protection reports stalls but never starts a spare carrier, since that would break this guarantee.
     */
    SINGLE_THREAD;

    /** How {@link #THREAD_PER_CORE} deals a starting fiber to a carrier. */
    public enum Placement {
        /** Carriers in turn: cheapest, and even when fibers are alike. */
        ROUND_ROBIN,
        /** The carrier with the fewest live fibers bound to it (ties go round robin). */
        LEAST_LOADED
    }
}
