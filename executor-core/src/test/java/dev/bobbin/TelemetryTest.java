package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import dev.bobbin.spi.DriverStats;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.*;

class TelemetryTest {

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** One carrier: exact submission counts are easiest to reason about when nothing migrates. */
    private static FiberScheduler scheduler(SchedulingDelaySampling sampling) {
        return FiberScheduler.create(SchedulerConfig.builder().name("telemetry").parallelism(1)
                .schedulingDelaySampling(sampling).build());
    }

    /** Starts n fibers that each sleep twice, and waits for them. */
    private static void sleepers(FiberScheduler s, int n) throws InterruptedException {
        List<Thread> fibers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fibers.add(s.start(() -> {
                try {
                    Thread.sleep(1);
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (Thread f : fibers) f.join();
    }

    @Test
    void everyFiberSamplingMeasuresEverySubmission() throws Exception {
        AtomicLong heard = new AtomicLong();
        AtomicLong negative = new AtomicLong();
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.everyFiber())) {
            LongConsumer listener = d -> {
                heard.incrementAndGet();
                if (d < 0) negative.incrementAndGet();
            };
            assertTrue(s.addSchedulingDelayListener(listener));
            assertFalse(s.addSchedulingDelayListener(listener), "an equal listener is not added twice");
            sleepers(s, 50);
            await("every fiber completed", () -> s.stats().fibersCompleted() == 50);
            SchedulerStats st = s.stats();
            long submissions = st.fibersStarted() + st.fiberUnparks();
            // each fiber: a start and the first sleep's wake-up at least; the JDK's second sleep of two can
            // end without parking (the first leaves the wake-up permit set, and a fiber held off its carrier
            // for the whole millisecond finds its time up), so 150 is the usual count, not a floor
            assertTrue(submissions >= 100, "each fiber: a start and a wakeup at least, got " + submissions);
            assertEquals(submissions, st.schedulingDelaySamples(), "one measurement per submission");
            assertEquals(submissions, heard.get(), "the listener heard each measurement once");
            assertEquals(0, negative.get());
            assertTrue(st.schedulingDelayTotalNanos() > 0);
            assertTrue(st.schedulingDelayMaxNanos() > 0 && st.schedulingDelayMaxNanos() <= st.schedulingDelayTotalNanos());
            s.removeSchedulingDelayListener(listener);
            sleepers(s, 5);
            assertEquals(submissions, heard.get(), "a removed listener hears nothing");
        }
    }

    @Test
    void sampledMeasuresSomeSubmissions() throws Exception {
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.oneIn(8))) {
            sleepers(s, 400);
            await("every fiber completed", () -> s.stats().fibersCompleted() == 400);
            SchedulerStats st = s.stats();
            long submissions = st.fibersStarted() + st.fiberUnparks();
            assertTrue(st.schedulingDelaySamples() > 0, "some submissions were measured");
            assertTrue(st.schedulingDelaySamples() < submissions / 2,
                    st.schedulingDelaySamples() + " of " + submissions + " measured: not one in 8");
        }
    }

