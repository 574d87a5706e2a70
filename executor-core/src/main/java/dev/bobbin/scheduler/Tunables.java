package dev.bobbin.scheduler;

/**
 * Every scheduler tunable in one place, each with the reason for its value.
 */
public final class Tunables {
    private Tunables() { }

    /** Local run queue slots per carrier; a power of two. Go and Tokio both use 256: large enough to absorb
     *  a burst of spawns, small enough that stealing half moves a cache-friendly batch. */
    static final int LOCAL_QUEUE_CAPACITY = 256;

    /** Every this many tasks a carrier polls the injection queue and its inbox first (taking turns), so
     *  outside submissions and bound fibers are not starved by a carrier whose local queue never drains.
     *  Go's value: 61, prime so it does not beat against other periodic behaviour. */
    static final int INJECTION_POLL_INTERVAL = 61;

    /** Every this many tasks a carrier polls its driver (I/O completions) even while it has local work.
     *  Tokio's event_interval is 61 for the same reason as above. */
    static final int DRIVER_POLL_INTERVAL = 61;

    /** At most this many fibers in a row may run from the "next" slot before the carrier takes one from
     *  its queue: a ping-pong pair keeps its locality but cannot starve the rest. Tokio uses 3. */
    static final int NEXT_SLOT_MAX_CONSECUTIVE = 3;

    /** Spin iterations a thief waits before taking a victim's "next" slot, so that the victim, which
     *  is about to run it, gets the chance first (about 9.5 microseconds here; Go waits about 3). A
     *  shorter grace let thieves take fibers their owner was about to run and lengthened echo tails. */
    static final int NEXT_SLOT_STEAL_GRACE_SPINS = 512;

    /** A ring of only its carrier's own I/O completions is left to that carrier while it holds fewer than
     *  this many (Carrier.keepsUpWithOwnCompletions): half the ring, so a carrier falling behind its
     *  completions is helped well before the ring spills. */
    static final int OWN_COMPLETIONS_KEPT = LOCAL_QUEUE_CAPACITY / 2;

    /** The grace while the victim sees woken fibers wait behind running wakers (it wakes peers for
     *  them): about 2.4 microseconds, shorter than the 256 spins of the JDK's {@code Phaser} waiter, so a
     *  woken peer takes the partner the waiter spins for before the waiter gives up and parks. */
    static final int NEXT_SLOT_STEAL_GRACE_SPINS_SHORT = 128;

    /** One in this many fibers put in a next slot is timed until its carrier takes it (a power of two;
     *  two clock reads amortized to about one nanosecond per put). */
    static final int NEXT_SLOT_SAMPLE_EVERY = 64;

    /** A sampled next-slot fiber that waited longer than this was woken by a fiber that kept running:
     *  about the steal grace, so a peer woken then could have taken it. */
    static final long NEXT_SLOT_LATE_NANOS = 2_000;

    /** Next-slot puts that wake a parked peer after a late sample: long enough for a spinning pair to
     *  land on two carriers, short enough that a pattern that changed costs little. */
    static final int NEXT_SLOT_WAKE_PUTS = 256;

    /** Upper bound on tasks moved from the injection queue to a local queue at once: half the local queue,
     *  so a batch never forces a spill straight back. */
    static final int INJECTION_BATCH_MAX = LOCAL_QUEUE_CAPACITY / 2;

    /** Spin-wait iterations of a carrier that registered as a sleeper before it blocks in its driver (about
     *  6 microseconds on a 2020s x86 core, where one spin-wait pause takes about 25 ns): a task submitted
     *  meanwhile takes it without a futex wake on either side, which is what a submit-and-wait caller pays
     *  per task otherwise. The JDK's ForkJoinPool spins as long. Only carriers without I/O duties spin. */
    static final int IDLE_SPINS = Runtime.getRuntime().availableProcessors() > 1 ? 256 : 0;

    /** The most an idle carrier's spin may grow to when it keeps being woken soon after blocking
     *  ({@link IdleSpin}): about 25 microseconds, about a futex wake-up round trip between two threads in a
     *  virtual machine, so a submit-and-wait partner finds the carrier still spinning. 8x (50 microseconds)
     *  made spawn+join from a platform thread a little faster (1.85x vs 1.71x the JDK) but cost about 8 %
     *  more server CPU on JDK-socket echo at 100 connections; 4x cost nothing measurable there. */
    static final int IDLE_SPINS_MAX = IDLE_SPINS * 4;

