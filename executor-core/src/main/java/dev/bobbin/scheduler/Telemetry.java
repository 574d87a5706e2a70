package dev.bobbin.scheduler;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.DriverStats;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Everything a {@link CarrierPool} records for observability beyond its plain {@link CarrierCounters}:
 * scheduling-delay sampling, the optional live-fiber registry, failed fibers, steal-burst JFR events,
 * each carrier's driver stats, and the termination signal that lets monitors detach.
 *
 * <p>Implementation overview. The pool and its carriers call a handful of hooks; each hook does nothing
 * but a test when its feature is off ({@code delays} is null then; the registry is always kept but only
 * touched at a fiber's start and end unless last-run stamping is on), so the
 * cost of an unobserved scheduler is a few predictable branches per fiber run.
 * <ul>
 *   <li>{@link #submitted} — in {@code execute}, after a start was admitted: registers a new fiber (unless
 *       an executor enrolled it before its start) and maybe starts a delay sample.</li>
 *   <li>{@link #beforeRun} / {@link #afterRun} — around each fiber run on a carrier: finishes a delay
 *       sample; stamps the fiber's last run, or claims its completion by removing it from the live-fiber
 *       registry (a fiber that parked at the end of a run can finish on another carrier before the first
 *       carrier reads its state, so both may see it terminated; only the one that removes it counts).</li>
 *   <li>{@link #stole} — after a steal: a JFR event for a large one.</li>
 *   <li>{@link #driverOpened} / {@link #poolTerminated} — carrier and pool lifecycle.</li>
 * </ul>
 * Fiber failures are counted by a wrapper around each fiber's task ({@link #countingFailures}) that
 * the facade's fiber factories install: it counts an exception the task throws and rethrows it, so
 * the fiber's uncaught-exception handler stays the application's (or the JDK's default, the thread
 * group) and both see every failure.
 *
 * <p>A stats snapshot reads its parts here: the failure count ({@link #fibersFailed()}), each driver's
 * counters ({@link #driverCounters}) and the transport ({@link #transport()}).
 */
public final class Telemetry {
    public final SchedulingDelays delays;          // null when delay sampling is off
    public final FiberRegistry registry;           // the live fibers; always present (it decides completions)
    public final boolean stampRuns;                // track each fiber's last-run time (EngineConfig.trackFibers)
    private final LongAdder fibersFailed = new LongAdder(); // fibers whose task threw (countingFailures)
    public final CompletableFuture<Void> termination = new CompletableFuture<>();
    private final AtomicReferenceArray<CarrierDriver> drivers;  // by carrier index; set once at open

    /**
     * Built by the pool's constructor, before any carrier exists. {@code carriers}: every carrier the pool
     * may run, spares included (indices are carrier indices).
     */
    Telemetry(int carriers, int samplingPeriod, boolean trackFibers) {
        this.delays = samplingPeriod == 0 ? null : new SchedulingDelays(samplingPeriod, carriers);
        this.registry = new FiberRegistry(carriers, trackFibers);
        this.stampRuns = trackFibers;
        this.drivers = new AtomicReferenceArray<>(carriers);
    }

    // ---- hooks -----------------------------------------------------------------------------------

    /** {@code register}: a first start of a fiber not yet in the registry (not enrolled by an executor). */
    void submitted(Thread fiber, Carrier here, boolean register) {
        if (register) registry.add(fiber, stampRuns ? System.nanoTime() : 0);
        if (delays != null) delays.submitted(fiber, here);
    }

    void beforeRun(Thread fiber, Carrier c) {
        if (delays != null) delays.running(fiber, c);
    }

    /**
     * After a run of {@code fiber}; {@code terminated}: its state read afterwards was TERMINATED. Returns
     * true if this carrier is the one to count its completion (see {@link FiberRegistry}).
     */
    boolean afterRun(Thread fiber, boolean terminated) {
        if (terminated) return registry.remove(fiber);
        if (stampRuns) registry.ran(fiber, System.nanoTime());
        return false;
    }

    void stole(Carrier thief, Carrier victim, int moved) {
        if (moved >= Tunables.STEAL_BURST_MIN_FIBERS) StealBurstEvent.emit(thief, victim, moved);
    }

    void driverOpened(Carrier c, CarrierDriver d) {
        drivers.set(c.index, d);
    }

    /**
     * The last carrier thread is exiting: completes {@link #termination} before the pool reports itself
     * terminated, so termination actions have run by the time {@code awaitTermination} returns.
     */
    void poolTerminated() {
        termination.complete(null);
    }

    /** {@code task}, counting an exception it throws as a failed fiber before rethrowing it. */
    public Runnable countingFailures(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable e) {
                fibersFailed.increment();
                throw e;
            }
        };
    }

    // ---- reads -----------------------------------------------------------------------------------

    /**
     * Asks every open driver to close the resources fibers may block on ({@link CarrierDriver#abortResources}).
     * A driver that fails, with an exception or an error, does not stop the others from closing theirs: its
     * failure goes to {@code onFailure} with the carrier's index, and the loop goes on to the next driver.
     */
    public void abortDriverResources(java.util.function.ObjIntConsumer<Throwable> onFailure) {
        for (int i = 0; i < drivers.length(); i++) {
            CarrierDriver d = drivers.get(i);
            if (d == null) continue;
            try {
                d.abortResources();
            } catch (Throwable t) {
                onFailure.accept(t, i);
            }
        }
    }

    /** Fibers counted as failed by {@link #countingFailures}. Any thread. */
    long fibersFailed() {
        return fibersFailed.sum();
    }

    /** The transport of the carriers' drivers, as the first carrier's driver reports it. Any thread. */
    String transport() {
        return driverStats(0).transport();
    }

    /**
     * The counters of carrier {@code index}'s driver by name, in the driver's order; empty before the
     * driver opened or for a driver without counters. Any thread.
     */
    Map<String, Long> driverCounters(int index) {
        DriverStats ds = driverStats(index);
        List<String> names = ds.counterNames();
        Map<String, Long> counters = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) counters.put(names.get(i), ds.counter(i));
        return counters;
    }

    /** The driver stats of carrier {@code index}, or none before its driver opened. */
    private DriverStats driverStats(int index) {
        CarrierDriver d = drivers.get(index);
        if (d == null) return DriverStats.none();
        try {
            DriverStats s = d.stats();
            return s != null ? s : DriverStats.none();
        } catch (RuntimeException e) {
            return DriverStats.none();               // a faulty driver must not break monitoring
        }
    }
}
