package dev.bobbin;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time snapshot of a {@link FiberScheduler}'s counters. Counters are cumulative since the
 * scheduler started; gauges (queue depths, live fibers, parked carriers) are the values at the moment of
 * the snapshot. Values are read without stopping the carriers, so the snapshot is consistent per field,
 * not across fields.
 *
 * @param schedulerName      the scheduler's name
 * @param parallelism        the number of carriers
 * @param fibersStarted      fibers started on this scheduler
 * @param fibersCompleted    fibers that terminated
 * @param liveFibers         started minus completed
 * @param injectionQueueDepth tasks waiting in the scheduler-wide injection queue
 * @param outsideSubmissions tasks submitted from threads that are not carriers of this scheduler
 * @param parkedCarriers     carriers parked at the moment of the snapshot
 * @param searchingCarriers  carriers looking for work to steal at the moment of the snapshot
 * @param carriers           one entry per carrier, by index; spare carriers (index {@code >= parallelism})
 *                           appear once started
 * @param carrierStalls      stalls reported by the stall monitor: carriers that ran one fiber past the stall
 *                           threshold without a blocking point, or sat that long in a pinning call
 * @param activeSpareCarriers spare carriers in service at the moment of the snapshot
 * @param spareActivations   times a spare carrier was put into service because every carrier was stalled
 * @param fibersFailed       fibers that ended with an uncaught exception: those started through
 *                           {@link FiberScheduler#start}, its thread factory or a {@link FiberExecutor},
 *                           whatever uncaught-exception handler they have (fibers built directly from
 *                           {@link FiberScheduler#ofVirtual()} are not counted)
 * @param transport          the I/O transport of the carriers' drivers ({@code "none"} without I/O)
 */
public record SchedulerStats(String schedulerName,
                             int parallelism,
                             long fibersStarted,
                             long fibersCompleted,
                             long liveFibers,
                             int injectionQueueDepth,
                             long outsideSubmissions,
                             int parkedCarriers,
                             int searchingCarriers,
                             List<CarrierStats> carriers,
                             long carrierStalls,
                             int activeSpareCarriers,
                             long spareActivations,
                             long fibersFailed,
                             String transport) {

    /** Copies the carrier list. */
    public SchedulerStats {
        carriers = List.copyOf(carriers);
    }

    /** Runnable fibers waiting anywhere: every carrier's queue and next slot plus the injection queue. */
    public long queuedFibers() {
        return injectionQueueDepth + carriers.stream().mapToLong(CarrierStats::queueDepth).sum();
    }

    /**
     * Times a fiber left its carrier without terminating: it parked (a lock, a sleep, blocking I/O) or
     * yielded. Fiber mounts minus completions.
     */
    public long fiberParks() {
        return tasksRun() - carriers.stream().mapToLong(CarrierStats::fibersCompleted).sum();
    }

    /**
     * Times a parked or yielding fiber was made runnable again (unparked, woken by a timer or I/O):
     * submissions minus starts.
     */
    public long fiberUnparks() {
        long submissions = outsideSubmissions + carriers.stream().mapToLong(CarrierStats::localSchedules).sum();
        return Math.max(0, submissions - fibersStarted);
    }

    /** Scheduling-delay measurements taken so far (see {@link SchedulingDelaySampling}). */
    public long schedulingDelaySamples() {
        return carriers.stream().mapToLong(CarrierStats::schedulingDelaySamples).sum();
    }

    /** The sum of all measured scheduling delays. */
    public long schedulingDelayTotalNanos() {
        return carriers.stream().mapToLong(CarrierStats::schedulingDelayTotalNanos).sum();
    }

    /** The largest measured scheduling delay. */
    public long schedulingDelayMaxNanos() {
        return carriers.stream().mapToLong(CarrierStats::schedulingDelayMaxNanos).max().orElse(0);
    }

    /** Sum of {@link CarrierStats#steals()} over all carriers. */
    public long steals() {
        return carriers.stream().mapToLong(CarrierStats::steals).sum();
    }

    /** Sum of {@link CarrierStats#stolenTasks()} over all carriers. */
    public long stolenTasks() {
        return carriers.stream().mapToLong(CarrierStats::stolenTasks).sum();
    }

    /** Sum of {@link CarrierStats#tasksRun()} over all carriers. */
    public long tasksRun() {
        return carriers.stream().mapToLong(CarrierStats::tasksRun).sum();
    }

    /**
     * One carrier's counters.
     *
     * @param index            the carrier's index
     * @param threadName       the carrier thread's name
     * @param tasksRun         fiber mounts (first runs and resumptions) on this carrier
     * @param fibersStarted    fibers started from this carrier (by a fiber running on it)
     * @param fibersCompleted  fibers that terminated on this carrier
     * @param steals           successful steal operations by this carrier
     * @param stolenTasks      tasks this carrier took from other carriers' queues
     * @param parks            times this carrier parked for lack of work
     * @param parkedNanos      total time spent parked
     * @param nextSlotRuns     tasks run from the next slot
     * @param spills           times a full local queue spilled half of itself to the injection queue
     * @param injectedTaken    tasks taken from the injection queue
     * @param driverEvents     events reported by the carrier driver
     * @param queueDepth       tasks in the local queue and next slot at the moment of the snapshot
     * @param parked           whether the carrier was parked at the moment of the snapshot
     * @param localSchedules   fibers made runnable by code on this carrier (starts and wakeups)
     * @param wakeups          times another thread woke this carrier from a park
     * @param busyNanos        time the carrier has been awake since it started (running fibers, polling
     *                         its driver, searching for work): its lifetime minus its parked time
     * @param schedulingDelaySamples   scheduling delays measured by this carrier
     * @param schedulingDelayTotalNanos their sum
     * @param schedulingDelayMaxNanos   their maximum
     * @param running          whether a fiber was mounted on the carrier at the moment of the snapshot
     * @param driverCounters   the carrier driver's counters by name ({@link dev.bobbin.spi.DriverStats}),
     *                         in the driver's order; empty for a driver without I/O
     */
    public record CarrierStats(int index,
                               String threadName,
                               long tasksRun,
                               long fibersStarted,
                               long fibersCompleted,
                               long steals,
                               long stolenTasks,
                               long parks,
                               long parkedNanos,
                               long nextSlotRuns,
                               long spills,
                               long injectedTaken,
                               long driverEvents,
                               int queueDepth,
                               boolean parked,
                               long localSchedules,
                               long wakeups,
                               long busyNanos,
                               long schedulingDelaySamples,
                               long schedulingDelayTotalNanos,
                               long schedulingDelayMaxNanos,
                               boolean running,
                               Map<String, Long> driverCounters) {

        /** Copies the driver counters, keeping their order. */
        public CarrierStats {
            driverCounters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(driverCounters));
        }
    }
}
