package dev.bobbin.scheduler;

import java.util.List;
import java.util.Map;

/**
 * A snapshot of the engine's counters as its components report them ({@link CarrierPool#stats()}
 * assembles it). The facade turns it into the public {@code dev.bobbin.SchedulerStats}, whose groups
 * have the same shapes and whose javadoc says what each value means; the engine never names the public
 * type.
 *
 * @param name        the scheduler's name
 * @param parallelism regular carriers
 * @param fibers      fiber starts, completions and failures
 * @param injection   the injection queue
 * @param idle        the idle protocol
 * @param carriers    one entry per started carrier, by index
 * @param stalls      the stall monitor
 * @param transport   the drivers' transport
 */
public record EngineStats(String name, int parallelism, Fibers fibers, Injection injection, Idle idle,
                          List<CarrierSnapshot> carriers, Stalls stalls, String transport) {

    /** Fibers started, completed, and failed (their task threw). */
    public record Fibers(long started, long completed, long failed) { }

    /** The injection queue's depth and the tasks submitted from outside. */
    public record Injection(int queueDepth, long outsideSubmissions) { }

    /** Carriers parked and searching, at the moment of the snapshot. */
    public record Idle(int parked, int searching) { }

    /** Stalls reported, spares in service, spare activations. */
    public record Stalls(long reported, int activeSpares, long spareActivations) { }

    /** One carrier's part, in the groups of its counters. */
    public record CarrierSnapshot(int index, String threadName, Runs runs, WorkSharing workSharing,
                                  Parking parking, Delay delay, Gauges gauges, Driver driver) {

        /** Mounts, next-slot runs, fibers started and completed here, local schedules. */
        public record Runs(long tasksRun, long nextSlotRuns, long fibersStarted, long fibersCompleted,
                           long localSchedules) { }

        /** Steals, tasks stolen, spills, injected tasks taken. */
        public record WorkSharing(long steals, long stolenTasks, long spills, long injectedTaken) { }

        /** Parks, parked time, wake-ups, awake time. */
        public record Parking(long parks, long parkedNanos, long wakeups, long busyNanos) { }

        /** Scheduling delays measured here. */
        public record Delay(long samples, long totalNanos, long maxNanos) { }

        /** Queue depth, parked, running, at the moment of the snapshot. */
        public record Gauges(int queueDepth, boolean parked, boolean running) { }

        /** The driver's poll events and its named counters (in its order). */
        public record Driver(long events, Map<String, Long> counters) { }
    }
}
