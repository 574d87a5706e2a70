package dev.bobbin;

/**
 * Every scheduler tunable in one place, each with the reason for its value.
 */
final class Tunables {
    private Tunables() { }

    /** Local run queue slots per carrier; a power of two. Go and Tokio both use 256: large enough to absorb
     *  a burst of spawns, small enough that stealing half moves a cache-friendly batch. */
    static final int LOCAL_QUEUE_CAPACITY = 256;

    /** Every this many tasks a carrier polls the injection queue first, so outside submissions are not
     *  starved by a carrier whose local queue never drains. Go's value: 61, prime so it does not beat
     *  against other periodic behaviour. */
    static final int INJECTION_POLL_INTERVAL = 61;

    /** Every this many tasks a carrier polls its driver (I/O completions) even while it has local work.
     *  Tokio's event_interval is 61 for the same reason as above. */
    static final int DRIVER_POLL_INTERVAL = 61;

    /** At most this many fibers in a row may run from the "next" slot before the carrier takes one from
     *  its queue: a ping-pong pair keeps its locality but cannot starve the rest. Tokio uses 3. */
    static final int NEXT_SLOT_MAX_CONSECUTIVE = 3;

    /** Spin iterations a thief waits before taking a victim's "next" slot, so that the victim, which
     *  is about to run it, gets the chance first (Go waits about 3 microseconds). */
    static final int NEXT_SLOT_STEAL_GRACE_SPINS = 512;

    /** Upper bound on tasks moved from the injection queue to a local queue at once: half the local queue,
     *  so a batch never forces a spill straight back. */
    static final int INJECTION_BATCH_MAX = LOCAL_QUEUE_CAPACITY / 2;

    /** How long a carrier parks while the scheduler shuts down, between re-checks of the exit condition:
     *  a safety net only; the normal path is an explicit wakeup when the last fiber ends. */
    static final long SHUTDOWN_PARK_NANOS = 50_000_000L;

    // ---- telemetry ----

    /** Default scheduling-delay sampling: one submission in this many per carrier is timed. Rare enough
     *  that the two clock reads and the slot exchange vanish in the noise of a ping-pong (bench/README.md),
     *  frequent enough for stable percentiles within seconds at a few thousand wakeups per second. */
    static final int DELAY_SAMPLING_DEFAULT_PERIOD = 64;

    /** Slots of the in-flight scheduling-delay samples when sampling: a fiber maps to slot id % slots, so
     *  two sampled fibers in flight at once collide (one sample is dropped) only if their ids are this far
     *  apart; with one in 64 submissions sampled, about P * 4 samples are in flight on a busy scheduler. */
    static final int DELAY_SLOTS_SAMPLED = 1024;

    /** Slots when every submission is timed: enough for 16k runnable fibers with nearby ids before samples
     *  are dropped (64 KiB of references per scheduler, paid only in that diagnostic mode). */
    static final int DELAY_SLOTS_EVERY = 16_384;

    /** A single steal that moves at least this many fibers is reported as a JFR steal-burst event: a
     *  sixteenth of a local queue, which a steady load with balanced carriers does not reach. */
    static final int STEAL_BURST_MIN_FIBERS = 16;

    /** Live-fiber registry stripes per carrier (rounded up to a power of two): keeps the registry's
     *  locks uncontended when every carrier starts and ends fibers at once. */
    static final int FIBER_REGISTRY_STRIPES_PER_CARRIER = 4;

    /** Initial slots per registry stripe; tables grow at 3/4 load and shrink below 1/8, so a tracked
     *  fiber costs 16 to 32 bytes (a 4-byte reference and an 8-byte timestamp per slot). */
    static final int FIBER_REGISTRY_INITIAL_SLOTS = 16;
}