    /** A block shorter than this means a partner woke the carrier about as fast as a wake-up round trip
     *  goes, so a longer spin would have saved the block ({@link IdleSpin}); twice the longest spin. */
    static final long IDLE_SPIN_SHORT_BLOCK_NANOS = 50_000;

    /** How long a platform thread in {@code Future.get} on a {@code FiberExecutor} task spin-waits before it
     *  parks: several times what a short task takes from submission to completion on an awake carrier
     *  (3-5 microseconds), and negligible beside a task that takes longer. None on one CPU, where the
     *  spinner would only delay the task. */
    public static final long GET_SPIN_NANOS = Runtime.getRuntime().availableProcessors() > 1 ? 20_000 : 0;

    /** invokeAll from outside the scheduler fans out through fibers from this many tasks on: below it, one
     *  more fiber per call costs more than the outside starts it saves. */
    public static final int FANOUT_MIN_TASKS = 32;

    /** Tasks started by one fan-out fiber: half a local queue, so its starts fill the carrier's ring and a
     *  thief's half-steal without a spill. */
    public static final int FANOUT_CHUNK = LOCAL_QUEUE_CAPACITY / 2;

    /** How long a carrier parks while the scheduler shuts down, between re-checks of the exit condition:
     *  a safety net only; the normal path is an explicit wakeup when the last fiber ends. */
    static final long SHUTDOWN_PARK_NANOS = 50_000_000L;

    /** The pause of a carrier after its driver's poll or park threw, doubling while failures repeat, up to
     *  the maximum: a faulty driver must neither spin its carrier nor flood the error handler. */
    static final long DRIVER_FAILURE_PAUSE_MIN_NANOS = 1_000_000L;
    static final long DRIVER_FAILURE_PAUSE_MAX_NANOS = 1_000_000_000L;

    // ---- telemetry ----

    /** Default scheduling-delay sampling: one submission in this many per carrier is timed. Rare enough
     *  that the two clock reads and the slot exchange vanish in the noise of a ping-pong (bench/README.md),
     *  frequent enough for stable percentiles within seconds at a few thousand wakeups per second. */
    public static final int DELAY_SAMPLING_DEFAULT_PERIOD = 64;

    /** Slots of the in-flight scheduling-delay samples when sampling: a fiber maps to slot id % slots, so
     *  two sampled fibers in flight at once collide (one sample is dropped) only if their ids are this far
     *  apart; with one in 64 submissions sampled, about P * 4 samples are in flight on a busy scheduler. */
    static final int DELAY_SLOTS_SAMPLED = 1024;

    /** Slots when every submission is timed: enough for 16k runnable fibers with nearby ids before samples
     *  are dropped (64 KiB of references per scheduler, paid only in that diagnostic mode). */
    static final int DELAY_SLOTS_EVERY = 16_384;

    /** A single steal that moves at least this many fibers is reported as a JFR steal-burst event: a
     *  sixteenth of a local queue, which a steady load with balanced carriers does not reach. */
    public static final int STEAL_BURST_MIN_FIBERS = 16;

    /** Live-fiber registry stripes per carrier (rounded up to a power of two): keeps the registry's
     *  locks uncontended when every carrier starts and ends fibers at once. */
    static final int FIBER_REGISTRY_STRIPES_PER_CARRIER = 4;

    /** Consecutive thread ids that share a registry stripe, and a block of slots in its table: a thief's
     *  batch of fibers, started one after another, ends on a few stripes and table lines instead of one
     *  cache-line transfer per fiber (16 compressed references are a line's worth); short enough that a hundred
     *  fibers still spread over the stripes (bench/README.md, "Twenty-third session", "Twenty-fourth
     *  session"). A power of two. */
    static final int FIBER_REGISTRY_STRIPE_RUN = 16;

    /** Spins of a thread waiting for a registry stripe before it yields: a holder runs a few probes, so a
     *  longer wait means it was descheduled. */
    static final int REGISTRY_LOCK_SPINS = 128;

    /** How long a thread dump waits for a registry stripe's lock before leaving that stripe's fibers out:
     *  the locks are held for a few probes, so only a holder frozen (by a debugger) or descheduled for
     *  long keeps one, and a dump must not hang on it. */
    static final long REGISTRY_DUMP_LOCK_WAIT_NANOS = 100_000_000L;

