package dev.bobbin;

import dev.bobbin.scheduler.EngineStats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A point-in-time snapshot of a {@link FiberScheduler}'s counters. Counters are cumulative since the
 * scheduler started; gauges (queue depths, live fibers, parked carriers) are the values at the moment of
 * the snapshot. Values are read without stopping the carriers, so the snapshot is consistent per field,
 * not across fields.
 *
 * <p>The values come in groups, one per part of the scheduler that reports them ({@link #fibers()},
 * {@link #injection()}, {@link #idle()}, {@link #stalls()}, and per carrier the groups of
 * {@link CarrierStats}); the flat accessors ({@link #fibersStarted()}, {@link #parkedCarriers()}, ...)
 * read the same values and stay the short way to one of them.
 *
 * @param schedulerName the scheduler's name
 * @param parallelism   the number of carriers
 * @param fibers        fiber starts, completions and failures
 * @param injection     work submitted from threads that are not carriers of this scheduler
 * @param idle          the carriers' idle state at the moment of the snapshot
 * @param carriers      one entry per carrier, by index; spare carriers (index {@code >= parallelism})
 *                      appear once started
 * @param stalls        what the stall monitor reported and did
 * @param transport     the I/O transport of the carriers' drivers ({@code "none"} without I/O)
 */
public record SchedulerStats(String schedulerName,
                             int parallelism,
                             Fibers fibers,
                             Injection injection,
                             Idle idle,
                             List<CarrierStats> carriers,
                             Stalls stalls,
                             String transport) {

    /** Validates and copies the carrier list. */
    public SchedulerStats {
        Objects.requireNonNull(schedulerName, "schedulerName");
        Objects.requireNonNull(fibers, "fibers");
        Objects.requireNonNull(injection, "injection");
        Objects.requireNonNull(idle, "idle");
        carriers = List.copyOf(Objects.requireNonNull(carriers, "carriers"));
        Objects.requireNonNull(stalls, "stalls");
        Objects.requireNonNull(transport, "transport");
    }

    /**
     * The snapshot from its values one by one, in the order of the accessors.
     *
     * @deprecated the snapshot is built from its groups: use the canonical constructor
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public SchedulerStats(String schedulerName, int parallelism, long fibersStarted, long fibersCompleted,
                          long liveFibers, int injectionQueueDepth, long outsideSubmissions, int parkedCarriers,
                          int searchingCarriers, List<CarrierStats> carriers, long carrierStalls,
                          int activeSpareCarriers, long spareActivations, long fibersFailed, String transport) {
        this(schedulerName, parallelism, new Fibers(fibersStarted, fibersCompleted, liveFibers, fibersFailed),
                new Injection(injectionQueueDepth, outsideSubmissions), new Idle(parkedCarriers, searchingCarriers),
                carriers, new Stalls(carrierStalls, activeSpareCarriers, spareActivations), transport);
    }

    /** The public snapshot of the engine's (same groups, same values; live is started minus completed). */
    static SchedulerStats from(EngineStats e) {
        List<CarrierStats> carriers = new ArrayList<>(e.carriers().size());
        for (EngineStats.CarrierSnapshot c : e.carriers()) carriers.add(CarrierStats.from(c));
        EngineStats.Fibers f = e.fibers();
        return new SchedulerStats(e.name(), e.parallelism(),
                new Fibers(f.started(), f.completed(), f.started() - f.completed(), f.failed()),
                new Injection(e.injection().queueDepth(), e.injection().outsideSubmissions()),
                new Idle(e.idle().parked(), e.idle().searching()), carriers,
                new Stalls(e.stalls().reported(), e.stalls().activeSpares(), e.stalls().spareActivations()),
                e.transport());
    }

    /**
     * Fibers of the scheduler.
     *
     * @param started   fibers started on this scheduler
     * @param completed fibers that terminated
     * @param live      started minus completed
     * @param failed    fibers that ended with an uncaught exception: those started through
     *                  {@link FiberScheduler#start}, its thread factory or a {@link FiberExecutor}, whatever
     *                  uncaught-exception handler they have (fibers built directly from
     *                  {@link FiberScheduler#ofVirtual()} are not counted)
     */
    public record Fibers(long started, long completed, long live, long failed) { }

    /**
     * Work from outside the carriers, which goes through the scheduler-wide injection queue.
     *
     * @param queueDepth         tasks waiting in the injection queue
     * @param outsideSubmissions tasks submitted from threads that are not carriers of this scheduler
     */
    public record Injection(int queueDepth, long outsideSubmissions) { }

    /**
     * The carriers' idle state at the moment of the snapshot.
     *
     * @param parked    carriers parked
     * @param searching carriers looking for work to steal
     */
    public record Idle(int parked, int searching) { }

    /**
     * What the stall monitor reported and did.
     *
     * @param reported         stalls reported: carriers that ran one fiber past the stall threshold
     *                         without a blocking point, or sat that long in a pinning call
     * @param activeSpares     spare carriers in service at the moment of the snapshot
     * @param spareActivations times a spare carrier was put into service because every carrier was stalled
     */
    public record Stalls(long reported, int activeSpares, long spareActivations) { }

    /** Fibers started on this scheduler ({@link Fibers#started()}). */
    public long fibersStarted() { return fibers.started(); }

    /** Fibers that terminated ({@link Fibers#completed()}). */
    public long fibersCompleted() { return fibers.completed(); }

    /** Started minus completed ({@link Fibers#live()}). */
    public long liveFibers() { return fibers.live(); }

    /** Fibers that ended with an uncaught exception ({@link Fibers#failed()}). */
    public long fibersFailed() { return fibers.failed(); }

    /** Tasks waiting in the scheduler-wide injection queue ({@link Injection#queueDepth()}). */
    public int injectionQueueDepth() { return injection.queueDepth(); }

    /** Tasks submitted from threads that are not carriers ({@link Injection#outsideSubmissions()}). */
    public long outsideSubmissions() { return injection.outsideSubmissions(); }

    /**
     * Carriers parked for lack of work at the moment of the snapshot ({@link Idle#parked()}), a spare in
     * service that waits out its keep-alive included (a retired spare is out of service, not counted).
     */
    public int parkedCarriers() { return idle.parked(); }

    /** Carriers looking for work to steal at the moment of the snapshot ({@link Idle#searching()}). */
    public int searchingCarriers() { return idle.searching(); }

    /** Stalls reported by the stall monitor ({@link Stalls#reported()}). */
    public long carrierStalls() { return stalls.reported(); }

    /** Spare carriers in service at the moment of the snapshot ({@link Stalls#activeSpares()}). */
    public int activeSpareCarriers() { return stalls.activeSpares(); }

    /** Times a spare carrier was put into service ({@link Stalls#spareActivations()}). */
    public long spareActivations() { return stalls.spareActivations(); }

    /** Runnable fibers waiting anywhere: every carrier's queue, next slot and inbox plus the injection queue. */
    public long queuedFibers() {
        return injectionQueueDepth() + carriers.stream().mapToLong(CarrierStats::queueDepth).sum();
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
        long submissions = outsideSubmissions() + carriers.stream().mapToLong(CarrierStats::localSchedules).sum();
        return Math.max(0, submissions - fibersStarted());
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
     * One carrier's counters, in groups; the flat accessors ({@link #tasksRun()}, {@link #steals()},
     * {@link #parkedNanos()}, ...) read the same values.
     *
     * @param index           the carrier's index
     * @param threadName      the carrier thread's name
     * @param runs            fibers run, started, completed and made runnable on this carrier
     * @param workSharing     work moved between this carrier and the others: steals, spills, injected tasks
     * @param parking         parks, wake-ups and awake time
     * @param schedulingDelay scheduling delays measured by this carrier
     * @param gauges          the carrier's state at the moment of the snapshot
     * @param driver          what the carrier's driver reported
     */
    public record CarrierStats(int index,
                               String threadName,
                               Runs runs,
                               WorkSharing workSharing,
                               Parking parking,
                               SchedulingDelay schedulingDelay,
                               Gauges gauges,
                               Driver driver) {

        /** Validates. */
        public CarrierStats {
            Objects.requireNonNull(threadName, "threadName");
            Objects.requireNonNull(runs, "runs");
            Objects.requireNonNull(workSharing, "workSharing");
            Objects.requireNonNull(parking, "parking");
            Objects.requireNonNull(schedulingDelay, "schedulingDelay");
            Objects.requireNonNull(gauges, "gauges");
            Objects.requireNonNull(driver, "driver");
        }

        /**
         * The carrier's counters one by one, in the order of the flat accessors.
         *
         * @deprecated the snapshot is built from its groups: use the canonical constructor
         */
        @Deprecated(since = "0.1.0", forRemoval = true)
        public CarrierStats(int index, String threadName, long tasksRun, long fibersStarted, long fibersCompleted,
                            long steals, long stolenTasks, long parks, long parkedNanos, long nextSlotRuns,
                            long spills, long injectedTaken, long driverEvents, int queueDepth, boolean parked,
                            long localSchedules, long wakeups, long busyNanos, long schedulingDelaySamples,
                            long schedulingDelayTotalNanos, long schedulingDelayMaxNanos, boolean running,
                            Map<String, Long> driverCounters) {
            this(index, threadName, new Runs(tasksRun, nextSlotRuns, fibersStarted, fibersCompleted, localSchedules),
                    new WorkSharing(steals, stolenTasks, spills, injectedTaken),
                    new Parking(parks, parkedNanos, wakeups, busyNanos),
                    new SchedulingDelay(schedulingDelaySamples, schedulingDelayTotalNanos, schedulingDelayMaxNanos),
                    new Gauges(queueDepth, parked, running), new Driver(driverEvents, driverCounters));
        }

        static CarrierStats from(EngineStats.CarrierSnapshot c) {
            EngineStats.CarrierSnapshot.Runs r = c.runs();
            EngineStats.CarrierSnapshot.WorkSharing w = c.workSharing();
            EngineStats.CarrierSnapshot.Parking p = c.parking();
            EngineStats.CarrierSnapshot.Delay d = c.delay();
            EngineStats.CarrierSnapshot.Gauges g = c.gauges();
            return new CarrierStats(c.index(), c.threadName(),
                    new Runs(r.tasksRun(), r.nextSlotRuns(), r.fibersStarted(), r.fibersCompleted(), r.localSchedules()),
                    new WorkSharing(w.steals(), w.stolenTasks(), w.spills(), w.injectedTaken()),
                    new Parking(p.parks(), p.parkedNanos(), p.wakeups(), p.busyNanos()),
                    new SchedulingDelay(d.samples(), d.totalNanos(), d.maxNanos()),
                    new Gauges(g.queueDepth(), g.parked(), g.running()),
                    new Driver(c.driver().events(), c.driver().counters()));
        }

        /**
         * Fibers run, started, completed and made runnable on this carrier.
         *
         * @param tasksRun        fiber mounts (first runs and resumptions) on this carrier
         * @param nextSlotRuns    of those, tasks run from the next slot
         * @param fibersStarted   fibers started from this carrier (by a fiber running on it)
         * @param fibersCompleted fibers that terminated on this carrier
         * @param localSchedules  fibers made runnable by code on this carrier (starts and wakeups)
         */
        public record Runs(long tasksRun, long nextSlotRuns, long fibersStarted, long fibersCompleted,
                           long localSchedules) { }

        /**
         * Work moved between this carrier and the others.
         *
         * @param steals        successful steal operations by this carrier
         * @param stolenTasks   tasks this carrier took from other carriers' queues
         * @param spills        times a full local queue spilled half of itself to the injection queue
         * @param injectedTaken tasks taken from the injection queue
         */
        public record WorkSharing(long steals, long stolenTasks, long spills, long injectedTaken) { }

        /**
         * Parks, wake-ups and awake time.
         *
         * @param parks       times this carrier parked for lack of work
         * @param parkedNanos total time spent parked
         * @param wakeups     times another thread woke this carrier from a park
         * @param busyNanos   time the carrier has been awake since it started (running fibers, polling its
         *                    driver, searching for work): its lifetime minus its parked time
         */
        public record Parking(long parks, long parkedNanos, long wakeups, long busyNanos) { }

        /**
         * Scheduling delays measured by this carrier (see {@link SchedulingDelaySampling}).
         *
         * @param samples    delays measured
         * @param totalNanos their sum
         * @param maxNanos   their maximum
         */
        public record SchedulingDelay(long samples, long totalNanos, long maxNanos) { }

        /**
         * The carrier's state at the moment of the snapshot.
         *
         * @param queueDepth tasks in the local queue, next slot and inbox (fibers bound to this carrier)
         * @param parked     whether the carrier was parked
         * @param running    whether a fiber was mounted on the carrier
         */
        public record Gauges(int queueDepth, boolean parked, boolean running) { }

        /**
         * What the carrier's driver reported.
         *
         * @param events   events reported by the driver's polls
         * @param counters the driver's counters by name ({@link dev.bobbin.spi.DriverStats}), in the driver's
         *                 order; empty for a driver without I/O
         */
        public record Driver(long events, Map<String, Long> counters) {
            /** Copies the counters, keeping their order. */
            public Driver {
                counters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(counters, "counters")));
            }
        }

        /** Fiber mounts (first runs and resumptions) on this carrier ({@link Runs#tasksRun()}). */
        public long tasksRun() { return runs.tasksRun(); }

        /** Tasks run from the next slot ({@link Runs#nextSlotRuns()}). */
        public long nextSlotRuns() { return runs.nextSlotRuns(); }

        /** Fibers started from this carrier ({@link Runs#fibersStarted()}). */
        public long fibersStarted() { return runs.fibersStarted(); }

        /** Fibers that terminated on this carrier ({@link Runs#fibersCompleted()}). */
        public long fibersCompleted() { return runs.fibersCompleted(); }

        /** Fibers made runnable by code on this carrier ({@link Runs#localSchedules()}). */
        public long localSchedules() { return runs.localSchedules(); }

        /** Successful steal operations by this carrier ({@link WorkSharing#steals()}). */
        public long steals() { return workSharing.steals(); }

        /** Tasks this carrier took from other carriers' queues ({@link WorkSharing#stolenTasks()}). */
        public long stolenTasks() { return workSharing.stolenTasks(); }

        /** Spills of half the local queue to the injection queue ({@link WorkSharing#spills()}). */
        public long spills() { return workSharing.spills(); }

        /** Tasks taken from the injection queue ({@link WorkSharing#injectedTaken()}). */
        public long injectedTaken() { return workSharing.injectedTaken(); }

        /** Times this carrier parked for lack of work ({@link Parking#parks()}). */
        public long parks() { return parking.parks(); }

        /** Total time spent parked ({@link Parking#parkedNanos()}). */
        public long parkedNanos() { return parking.parkedNanos(); }

        /** Times another thread woke this carrier from a park ({@link Parking#wakeups()}). */
        public long wakeups() { return parking.wakeups(); }

        /** Time the carrier has been awake since it started ({@link Parking#busyNanos()}). */
        public long busyNanos() { return parking.busyNanos(); }

        /** Scheduling delays measured by this carrier ({@link SchedulingDelay#samples()}). */
        public long schedulingDelaySamples() { return schedulingDelay.samples(); }

        /** Their sum ({@link SchedulingDelay#totalNanos()}). */
        public long schedulingDelayTotalNanos() { return schedulingDelay.totalNanos(); }

        /** Their maximum ({@link SchedulingDelay#maxNanos()}). */
        public long schedulingDelayMaxNanos() { return schedulingDelay.maxNanos(); }

        /** Tasks in the local queue, next slot and inbox at the moment of the snapshot ({@link Gauges#queueDepth()}). */
        public int queueDepth() { return gauges.queueDepth(); }

        /** Whether the carrier was parked at the moment of the snapshot ({@link Gauges#parked()}). */
        public boolean parked() { return gauges.parked(); }

        /** Whether a fiber was mounted on the carrier at the moment of the snapshot ({@link Gauges#running()}). */
        public boolean running() { return gauges.running(); }

        /** Events reported by the carrier driver ({@link Driver#events()}). */
        public long driverEvents() { return driver.events(); }

        /** The carrier driver's counters by name, in the driver's order ({@link Driver#counters()}). */
        public Map<String, Long> driverCounters() { return driver.counters(); }
    }
}
