package dev.bobbin.metrics;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulerStats;
import dev.bobbin.SchedulingDelaySampling;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.DriverStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

class BobbinMetricsTest {

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            LockSupport.parkNanos(2_000_000);
        }
    }

    /** Two carriers: the per-carrier meters and steals need more than one. */
    static FiberScheduler scheduler(String name, SchedulingDelaySampling sampling) {
        return FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(2)
                .schedulingDelaySampling(sampling).build());
    }

    /** One carrier, for tests that compare exact delay counts. */
    static FiberScheduler single(String name, SchedulingDelaySampling sampling) {
        return FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(1)
                .schedulingDelaySampling(sampling).build());
    }

    static double counter(SimpleMeterRegistry r, String meter, String scheduler) {
        return r.get(meter).tag("name", scheduler).functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
    }

    static double gauge(SimpleMeterRegistry r, String meter, String scheduler) {
        return r.get(meter).tag("name", scheduler).gauges().stream().mapToDouble(Gauge::value).sum();
    }

    static List<Meter> metersOf(SimpleMeterRegistry r, String scheduler) {
        return r.getMeters().stream().filter(m -> scheduler.equals(m.getId().getTag("name"))).toList();
    }

    static void startAndJoin(FiberScheduler s, int n, Runnable body) throws InterruptedException {
        List<Thread> fibers = new ArrayList<>();
        for (int i = 0; i < n; i++) fibers.add(s.start(body));
        for (Thread f : fibers) f.join();
    }

    /**
     * Starts {@code n} fibers of {@code s} that each park exactly twice (a wait at each of two gates,
     * opened only once every fiber waits at it) and joins them: {@code n} starts, {@code 2n} parks and
     * wake-ups. Sleeps would not do: a sleep whose fiber was held off its carrier for its whole length
     * can end without parking (the JDK's second sleep of two finds the wake-up permit the first left).
     */
    static void startParkingTwiceAndJoin(FiberScheduler s, int n) throws InterruptedException {
        CountDownLatch first = new CountDownLatch(1), second = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger atFirst = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger atSecond = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> fibers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fibers.add(s.start(() -> {
                atFirst.incrementAndGet();
                awaitUninterruptibly(first);
                atSecond.incrementAndGet();
                awaitUninterruptibly(second);
            }));
        }
        await("every fiber waits at the first gate", () -> atFirst.get() == n && allWaiting(fibers));
        first.countDown();
        await("every fiber waits at the second gate", () -> atSecond.get() == n && allWaiting(fibers));
        second.countDown();
        for (Thread f : fibers) f.join();
    }

    private static boolean allWaiting(List<Thread> fibers) {
        return fibers.stream().allMatch(f -> f.getState() == Thread.State.WAITING);
    }

    private static void awaitUninterruptibly(CountDownLatch gate) {
        try {
            gate.await();
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    static void sleepTwice() {
        try {
            Thread.sleep(1);
            Thread.sleep(1);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void countsExactlyTheCompletedFibers() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler s = scheduler("exact", SchedulingDelaySampling.defaults())) {
            BobbinMetrics.of(s).bindTo(r);
            startParkingTwiceAndJoin(s, 300);
            await("300 completions", () -> counter(r, "executor.completed", "exact") == 300);
            assertEquals(300, counter(r, "bobbin.fibers.started", "exact"));
            LockSupport.parkNanos(30_000_000);
            assertEquals(300, counter(r, "executor.completed", "exact"), "no completion counted twice");
            assertEquals(0, counter(r, "bobbin.fibers.failed", "exact"));
            // each fiber parked twice (a spurious wake-up would park it once more)
            double parks = counter(r, "bobbin.fiber.parks", "exact");
            assertTrue(parks >= 600 && parks <= 660, "each fiber parked twice: " + parks);
            assertEquals(parks, counter(r, "bobbin.fiber.unparks", "exact"), "every park was followed by an unpark");
            assertEquals(2, gauge(r, "executor.pool.size", "exact"));
        }
    }

    @Test
    void countsFailedFibers() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> { });
        try (FiberScheduler s = single("failing", SchedulingDelaySampling.off())) {
            BobbinMetrics.of(s).bindTo(r);
            startAndJoin(s, 7, () -> { throw new IllegalStateException("deliberate"); });
            await("7 failures", () -> counter(r, "bobbin.fibers.failed", "failing") == 7);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    /**
     * One fiber fans out short CPU-bound children on its carrier; fewer than a local queue holds, so none
     * spill to the injection queue and the other carrier can only get them by stealing.
     */
    static void skewedFanOut(FiberScheduler s, int children) throws InterruptedException {
        s.start(() -> {
            List<Thread> kids = new ArrayList<>();
            for (int i = 0; i < children; i++) {
                kids.add(s.ofVirtual().start(() -> {
                    long t0 = System.nanoTime();
                    while (System.nanoTime() - t0 < 300_000) Thread.onSpinWait();
                }));
            }
            for (Thread k : kids) {
                try {
                    k.join();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }
        }).join();
    }

    @Test
    void stealsAreCountedUnderSkewedLoadAndQueuesDrainToZero() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler s = scheduler("skew", SchedulingDelaySampling.defaults())) {
            BobbinMetrics.of(s).bindTo(r);
            skewedFanOut(s, 200);
            await("steals counted", () -> counter(r, "bobbin.carrier.steals", "skew") > 0);
            assertTrue(counter(r, "bobbin.carrier.stolen", "skew") >= counter(r, "bobbin.carrier.steals", "skew"));
            assertEquals(counter(r, "bobbin.carrier.stolen", "skew"), counter(r, "executor.steals", "skew"));
            await("idle", () -> gauge(r, "executor.queued", "skew") == 0
                    && gauge(r, "bobbin.carrier.queue.depth", "skew") == 0
                    && gauge(r, "bobbin.injection.queue.depth", "skew") == 0
                    && gauge(r, "bobbin.fibers.live", "skew") == 0
                    && gauge(r, "bobbin.carriers.parked", "skew") == 2
                    && gauge(r, "executor.active", "skew") == 0);
            assertEquals(2, r.get("bobbin.carrier.queue.depth").tag("name", "skew").gauges().size(), "one per carrier");
            double busy = counter(r, "bobbin.carrier.busy", "skew");
            assertTrue(busy >= 200 * 300e-6, "busy seconds " + busy + " cover the children's spinning");
        }
    }

    @Test
    void queueDepthsShowABacklog() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("backlog").parallelism(1).build())) {
            BobbinMetrics.of(s).bindTo(r);
            CountDownLatch hold = new CountDownLatch(1), holding = new CountDownLatch(1);
            Thread blocker = s.start(() -> {
                holding.countDown();
                long t0 = System.nanoTime();   // hold the only carrier without parking
                while (hold.getCount() > 0 && System.nanoTime() - t0 < 10_000_000_000L) Thread.onSpinWait();
            });
            holding.await();
            List<Thread> waiting = new ArrayList<>();
            for (int i = 0; i < 20; i++) waiting.add(s.start(() -> { }));
            await("backlog visible", () -> gauge(r, "executor.queued", "backlog") == 20);
            assertEquals(1, gauge(r, "executor.active", "backlog"), "the blocker is mounted");
            hold.countDown();
            blocker.join();
            for (Thread w : waiting) w.join();
            await("drained", () -> gauge(r, "executor.queued", "backlog") == 0);
        }
    }

    /**
     * A registry that remembers the distribution config each timer was registered with. Its clock
     * only moves when told to, so a timer's windowed max cannot rotate away mid-test when the wall
     * clock jumps (it did once on a CI machine).
     */
    static final class ConfigCapturingRegistry extends SimpleMeterRegistry {
        final java.util.Map<String, DistributionStatisticConfig> timerConfigs = new java.util.concurrent.ConcurrentHashMap<>();

        ConfigCapturingRegistry() {
            super(io.micrometer.core.instrument.simple.SimpleConfig.DEFAULT, new io.micrometer.core.instrument.MockClock());
        }

        @Override
        protected Timer newTimer(Meter.Id id, DistributionStatisticConfig config, PauseDetector pauseDetector) {
            timerConfigs.put(id.getName(), config);
            return super.newTimer(id, config, pauseDetector);
        }
    }

    @Test
    void byDefaultTheDelayTimerPublishesNoPercentilesNorHistogram() throws Exception {
        ConfigCapturingRegistry r = new ConfigCapturingRegistry();
        try (FiberScheduler s = single("plain", SchedulingDelaySampling.everyFiber())) {
            BobbinMetrics.of(s).bindTo(r);
            DistributionStatisticConfig config = r.timerConfigs.get("bobbin.scheduling.delay");
            assertFalse(config.isPercentileHistogram(), "no buckets unless asked for");
            assertTrue(config.getPercentiles() == null || config.getPercentiles().length == 0, "no percentiles unless asked for");
        }
    }

    @Test
    void schedulingDelayIsRecordedWithPercentilesAndHistogramWhenAskedFor() throws Exception {
        ConfigCapturingRegistry r = new ConfigCapturingRegistry();
        try (FiberScheduler s = single("delay", SchedulingDelaySampling.everyFiber())) {
            BobbinMetrics.of(s).withPercentiles().withHistogram().bindTo(r);
            java.util.concurrent.atomic.LongAccumulator seenMax = new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);
            java.util.concurrent.atomic.LongAdder seenTotal = new java.util.concurrent.atomic.LongAdder();
            s.addSchedulingDelayListener(d -> { seenMax.accumulate(d); seenTotal.add(d); });
            startParkingTwiceAndJoin(s, 50);
            await("all done", () -> s.stats().fibersCompleted() == 50);
            Timer t = r.get("bobbin.scheduling.delay").tag("name", "delay").timer();
            SchedulerStats st = s.stats();
            assertEquals(st.schedulingDelaySamples(), t.count(), "every measured delay reaches the timer once");
            assertTrue(t.count() >= 150, "delays measured: " + t.count() + ", samples " + st.schedulingDelaySamples() + ", " + st);
            // not "> 0": a machine whose nanoTime ticks coarsely may measure every delay as 0
            assertEquals(seenMax.get(), (long) t.max(java.util.concurrent.TimeUnit.NANOSECONDS), "the timer's max is the largest delay");
            assertEquals(seenTotal.sum(), (long) t.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS), "the timer's total is the sum of the delays");
            HistogramSnapshot h = t.takeSnapshot();
            assertEquals(4, h.percentileValues().length, "p50, p90, p99, p999");
            DistributionStatisticConfig config = r.timerConfigs.get("bobbin.scheduling.delay");
            assertTrue(config.isPercentileHistogram(), "a percentile histogram is published");
            assertArrayEquals(new double[] {0.5, 0.9, 0.99, 0.999}, config.getPercentiles());
        }
    }

    @Test
    void bindingTwiceIsHarmless() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler s = single("twice", SchedulingDelaySampling.everyFiber())) {
            BobbinMetrics m = BobbinMetrics.of(s);
            m.bindTo(r);
            int meters = metersOf(r, "twice").size();
            assertTrue(meters > 20, "meters registered: " + meters);
            m.bindTo(r);
            BobbinMetrics other = BobbinMetrics.of(s);
            other.bindTo(r);
            assertEquals(meters, metersOf(r, "twice").size(), "no meter registered twice");
            startAndJoin(s, 20, BobbinMetricsTest::sleepTwice);
            await("all done", () -> s.stats().fibersCompleted() == 20);
            Timer t = r.get("bobbin.scheduling.delay").tag("name", "twice").timer();
            assertEquals(s.stats().schedulingDelaySamples(), t.count(), "each delay recorded once");
            // the binder reuses a stats snapshot for up to 10 ms: wait for a fresh one, then expect exactly 20
            await("the counter caught up", () -> counter(r, "executor.completed", "twice") >= 20);
            assertEquals(20, counter(r, "executor.completed", "twice"), "each completion counted once");
        }
    }

    @Test
    void twoRegistriesEachGetEveryDelay() throws Exception {
        SimpleMeterRegistry a = new SimpleMeterRegistry(), b = new SimpleMeterRegistry();
        try (FiberScheduler s = single("two", SchedulingDelaySampling.everyFiber())) {
            BobbinMetrics m = BobbinMetrics.of(s, Tags.of("app", "demo"));
            m.bindTo(a);
            m.bindTo(b);
            startAndJoin(s, 10, BobbinMetricsTest::sleepTwice);
            await("all done", () -> s.stats().fibersCompleted() == 10);
            long samples = s.stats().schedulingDelaySamples();
            assertEquals(samples, a.get("bobbin.scheduling.delay").tag("app", "demo").timer().count());
            assertEquals(samples, b.get("bobbin.scheduling.delay").tag("app", "demo").timer().count());
        }
    }

    @Test
    void metersAreRemovedWhenTheSchedulerCloses() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        FiberScheduler s = scheduler("closing", SchedulingDelaySampling.defaults());
        BobbinMetrics m = BobbinMetrics.of(s);
        m.bindTo(r);
        startAndJoin(s, 5, () -> { });
        assertFalse(metersOf(r, "closing").isEmpty());
        s.close();
        assertEquals(List.of(), metersOf(r, "closing"), "closing the scheduler removes its meters");
        m.bindTo(r);
        assertEquals(List.of(), metersOf(r, "closing"), "a terminated scheduler binds nothing");
        BobbinMetrics late = BobbinMetrics.of(s);
        late.bindTo(r);
        assertEquals(List.of(), metersOf(r, "closing"), "nor does a binder made after termination");
    }

    @Test
    void closeRemovesMetersEarly() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        SimpleMeterRegistry other = new SimpleMeterRegistry();
        try (FiberScheduler s = scheduler("early", SchedulingDelaySampling.defaults())) {
            other.gauge("unrelated", 1.0);
            BobbinMetrics m = BobbinMetrics.of(s);
            m.bindTo(r);
            m.bindTo(other);
            m.close();
            m.close();
            assertTrue(r.getMeters().isEmpty());
            assertEquals(1, other.getMeters().size(), "only our meters are removed");
        }
    }

    @Test
    void validatesArguments() throws Exception {
        assertThrows(NullPointerException.class, () -> BobbinMetrics.of((FiberScheduler) null));
        try (FiberScheduler s = scheduler("args", SchedulingDelaySampling.off())) {
            assertThrows(NullPointerException.class, () -> BobbinMetrics.of(s, null));
            assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(s, Tags.of("name", "x")));
            assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(s, Tags.of("carrier", "1")));
            NullPointerException nullTag = assertThrows(NullPointerException.class,
                    () -> BobbinMetrics.of(s, java.util.Arrays.asList(io.micrometer.core.instrument.Tag.of("env", "test"), null)));
            assertEquals("tags contains a null Tag", nullTag.getMessage());
            assertThrows(NullPointerException.class, () -> BobbinMetrics.of(s).bindTo(null));
        }
    }

    /**
     * Every tag key a meter of the binder gets besides the caller's is refused at once, as
     * {@code HttpServerMetrics.of} refuses its own: {@code name} on all, {@code carrier} per carrier,
     * {@code transport} on the driver meters, and on the scheduling-delay timer's percentiles and histogram
     * {@code phi} (which a registry would put in place of the caller's on the percentile gauges, keeping it on
     * the other meters) and Prometheus's {@code quantile} and {@code le} (which its registry refuses only when
     * the timer is registered).
     */
    @Test
    void extraTagsThatTheMetersSetThemselvesAreRefused() throws Exception {
        try (FiberScheduler s = scheduler("own-tags", SchedulingDelaySampling.everyFiber())) {
            for (String key : new String[] {"name", "carrier", "transport", "phi", "quantile", "le"}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> BobbinMetrics.of(s, Tags.of(key, "mine")), key);
                assertTrue(e.getMessage().startsWith("tag '" + key + "' is set "), e.getMessage());
            }
            SimpleMeterRegistry r = new SimpleMeterRegistry();
            BobbinMetrics.of(s, Tags.of("app", "shop")).withPercentiles().bindTo(r);   // any other key is fine
            assertTrue(r.getMeters().stream().allMatch(m -> "shop".equals(m.getId().getTag("app"))), r.getMetersAsString());
        }
    }

    /** A driver reporting one counter the way an I/O backend would. */
    static final class PollCountingDriver implements CarrierDriver, DriverStats {
        final Thread carrier;
        volatile long polls;

        PollCountingDriver(Thread carrier) { this.carrier = carrier; }

        @Override public int poll() { polls++; return 0; }
        @Override public void park(long t) { if (t < 0) LockSupport.park(); else LockSupport.parkNanos(t); }
        @Override public void wakeup() { LockSupport.unpark(carrier); }
        @Override public void close() { }
        @Override public DriverStats stats() { return this; }
        @Override public String transport() { return "fake_uring"; }
        @Override public List<String> counterNames() { return List.of("submissions"); }
        @Override public long counter(int index) { return polls; }
    }

    @Test
    void driverCountersBecomeMetersTaggedWithTheTransport() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("io").parallelism(2)
                .driverFactory(ctx -> new PollCountingDriver(ctx.carrierThread())).build())) {
            BobbinMetrics.of(s).bindTo(r);
            startAndJoin(s, 10, () -> { });
            await("submissions counted", () -> counter(r, "bobbin.driver.submissions", "io") > 0);
            assertEquals(2, r.get("bobbin.driver.submissions").tag("transport", "fake_uring").functionCounters().size());
            assertEquals(2, r.get("bobbin.driver.transport").tag("transport", "fake_uring").gauge().value());
        }
        try (FiberScheduler s = scheduler("noio", SchedulingDelaySampling.off())) {
            BobbinMetrics.of(s).bindTo(r);
            assertEquals(2, r.get("bobbin.driver.transport").tag("name", "noio").tag("transport", "none").gauge().value());
        }
    }

    /** With delay sampling off nothing would ever be recorded, so there is no delay timer to read a misleading 0. */
    @Test
    void noDelayTimerWithoutDelaySampling() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler off = scheduler("unsampled", SchedulingDelaySampling.off());
             FiberScheduler on = scheduler("sampled", SchedulingDelaySampling.everyFiber())) {
            BobbinMetrics unsampled = BobbinMetrics.of(off).withPercentiles();
            unsampled.bindTo(r);
            BobbinMetrics.of(on).bindTo(r);
            assertNull(r.find("bobbin.scheduling.delay").tag("name", "unsampled").timer());
            assertNotNull(r.find("executor.pool.size").tag("name", "unsampled").gauge(), "the other meters are bound");
            assertNotNull(r.find("bobbin.scheduling.delay").tag("name", "sampled").timer());
            unsampled.close();
            assertNull(r.find("executor.pool.size").tag("name", "unsampled").gauge(), "close still removes them");
        }
    }

    @Test
    void carrierStallsAreCounted() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        SchedulerConfig config = SchedulerConfig.builder().name("stalls").parallelism(1)
                .stallThreshold(Duration.ofMillis(20)).maxSpareCarriers(1).build();
        try (FiberScheduler s = FiberScheduler.create(config)) {
            BobbinMetrics.of(s).bindTo(r);
            assertEquals(0, r.get("bobbin.stalls").tag("name", "stalls").functionCounter().count());
            s.start(() -> {                              // a CPU hog: no blocking point for 300 ms
                long end = System.nanoTime() + 300_000_000L;
                while (System.nanoTime() < end) Thread.onSpinWait();
            }).join();
            await("a stall counted", () -> r.get("bobbin.stalls").tag("name", "stalls").functionCounter().count() >= 1);
            // spares start only when work waits behind a stalled carrier (StallProtectionTest); the meters exist
            assertTrue(r.get("bobbin.carriers.spare.activations").tag("name", "stalls").functionCounter().count() >= 0);
            assertTrue(r.get("bobbin.carriers.spare.active").tag("name", "stalls").gauge().value() >= 0);
        }
    }
}
