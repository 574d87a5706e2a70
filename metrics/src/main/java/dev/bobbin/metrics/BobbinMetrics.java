package dev.bobbin.metrics;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerStats;
import dev.bobbin.SchedulerStats.CarrierStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAccumulator;
import java.util.function.LongConsumer;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters for a {@link FiberScheduler}: bind one object to a registry and see how the
 * scheduler is doing.
 *
 * <pre>{@code
 * FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("api").build());
 * BobbinMetrics.of(scheduler).bindTo(registry);
 * }</pre>
 *
 * <p>Every meter but one reads a {@link SchedulerStats} snapshot when the registry asks for its value,
 * so the scheduler pays nothing per event for them; the snapshot is shared by the meters of one scrape
 * (it is reused for {@value #SNAPSHOT_MAX_AGE_MILLIS} ms). The exception is the scheduling-delay
 * {@link Timer}, which receives each delay the scheduler measures (how many it measures is set by
 * {@link dev.bobbin.SchedulingDelaySampling}; with sampling off there is no such timer). All meters carry the tag {@code name=<scheduler name>}
 * (the tag {@link io.micrometer.core.instrument.binder.jvm.ExecutorServiceMetrics} uses) plus the tags
 * given to {@link #of(FiberScheduler, Iterable)}; per-carrier meters add {@code carrier=<index>} (for the
 * regular carriers; spare carriers come and go, and their work shows in the scheduler's totals). Function
 * counters never go down, however racily their snapshots are read. The meter names are listed in the
 * module's README.
 *
 * <p>When the scheduler terminates, its meters are removed from every registry they were bound to;
 * {@link #close()} removes them earlier. Binding to the same registry twice, or binding two
 * {@code BobbinMetrics} of one scheduler with the same tags to one registry, registers each meter once and
 * records each delay once. A meter of another scheduler or executor (or one the application registered) with
 * the same name and tags is never shared, since a registry would hand back the meter it has and this
 * scheduler's figures would not be seen: {@link #bindTo} refuses such a binding with an
 * {@link IllegalArgumentException} naming the meter, and leaves the registry as it was. Give schedulers bound
 * to one registry distinct names, or distinct tags. Thread-safe.
 */
public final class BobbinMetrics implements MeterBinder, AutoCloseable {
    /** How long a stats snapshot is reused: long enough for one scrape, short enough to look live. */
    static final long SNAPSHOT_MAX_AGE_MILLIS = 10;

    /** The tags the meters set themselves: on every meter, per carrier, on the driver meters. */
    private static final Set<String> OWN_TAGS = Set.of("name", "carrier", "transport");

    /**
     * The tags set on the delay timer's percentiles and histogram: {@code phi} by Micrometer on each percentile
     * gauge (in place of a caller's tag of that key, which the other meters would keep), {@code quantile} and
     * {@code le} by the Prometheus registry (which refuses a timer that has them already).
     */
    private static final Set<String> DELAY_TIMER_TAGS = Set.of("phi", "quantile", "le");

    private final StatsSource source;
    private final Tags tags;
    private final boolean percentiles;                        // publish p50/p90/p99/p99.9 of the delay timer
    private final boolean histogram;                          // publish its percentile histogram (buckets)
    private final Map<MeterRegistry, Binding> bindings = new IdentityHashMap<>(); // guarded by this
    private boolean closed;                                   // guarded by this
    private boolean closeOnTermination;                       // guarded by this: the termination hook is registered
    private final Object refreshLock = new Object();          // refreshes of snapshot take turns
    private volatile Snapshot snapshot;                       // the cached stats

    private record Snapshot(SchedulerStats stats, long takenAt) { }

    /** The meters registered in one registry, and the delay recorder feeding its timer (null: no timer, sampling is off). */
    private record Binding(MeterClaims.Bound meters, LongConsumer recorder) { }

    /** Feeds one {@link Timer}; equal only for the very same timer, so a timer never hears a delay twice. */
    private record TimerRecorder(Timer timer) implements LongConsumer {
        @Override public void accept(long nanos) { timer.record(nanos, TimeUnit.NANOSECONDS); }
        @Override public boolean equals(Object o) { return o instanceof TimerRecorder r && r.timer == timer; }
        @Override public int hashCode() { return System.identityHashCode(timer); }
    }

    private BobbinMetrics(StatsSource source, Iterable<Tag> extraTags) {
        this(source, Tags.of("name", source.name()).and(extraTags), false, false);
    }

    private BobbinMetrics(StatsSource source, Tags tags, boolean percentiles, boolean histogram) {
        this.source = source;
        this.tags = tags;
        this.percentiles = percentiles;
        this.histogram = histogram;
        this.snapshot = new Snapshot(source.stats(), System.nanoTime());
    }

    /**
     * This binder, also publishing client-side percentiles (p50, p90, p99, p99.9) of
     * {@code bobbin.scheduling.delay}: four gauges per scheduler. Off by default: percentiles computed in
     * the process cannot be aggregated across instances. Call before {@link #bindTo}.
     */
    public BobbinMetrics withPercentiles() {
        return new BobbinMetrics(source, tags, true, histogram);
    }

    /**
     * This binder, also publishing a percentile histogram of {@code bobbin.scheduling.delay} (112 buckets
     * between 500 ns and 10 s), which a monitoring system can aggregate across instances (Prometheus
     * {@code histogram_quantile}). Off by default for its series count. A Prometheus registry publishes
     * either the histogram or the {@link #withPercentiles()} percentiles, not both. Call before
     * {@link #bindTo}.
     */
    public BobbinMetrics withHistogram() {
        return new BobbinMetrics(source, tags, percentiles, true);
    }

    /**
     * Meters of one executor ({@code executor.active}, {@code executor.queued}, {@code executor.completed}),
     * tagged {@code name=<executor name>}; see {@link FiberExecutorMetrics}.
     */
    public static FiberExecutorMetrics of(dev.bobbin.FiberExecutor executor) {
        return new FiberExecutorMetrics(executor, Tags.empty());
    }

    /** Meters for {@code scheduler}, tagged {@code name=<scheduler name>}. */
    public static BobbinMetrics of(FiberScheduler scheduler) {
        return of(scheduler, Tags.empty());
    }

    /**
     * Meters for {@code scheduler} with extra tags on every meter.
     *
     * @throws NullPointerException if an argument is null or {@code tags} contains null
     * @throws IllegalArgumentException if {@code tags} has a tag some meter sets itself: {@code name},
     *                                  {@code carrier}, {@code transport}, or one of the delay timer's
     *                                  percentiles and histogram ({@code phi}, {@code quantile}, {@code le})
     */
    public static BobbinMetrics of(FiberScheduler scheduler, Iterable<Tag> tags) {
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(tags, "tags");
        for (Tag t : tags) {
            Objects.requireNonNull(t, "tags contains a null Tag");
            if (OWN_TAGS.contains(t.getKey())) {
                throw new IllegalArgumentException("tag '" + t.getKey() + "' is set by BobbinMetrics itself");
            }
            if (DELAY_TIMER_TAGS.contains(t.getKey())) {
                throw new IllegalArgumentException("tag '" + t.getKey()
                        + "' is set on the percentiles or histogram of bobbin.scheduling.delay");
            }
        }
        return new BobbinMetrics(StatsSource.of(scheduler), tags);
    }

    /**
     * Registers the meters in {@code registry}. Does nothing if they are already bound there (by this
     * binder or another one of the same scheduler with the same tags), or if this binder is closed (the
     * scheduler terminated or {@link #close()} was called).
     *
     * @throws IllegalArgumentException if a meter of the same name and tags is in {@code registry} already for
     *                                  another scheduler or executor, or from elsewhere; nothing is registered
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (closed || bindings.containsKey(registry)) return;
        if (!closeOnTermination) {
            closeOnTermination = true;                   // at the first binding: a binder never bound registers nothing
            source.onTermination(ClosesIfReachable.of(this));
            if (closed) return;                          // terminated already: the hook ran at once
        }
        SchedulerStats s = stats();
        Timer[] delay = new Timer[1];
        MeterClaims.Bound bound = MeterClaims.bind(registry, source.observed(), "scheduler", reg -> {
            // spares in service count in all three: one parked in its keep-alive is one of the parked carriers
            gauge(reg, "executor.pool.size", "threads", "Carrier threads in service (the regular ones and spares in service)",
                    BobbinMetrics::inService);
            gauge(reg, "executor.active", "threads", "Carriers running a fiber at this moment",
                    st -> Math.min(inService(st), st.carriers().stream().filter(CarrierStats::running).count()));
            gauge(reg, "executor.running", "threads", "Carriers not parked (running, polling or searching)",
                    st -> Math.max(0, inService(st) - st.parkedCarriers()));
            gauge(reg, "executor.queued", "tasks", "Runnable fibers waiting in any queue", SchedulerStats::queuedFibers);
            counter(reg, "executor.completed", "tasks", "Fibers that terminated", SchedulerStats::fibersCompleted);
            counter(reg, "executor.steals", "tasks", "Fibers moved from one carrier's queue to another's",
                    SchedulerStats::stolenTasks);
            counter(reg, "bobbin.fibers.started", "fibers", "Fibers started", SchedulerStats::fibersStarted);
            counter(reg, "bobbin.fibers.failed", "fibers", "Fibers that ended with an uncaught exception",
                    SchedulerStats::fibersFailed);
            gauge(reg, "bobbin.fibers.live", "fibers", "Fibers started and not yet terminated", SchedulerStats::liveFibers);
            counter(reg, "bobbin.fiber.parks", "parks", "Times a fiber left its carrier without terminating (park or yield)",
                    SchedulerStats::fiberParks);
            counter(reg, "bobbin.fiber.unparks", "unparks", "Times a parked or yielding fiber was made runnable",
                    SchedulerStats::fiberUnparks);
            gauge(reg, "bobbin.injection.queue.depth", "fibers", "Fibers waiting in the scheduler-wide injection queue",
                    SchedulerStats::injectionQueueDepth);
            gauge(reg, "bobbin.carriers.parked", "threads", "Carriers parked for lack of work", SchedulerStats::parkedCarriers);
            gauge(reg, "bobbin.carriers.searching", "threads", "Carriers looking for work to steal",
                    SchedulerStats::searchingCarriers);
            Tags transport = tags.and("transport", s.transport());
            reg.register("bobbin.driver.transport", transport, r -> Gauge.builder("bobbin.driver.transport", this, b -> b.stats().parallelism())
                    .description("Carriers using the I/O transport named by the transport tag")
                    .tags(transport).strongReference(true).register(r));
            counter(reg, "bobbin.stalls", "stalls",
                    "Carrier stalls: a fiber ran past the stall threshold without a blocking point, or sat in a pinning call",
                    SchedulerStats::carrierStalls);
            gauge(reg, "bobbin.carriers.spare.active", "threads", "Spare carriers in service while carriers are stalled",
                    SchedulerStats::activeSpareCarriers);
            counter(reg, "bobbin.carriers.spare.activations", "activations",
                    "Times a spare carrier was put into service because every carrier was stalled",
                    SchedulerStats::spareActivations);

            for (CarrierStats c : s.carriers()) {
                int i = c.index();
                if (i >= s.parallelism()) continue;     // spares come and go: their work shows in the totals
                Tags ct = tags.and("carrier", Integer.toString(i));
                carrierGauge(reg, ct, i, "bobbin.carrier.queue.depth", "fibers",
                        "Fibers in this carrier's local queue, next slot and inbox", CarrierStats::queueDepth);
                carrierCounter(reg, ct, i, "bobbin.carrier.steals", "operations",
                        "Successful steal operations by this carrier", CarrierStats::steals);
                carrierCounter(reg, ct, i, "bobbin.carrier.stolen", "fibers",
                        "Fibers this carrier took from other carriers' queues", CarrierStats::stolenTasks);
                carrierCounter(reg, ct, i, "bobbin.carrier.parks", "parks",
                        "Times this carrier parked for lack of work", CarrierStats::parks);
                carrierCounter(reg, ct, i, "bobbin.carrier.wakeups", "wakeups",
                        "Times another thread woke this carrier", CarrierStats::wakeups);
                carrierCounter(reg, ct, i, "bobbin.carrier.mounts", "mounts",
                        "Fiber runs on this carrier (first runs and resumptions)", CarrierStats::tasksRun);
                reg.register("bobbin.carrier.busy", ct, r -> FunctionCounter.builder("bobbin.carrier.busy", this,
                                monotone(b -> b.stats().carriers().get(i).busyNanos() / 1e9))
                        .description("Time this carrier was awake (running fibers, polling its driver, searching); "
                                + "its rate is the carrier's utilization")
                        .baseUnit("seconds").tags(ct).register(r));
                for (String counterName : c.driverCounters().keySet()) {
                    Tags dt = ct.and("transport", s.transport());
                    reg.register("bobbin.driver." + counterName, dt, r -> FunctionCounter.builder("bobbin.driver." + counterName, this,
                                    monotone(b -> b.stats().carriers().get(i).driverCounters().getOrDefault(counterName, 0L)))
                            .description("Carrier driver counter '" + counterName + "'")
                            .tags(dt).register(r));
                }
            }

            if (source.samplesDelays()) {               // no timer with sampling off: one that reads 0 forever misleads
                delay[0] = reg.register("bobbin.scheduling.delay", tags, r -> {
                    Timer.Builder delayBuilder = Timer.builder("bobbin.scheduling.delay")
                            .description("Time from a fiber becoming runnable to a carrier starting to run it (sampled)")
                            .tags(tags)
                            .minimumExpectedValue(Duration.ofNanos(500))
                            .maximumExpectedValue(Duration.ofSeconds(10));
                    if (percentiles) delayBuilder.publishPercentiles(0.5, 0.9, 0.99, 0.999);
                    if (histogram) delayBuilder.publishPercentileHistogram();
                    return delayBuilder.register(r);
                });
            }
        });
        // null: another binder of this scheduler bound these meters there already; registering them again
        // would record each delay twice
        if (bound == null) return;
        LongConsumer recorder = null;
        if (delay[0] != null) {
            recorder = new TimerRecorder(delay[0]);
            source.addDelayListener(recorder);
        }
        bindings.put(registry, new Binding(bound, recorder));
    }

    /**
     * Removes the meters from every registry this binder bound them to and stops recording delays.
     * Idempotent; called by the scheduler when it terminates.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Map.Entry<MeterRegistry, Binding> e : bindings.entrySet()) {
            if (e.getValue().recorder() != null) source.removeDelayListener(e.getValue().recorder());
            MeterClaims.release(e.getValue().meters());
        }
        bindings.clear();
    }

    // ---- values ------------------------------------------------------------------------------------

    /**
     * The cached snapshot, refreshed when older than {@link #SNAPSHOT_MAX_AGE_MILLIS}. Refreshes take turns
     * under a lock, so a later snapshot is never replaced by an earlier one.
     */
    SchedulerStats stats() {
        Snapshot s = snapshot;                            // volatile
        long max = TimeUnit.MILLISECONDS.toNanos(SNAPSHOT_MAX_AGE_MILLIS);
        if (System.nanoTime() - s.takenAt() <= max) return s.stats();
        synchronized (refreshLock) {
            s = snapshot;
            long now = System.nanoTime();
            if (now - s.takenAt() > max) {
                s = new Snapshot(source.stats(), now);
                snapshot = s;
            }
            return s.stats();
        }
    }

    /**
     * Carriers in service: the regular ones and the spares in service. The snapshot's values are read one
     * by one, so a spare put into service or retired meanwhile may be counted in one value and not in
     * another; the gauges built on this one are kept between 0 and it.
     */
    private static int inService(SchedulerStats st) {
        return st.parallelism() + st.activeSpareCarriers();
    }

    /**
     * A counter's value, never below one reported before: readers on several threads may each hold a
     * snapshot of a different age, and a counter a registry sees going down reads as a reset.
     */
    private static ToDoubleFunction<BobbinMetrics> monotone(ToDoubleFunction<BobbinMetrics> f) {
        DoubleAccumulator high = new DoubleAccumulator(Math::max, 0);
        return b -> {
            high.accumulate(f.applyAsDouble(b));
            return high.get();
        };
    }

    // ---- registration helpers ----------------------------------------------------------------------

    private void gauge(MeterClaims.Registrations reg, String name, String unit, String description,
                       ToDoubleFunction<SchedulerStats> f) {
        reg.register(name, tags, r -> Gauge.builder(name, this, b -> f.applyAsDouble(b.stats())).description(description)
                .baseUnit(unitUnlessNamed(name, unit)).tags(tags).strongReference(true).register(r));
    }

    /**
     * The base unit, or none when the meter's name already says it ({@code bobbin.fibers.started} counts
     * fibers): a registry that appends units would otherwise double it ({@code ..._fibers_started_fibers}),
     * against Micrometer's naming conventions.
     */
    static String unitUnlessNamed(String name, String unit) {
        for (String word : name.split("\\.")) if (word.equals(unit)) return null;
        return unit;
    }

    private void counter(MeterClaims.Registrations reg, String name, String unit, String description,
                         ToDoubleFunction<SchedulerStats> f) {
        reg.register(name, tags, r -> FunctionCounter.builder(name, this, monotone(b -> f.applyAsDouble(b.stats())))
                .description(description).baseUnit(unitUnlessNamed(name, unit)).tags(tags).register(r));
    }

    private void carrierGauge(MeterClaims.Registrations reg, Tags ct, int i, String name, String unit,
                              String description, ToDoubleFunction<CarrierStats> f) {
        reg.register(name, ct, r -> Gauge.builder(name, this, b -> f.applyAsDouble(b.stats().carriers().get(i)))
                .description(description).baseUnit(unitUnlessNamed(name, unit)).tags(ct).strongReference(true).register(r));
    }

    private void carrierCounter(MeterClaims.Registrations reg, Tags ct, int i, String name, String unit,
                                String description, ToDoubleFunction<CarrierStats> f) {
        reg.register(name, ct, r -> FunctionCounter.builder(name, this, monotone(b -> f.applyAsDouble(b.stats().carriers().get(i))))
                .description(description).baseUnit(unitUnlessNamed(name, unit)).tags(ct).register(r));
    }

    @Override
    public String toString() {
        return "BobbinMetrics[" + source.name() + "]";
    }
}