    /** Initial slots per registry stripe; tables grow above 1/2 load and shrink only after a sustained low
     *  load (FiberRegistry.Stripe), so a tracked fiber costs 16 to 32 bytes at a table's peak (a 4-byte
     *  reference and a 4-byte hash per slot), 32 to 64 with trackFibers (plus an 8-byte timestamp). At
     *  most half full, a linear probe that misses reads 2.5 slots on average, against 8.5 at 3/4, where the
     *  tables' inserts and lookups were a fifth of the CPU of an invokeAll loop. */
    static final int FIBER_REGISTRY_INITIAL_SLOTS = 16;

    /** The stall monitor trims registry tables left large by a load that stopped this often
     *  (FiberRegistry.trimIdle): rarely enough that the pass, one CAS per stripe, costs nothing, and soon
     *  enough that a drained spike's tables go back within a second. */
    static final long REGISTRY_TRIM_INTERVAL_NANOS = 1_000_000_000L;

    /** A scheduler whose start failed waits this long for the carriers that did start to close their
     *  drivers before it throws: closing a driver (an io_uring ring) takes microseconds to milliseconds. */
    static final long FAILED_START_CLEANUP_NANOS = 10_000_000_000L;

    // ---- stall protection and preemption ----

    /** Default stall threshold: a carrier that has run one fiber this long without a blocking point is
     *  stalled. Long enough that ordinary JIT, GC and page-fault hiccups never trip it; short enough that
     *  a stuck carrier is noticed before its queued fibers' users do. */
    public static final long DEFAULT_STALL_THRESHOLD_NANOS = 100_000_000L;

    /** The stall monitor samples every carrier at most this often (Go's sysmon sleeps up to 10 ms). */
    static final long MONITOR_MAX_INTERVAL_NANOS = 10_000_000L;

    /** ... and at least this often, and at least this many times per stall threshold, so that short test
     *  thresholds are still sampled finely. */
    static final long MONITOR_MIN_INTERVAL_NANOS = 1_000_000L;
    static final int MONITOR_SAMPLES_PER_THRESHOLD = 4;

    /** A fiber that has run this long without a blocking point is asked to yield at its next
     *  {@code FiberScheduler.checkpoint()}: Go's forced-preemption slice. */
    static final long TIME_SLICE_NANOS = 10_000_000L;

    /** A stall is logged at WARNING only once it has held runnable work this long: class initialisation
     *  and JIT warm-up stall carriers for a few hundred milliseconds at start, which is not worth a
     *  warning; a second is a fiber that needs {@code checkpoint()} or a blocking call off the carrier. */
    static final long STALL_WARNING_NANOS = 1_000_000_000L;

    /** At most one stall WARNING per scheduler this often: a hot loop that stalls carriers again and again
     *  says so once per interval, with a count of what it suppressed. */
    static final long STALL_WARNING_INTERVAL_NANOS = 10_000_000_000L;

    /** A thread waiting in a FiberExecutor's close() or awaitTermination re-checks termination at least
     *  this often, and a finding must hold this long before a waiter acts on it
     *  (ExecutorState.recheckTermination): the check is a few reads, and a termination the protocol
     *  missed (a bug, reported at WARNING) then waits about two seconds, not forever. */
    public static final long TERMINATION_RECHECK_NANOS = 1_000_000_000L;

    /** Waiters scan the registry for their executor's fibers (a check for exits nobody counted) only
     *  after this long without an exit, one waiter at a time, and then at twice the gap each time, up to
     *  the maximum below: a thousand executors waiting on long tasks cost a few scans a second at first
     *  and fewer and fewer after, not a thousand a second. */
    public static final long TERMINATION_SCAN_FIRST_NANOS = 2_000_000_000L;

    /** The longest gap between two such scans (about four minutes). */
    public static final long TERMINATION_SCAN_MAX_GAP_NANOS = 256_000_000_000L;

    /** At most one WARNING in the JVM this often about executors' accounting (a termination taken by a
     *  waiter, fibers counted that the registry lost; each executor reports once): an application that
     *  makes an executor per request logs one line, not one per request, if a fault hits them all. */
    public static final long EXECUTOR_REPORT_INTERVAL_NANOS = 10_000_000_000L;

    /** At most one ERROR record from the default carrier error handler per scheduler this often: a failure
     *  that repeats (a spare that cannot open its driver while descriptors are out) must not flood the log. */
    static final long CARRIER_ERROR_LOG_INTERVAL_NANOS = 10_000_000_000L;

    /** A spare carrier out of work while some carrier is still stalled stays parked (available to wakes)
     *  this long before it retires: long enough to bridge the gaps of a bursty submitter, short enough that
     *  spares do not linger once the stall is over. */
    static final long SPARE_KEEP_ALIVE_NANOS = 50_000_000L;
}
