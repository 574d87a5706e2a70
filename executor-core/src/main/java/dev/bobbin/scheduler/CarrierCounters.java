package dev.bobbin.scheduler;

import dev.bobbin.scheduler.EngineStats.CarrierSnapshot;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One carrier's statistics: plain counters written only by their carrier (or a fiber mounted on it) and
 * read racily by anyone taking a snapshot. Writes and reads are opaque: on the hot path they cost what a
 * plain field access costs, and a reader sees each value whole, possibly slightly stale. The groups of a
 * {@link EngineStats.CarrierSnapshot} that are counters come from here ({@link #runs()}, {@link #workSharing()},
 * {@link #parking}, {@link #schedulingDelay()}).
 */
public final class CarrierCounters {
    public static final int TASKS_RUN = 0;        // continuation tasks run (fiber mounts)
    public static final int FIBERS_STARTED = 1;   // first submissions of fibers, made on this carrier
    public static final int FIBERS_COMPLETED = 2; // fibers that terminated on this carrier
    public static final int STEALS = 3;           // successful steal operations by this carrier
    public static final int STOLEN = 4;           // tasks this carrier took from others
    public static final int PARKS = 5;            // times this carrier parked
    public static final int PARKED_NANOS = 6;     // time spent parked
    public static final int NEXT_SLOT_RUNS = 7;   // tasks run from the next slot
    public static final int SPILLS = 8;           // spills of half the local queue to the injection queue
    public static final int INJECTED_TAKEN = 9;   // tasks taken from the injection queue
    public static final int DRIVER_EVENTS = 10;   // events reported by the driver's poll
    public static final int LOCAL_SCHEDULES = 11; // wakeups scheduled on this carrier's own queue or next slot
    // ---- telemetry (see Telemetry) ----
    public static final int WAKEUPS = 12;         // times another thread woke this carrier; shared: incrementShared only
    public static final int STARTED_AT = 13;      // System.nanoTime() when the carrier started; 0 before
    public static final int STOPPED_AT = 14;      // System.nanoTime() when the carrier exited; 0 while running
    public static final int PARKED_SINCE = 15;    // System.nanoTime() when the current park began; 0 when not parked
    public static final int DELAY_SAMPLES = 16;   // scheduling delays measured on this carrier
    public static final int DELAY_NANOS = 17;     // their sum
    public static final int DELAY_MAX_NANOS = 18; // their maximum
    // ---- placement of woken fibers (internal; see Carrier.wakePeerForNext) ----
    static final int LATE_NEXT_SLOTS = 19;        // sampled next-slot fibers that waited past NEXT_SLOT_LATE_NANOS
    static final int NEXT_SLOT_STEALS = 20;       // next slots this carrier took from another carrier
    static final int COUNT = 21;

    private static final VarHandle VALUES = MethodHandles.arrayElementVarHandle(long[].class);
    /** Unused longs on each side of the counters (128 bytes): the owner writes them at every task, and each
     *  carrier's array is allocated beside other carriers' objects (see {@code LinePadding}). */
    private static final int PAD = 16;
    private final long[] values = new long[PAD + COUNT + PAD]; // counter i at PAD + i
    private final Carrier owner;                  // for the owner-only assertions

    CarrierCounters(Carrier owner) {
        this.owner = owner;
    }

    /** Adds to a counter. Owner carrier only. */
    void add(int counter, long delta) {
        assert owner.isCurrentCarrier() : "counter " + counter + " of " + owner.getName() + " written from elsewhere: owner only";
        VALUES.setOpaque(values, PAD + counter, (long) VALUES.getOpaque(values, PAD + counter) + delta);
    }

    void increment(int counter) {
        add(counter, 1);
    }

    /**
     * Adds one with a release store. Owner carrier only; release, pairs with the acquire read of the runs
     * in {@link #runs} and the acquire fence in {@link CarrierPool#stats}, which reads completions before
     * starts.
     */
    void incrementRelease(int counter) {
        assert owner.isCurrentCarrier() : "counter " + counter + " of " + owner.getName() + " written from elsewhere: owner only";
        VALUES.setRelease(values, PAD + counter, (long) VALUES.getOpaque(values, PAD + counter) + 1);
    }

    /** Sets a value. Owner carrier only; release, pairs with the acquire in {@link #getAcquire}. */
    void set(int counter, long value) {
        assert owner.isCurrentCarrier() : "counter " + counter + " of " + owner.getName() + " set from elsewhere: owner only";
        VALUES.setRelease(values, PAD + counter, value);
    }

    /**
     * A park (or a spare's retirement) begins: counted, and marked in progress (never 0 while parked) so that
     * busy-time readers count it before it ends. Returns its start. Owner carrier only.
     */
    long parkStarted() {
        increment(PARKS);
        long start = System.nanoTime();
        set(PARKED_SINCE, start | 1);
        return start;
    }

    /** The park that began at {@code start} ended at {@code end}: its time counted, then the mark cleared
     *  (release: after PARKED_NANOS, for busyNanos' acquire). Owner carrier only. */
    void parkEnded(long start, long end) {
        add(PARKED_NANOS, end - start);
        set(PARKED_SINCE, 0);
    }

    /** Atomically adds one to a counter that threads other than the owner write. Any thread. */
    void incrementShared(int counter) {
        VALUES.getAndAdd(values, PAD + counter, 1L);
    }

    /** Any thread; acquire, pairs with the release in {@link #set}. */
    public long getAcquire(int counter) {
        return (long) VALUES.getAcquire(values, PAD + counter);
    }

    /** Any thread. */
    public long get(int counter) {
        return (long) VALUES.getOpaque(values, PAD + counter);
    }

    // ---- stats groups: any thread ----

    /**
     * Runs minus completions ({@code SchedulerStats.fiberParks}, summed over carriers) must neither go
     * below zero nor above its true value: a metrics counter keeps the highest value it saw, so one reading
     * too high would stay. A carrier counts a run after the run ended and after it counted the run's
     * completion, if any (release; see {@code Carrier.runTask}). The runs are read first, with acquire
     * (pairs with that release), so the completions read after them include every completion of a run
     * they count; a completion counted meanwhile, whose run is not in yet, can only lower the difference,
     * and capped at the runs it never goes below zero. A completion is counted on the carrier that claimed
     * it, which may not be the one that ran the fiber's last run; the sum over carriers stays right.
     */
    CarrierSnapshot.Runs runs() {
        long runs = getAcquire(TASKS_RUN);
        long completed = Math.min(get(FIBERS_COMPLETED), runs);
        return new CarrierSnapshot.Runs(runs, get(NEXT_SLOT_RUNS), get(FIBERS_STARTED), completed,
                get(LOCAL_SCHEDULES));
    }

    CarrierSnapshot.WorkSharing workSharing() {
        return new CarrierSnapshot.WorkSharing(get(STEALS), get(STOLEN), get(SPILLS), get(INJECTED_TAKEN));
    }

    /** {@code now}: the snapshot's time, against which a park in progress is counted. */
    CarrierSnapshot.Parking parking(long now) {
        return new CarrierSnapshot.Parking(get(PARKS), get(PARKED_NANOS), get(WAKEUPS), busyNanos(now));
    }

    CarrierSnapshot.Delay schedulingDelay() {
        return new CarrierSnapshot.Delay(get(DELAY_SAMPLES), get(DELAY_NANOS), get(DELAY_MAX_NANOS));
    }

    /** The carrier's awake time: lifetime minus parked time, counting a park in progress. Racy, >= 0. */
    private long busyNanos(long now) {
        long startedAt = getAcquire(STARTED_AT);     // pairs with the carrier's set
        if (startedAt == 0) return 0;
        long stoppedAt = getAcquire(STOPPED_AT);
        long parkedSince = getAcquire(PARKED_SINCE);
        long parked = get(PARKED_NANOS);
        long end = stoppedAt != 0 ? stoppedAt : now;
        long parkInProgress = stoppedAt == 0 && parkedSince != 0 ? Math.max(0, now - parkedSince) : 0;
        return Math.max(0, end - startedAt - parked - parkInProgress);
    }
}