    @Test
    void offMeasuresNothing() throws Exception {
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.off())) {
            assertFalse(s.addSchedulingDelayListener(d -> { }));
            sleepers(s, 20);
            assertEquals(0, s.stats().schedulingDelaySamples());
        }
    }

    @Test
    void newEntryPointsRejectNull() throws Exception {
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.defaults())) {
            assertThrows(NullPointerException.class, () -> s.addSchedulingDelayListener(null));
            assertThrows(NullPointerException.class, () -> s.removeSchedulingDelayListener(null));
            assertThrows(NullPointerException.class, () -> s.onTermination(null));
        }
    }

    @Test
    void samplingArgumentsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> SchedulingDelaySampling.oneIn(0));
        assertThrows(IllegalArgumentException.class, () -> new SchedulingDelaySampling(-1));
        assertThrows(NullPointerException.class, () -> SchedulerConfig.builder().schedulingDelaySampling(null));
        assertTrue(SchedulingDelaySampling.off().isOff());
        assertEquals(1, SchedulingDelaySampling.everyFiber().period());
        SchedulerConfig c = SchedulerConfig.builder().trackFibers(true).schedulingDelaySampling(SchedulingDelaySampling.oneIn(3)).build();
        assertEquals(c, c.toBuilder().build(), "toBuilder keeps the telemetry settings");
    }

    @Test
    void failedFibersAreCountedAndStillReachTheDefaultHandler() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> handled.incrementAndGet());
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.off())) {
            List<Thread> fibers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                boolean fail = i % 2 == 0;
                fibers.add(s.start(() -> {
                    if (fail) throw new IllegalStateException("deliberate");
                }));
            }
            // a fiber started from a fiber through the scheduler's thread factory is counted too (fibers
            // built from ofVirtual() keep the JDK's handling untouched and are not counted: see
            // UncaughtExceptionConformanceTest)
            fibers.add(s.start(() -> {
                Thread child = s.threadFactory().newThread(() -> { throw new IllegalStateException("child"); });
                child.start();
                try {
                    child.join();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }));
            for (Thread f : fibers) f.join();
            assertEquals(5, s.stats().fibersFailed());
            assertEquals(5, handled.get(), "the default handler still sees each failure");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    @Test
    void busyTimeCoversASpinningFiberAndWakeupsAreCounted() throws Exception {
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.off())) {
            await("carrier parked", () -> s.stats().parkedCarriers() == 1);
            long[] spun = new long[1];
            s.start(() -> {
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < 30_000_000L) Thread.onSpinWait();
                spun[0] = System.nanoTime() - t0;
            }).join();
            SchedulerStats st = s.stats();
            long busy = st.carriers().stream().mapToLong(SchedulerStats.CarrierStats::busyNanos).sum();
            assertTrue(busy >= spun[0], "busy " + busy + " < spin " + spun[0]);
            assertTrue(st.carriers().stream().mapToLong(SchedulerStats.CarrierStats::wakeups).sum() >= 1,
                    "the outside start woke a parked carrier");
            await("carrier parked again", () -> s.stats().parkedCarriers() == 1);
            long busy1 = s.stats().carriers().stream().mapToLong(SchedulerStats.CarrierStats::busyNanos).sum();
            LockSupport.parkNanos(30_000_000L);
            long busy2 = s.stats().carriers().stream().mapToLong(SchedulerStats.CarrierStats::busyNanos).sum();
            assertTrue(busy2 - busy1 < 25_000_000L, "parked carriers accrue no busy time: " + (busy2 - busy1));
        }
    }

    @Test
    void terminationActionsRunBeforeAwaitTerminationReturns() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        FiberScheduler s = scheduler(SchedulingDelaySampling.off());
        s.onTermination(ran::incrementAndGet);
        s.start(() -> { }).join();
        assertEquals(0, ran.get());
        s.close();
        assertEquals(1, ran.get());
        s.onTermination(ran::incrementAndGet);
        assertEquals(2, ran.get(), "runs at once when already terminated");
        assertThrows(NullPointerException.class, () -> s.onTermination(null));
    }

    /** A driver with one counter, bumped on every poll, and a transport name. */
    static final class CountingDriver implements CarrierDriver, DriverStats {
        final Thread carrier;
        volatile long polls;

        CountingDriver(Thread carrier) { this.carrier = carrier; }

        @Override public int poll() { polls++; return 0; }
        @Override public void park(long timeoutNanos) {
            if (timeoutNanos < 0) LockSupport.park(); else LockSupport.parkNanos(timeoutNanos);
        }
        @Override public void wakeup() { LockSupport.unpark(carrier); }
        @Override public void close() { }
        @Override public DriverStats stats() { return this; }
        @Override public String transport() { return "test"; }
        @Override public List<String> counterNames() { return List.of("polls"); }
        @Override public long counter(int index) { return polls; }
    }

    @Test
    void driverStatsReachTheSnapshot() throws Exception {
        CarrierDriverFactory factory = ctx -> new CountingDriver(ctx.carrierThread());
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("drv").parallelism(2)
                .driverFactory(factory).build())) {
            s.start(() -> { }).join();
            SchedulerStats st = s.stats();
            assertEquals("test", st.transport());
            long polls = st.carriers().stream().mapToLong(c -> c.driverCounters().get("polls")).sum();
            assertTrue(polls > 0, "the carriers polled their drivers");
        }
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.off())) {
            assertEquals("none", s.stats().transport());
            assertTrue(s.stats().carriers().get(0).driverCounters().isEmpty());
        }
    }

    @Test
    void queueDepthsAndLiveFibersReturnToZeroWhenIdle() throws Exception {
        try (FiberScheduler s = scheduler(SchedulingDelaySampling.defaults())) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> fibers = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                fibers.add(s.start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            assertEquals(300, s.stats().fibersStarted());
            await("every fiber parked on the latch", () -> s.stats().fiberParks() == 300);
            assertEquals(300, s.stats().liveFibers());
            go.countDown();
            for (Thread f : fibers) f.join();
            await("idle", () -> {
                SchedulerStats st = s.stats();
                return st.liveFibers() == 0 && st.queuedFibers() == 0 && st.parkedCarriers() == 1;
            });
            SchedulerStats st = s.stats();
            assertEquals(300, st.fibersCompleted());
            assertEquals(300, st.fiberParks(), "each fiber parked once");
            assertEquals(300, st.fiberUnparks(), "and was woken once");
        }
    }
}
