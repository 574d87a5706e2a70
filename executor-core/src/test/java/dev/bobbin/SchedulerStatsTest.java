package dev.bobbin;

import dev.bobbin.SchedulerStats.CarrierStats;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static dev.bobbin.TelemetryTest.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The grouped stats ({@link SchedulerStats#fibers()}, {@link CarrierStats#runs()}, ...) and the flat
 * accessors ({@link SchedulerStats#fibersStarted()}, {@link CarrierStats#tasksRun()}, ...) report the same
 * values, each flat accessor the value of its own group field.
 */
class SchedulerStatsTest {

    /** Every flat accessor of {@code st} and of each of its carriers against its group field. */
    static void assertAgree(SchedulerStats st) {
        assertAll("scheduler",
                () -> assertEquals(st.fibers().started(), st.fibersStarted(), "fibersStarted"),
                () -> assertEquals(st.fibers().completed(), st.fibersCompleted(), "fibersCompleted"),
                () -> assertEquals(st.fibers().live(), st.liveFibers(), "liveFibers"),
                () -> assertEquals(st.fibers().failed(), st.fibersFailed(), "fibersFailed"),
                () -> assertEquals(st.injection().queueDepth(), st.injectionQueueDepth(), "injectionQueueDepth"),
                () -> assertEquals(st.injection().outsideSubmissions(), st.outsideSubmissions(), "outsideSubmissions"),
                () -> assertEquals(st.idle().parked(), st.parkedCarriers(), "parkedCarriers"),
                () -> assertEquals(st.idle().searching(), st.searchingCarriers(), "searchingCarriers"),
                () -> assertEquals(st.stalls().reported(), st.carrierStalls(), "carrierStalls"),
                () -> assertEquals(st.stalls().activeSpares(), st.activeSpareCarriers(), "activeSpareCarriers"),
                () -> assertEquals(st.stalls().spareActivations(), st.spareActivations(), "spareActivations"));
        for (CarrierStats c : st.carriers()) {
            assertAll("carrier " + c.index(),
                    () -> assertEquals(c.runs().tasksRun(), c.tasksRun(), "tasksRun"),
                    () -> assertEquals(c.runs().nextSlotRuns(), c.nextSlotRuns(), "nextSlotRuns"),
                    () -> assertEquals(c.runs().fibersStarted(), c.fibersStarted(), "fibersStarted"),
                    () -> assertEquals(c.runs().fibersCompleted(), c.fibersCompleted(), "fibersCompleted"),
                    () -> assertEquals(c.runs().localSchedules(), c.localSchedules(), "localSchedules"),
                    () -> assertEquals(c.workSharing().steals(), c.steals(), "steals"),
                    () -> assertEquals(c.workSharing().stolenTasks(), c.stolenTasks(), "stolenTasks"),
                    () -> assertEquals(c.workSharing().spills(), c.spills(), "spills"),
                    () -> assertEquals(c.workSharing().injectedTaken(), c.injectedTaken(), "injectedTaken"),
                    () -> assertEquals(c.parking().parks(), c.parks(), "parks"),
                    () -> assertEquals(c.parking().parkedNanos(), c.parkedNanos(), "parkedNanos"),
                    () -> assertEquals(c.parking().wakeups(), c.wakeups(), "wakeups"),
                    () -> assertEquals(c.parking().busyNanos(), c.busyNanos(), "busyNanos"),
                    () -> assertEquals(c.schedulingDelay().samples(), c.schedulingDelaySamples(), "delay samples"),
                    () -> assertEquals(c.schedulingDelay().totalNanos(), c.schedulingDelayTotalNanos(), "delay total"),
                    () -> assertEquals(c.schedulingDelay().maxNanos(), c.schedulingDelayMaxNanos(), "delay max"),
                    () -> assertEquals(c.gauges().queueDepth(), c.queueDepth(), "queueDepth"),
                    () -> assertEquals(c.gauges().parked(), c.parked(), "parked"),
                    () -> assertEquals(c.gauges().running(), c.running(), "running"),
                    () -> assertEquals(c.driver().events(), c.driverEvents(), "driverEvents"),
                    () -> assertEquals(c.driver().counters(), c.driverCounters(), "driverCounters"));
        }
    }

    /** The scheduler-wide values that a live snapshot derives from its carriers' values. */
    static void assertSumsOfCarriers(SchedulerStats st) {
        assertEquals(st.fibersCompleted(), st.carriers().stream().mapToLong(c -> c.runs().fibersCompleted()).sum(),
                "completions are the carriers' completions");
        assertEquals(st.fibersStarted() - st.fibersCompleted(), st.liveFibers());
        assertEquals(st.carriers().stream().mapToLong(c -> c.schedulingDelay().samples()).sum(), st.schedulingDelaySamples());
        assertEquals(st.carriers().stream().mapToLong(c -> c.runs().tasksRun()).sum(), st.tasksRun());
        assertEquals(st.carriers().stream().mapToLong(c -> c.workSharing().steals()).sum(), st.steals());
    }

    @Test
    void groupsAndFlatAccessorsAgreeOnARunningScheduler() throws Exception {
        CarrierDriverFactory factory = ctx -> new TelemetryTest.CountingDriver(ctx.carrierThread());
        SchedulerConfig config = SchedulerConfig.builder().name("stats").parallelism(2).driverFactory(factory)
                .schedulingDelaySampling(SchedulingDelaySampling.everyFiber()).build();
        try (FiberScheduler s = FiberScheduler.create(config)) {
            CountDownLatch release = new CountDownLatch(1);
            int children = 200, holders = 20;
            // a parent starting sleeping children: starts on a carrier, parks, wakeups, local schedules
            Thread parent = s.start(task(() -> {
                List<Thread> started = new ArrayList<>();
                for (int i = 0; i < children; i++) started.add(s.start(task(() -> Thread.sleep(1))));
                for (Thread t : started) t.join();
            }));
            List<Thread> waiting = new ArrayList<>();
            for (int i = 0; i < holders; i++) waiting.add(s.start(task(release::await)));
            Thread failing = s.threadFactory().newThread(() -> { throw new IllegalStateException("deliberate"); });
            failing.setUncaughtExceptionHandler((t, e) -> { });   // counted as failed, printed nowhere
            failing.start();
            try {
                parent.join();
                failing.join();
                await("only the holders live", () -> s.stats().liveFibers() == holders);
                SchedulerStats busy = s.stats();
                assertAgree(busy);
                assertSumsOfCarriers(busy);
                assertEquals(holders, busy.fibers().live());
                assertEquals(1, busy.fibers().failed());
            } finally {
                release.countDown();                 // a failure above must not leave close() waiting for them
            }
            for (Thread t : waiting) t.join();
            await("idle", () -> s.stats().idle().parked() == 2 && s.stats().liveFibers() == 0);
            SchedulerStats idle = s.stats();
            assertAgree(idle);
            assertSumsOfCarriers(idle);
            long all = 1 + children + holders + 1;
            assertEquals(all, idle.fibers().started());
            assertEquals(all, idle.fibers().completed());
            assertEquals(0, idle.fibers().live());
            assertTrue(idle.injection().outsideSubmissions() >= holders + 2, "the parent, the holders and the failing"
                    + " fiber were started from the test thread: " + idle);
            assertEquals("test", idle.transport());
            // the values compared above are not all zero
            assertTrue(idle.tasksRun() > all, "each child ran at least twice: " + idle);
            assertTrue(idle.carriers().stream().mapToLong(c -> c.runs().localSchedules()).sum() >= children,
                    "children were started on a carrier");
            assertTrue(idle.carriers().stream().mapToLong(c -> c.parking().parks()).sum() > 0, "carriers parked");
            assertTrue(idle.schedulingDelaySamples() > 0, "delays were measured");
            assertTrue(idle.carriers().stream().noneMatch(c -> c.gauges().running()), "no fiber left to run");
            for (CarrierStats c : idle.carriers()) {
                assertTrue(c.driver().counters().get("polls") > 0, "carrier " + c.index() + " polled its driver");
            }
        }
    }

    @Test
    @SuppressWarnings("removal")  // the positional constructors are what this test compares against
    void eachFlatAccessorReadsItsOwnValue() {
        // distinct values, so that an accessor reading another field's value fails
        CarrierStats c = new CarrierStats(1, "c-1", 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, true, 14, 15, 16, 17, 18,
                19, false, Map.of("polls", 20L));
        long[] flat = {c.tasksRun(), c.fibersStarted(), c.fibersCompleted(), c.steals(), c.stolenTasks(), c.parks(),
                c.parkedNanos(), c.nextSlotRuns(), c.spills(), c.injectedTaken(), c.driverEvents(), c.queueDepth()};
        long[] more = {c.localSchedules(), c.wakeups(), c.busyNanos(), c.schedulingDelaySamples(),
                c.schedulingDelayTotalNanos(), c.schedulingDelayMaxNanos()};
        for (int i = 0; i < flat.length; i++) assertEquals(i + 2, flat[i], "flat accessor " + i + " of the first block");
        for (int i = 0; i < more.length; i++) assertEquals(i + 14, more[i], "flat accessor " + i + " of the second block");
        assertEquals(1, c.index());
        assertEquals("c-1", c.threadName());
        assertTrue(c.parked());
        assertFalse(c.running());
        assertEquals(Map.of("polls", 20L), c.driverCounters());
        CarrierStats grouped = new CarrierStats(1, "c-1", new CarrierStats.Runs(2, 9, 3, 4, 14),
                new CarrierStats.WorkSharing(5, 6, 10, 11), new CarrierStats.Parking(7, 8, 15, 16),
                new CarrierStats.SchedulingDelay(17, 18, 19), new CarrierStats.Gauges(13, true, false),
                new CarrierStats.Driver(12, Map.of("polls", 20L)));
        assertEquals(grouped, c, "the positional constructor fills the same groups");

        SchedulerStats st = new SchedulerStats("s", 1, 101, 102, 103, 104, 105, 106, 107, List.of(c), 108, 109, 110,
                111, "none");
        long[] scheduler = {st.fibersStarted(), st.fibersCompleted(), st.liveFibers(), st.injectionQueueDepth(),
                st.outsideSubmissions(), st.parkedCarriers(), st.searchingCarriers(), st.carrierStalls(),
                st.activeSpareCarriers(), st.spareActivations(), st.fibersFailed()};
        for (int i = 0; i < scheduler.length; i++) assertEquals(i + 101, scheduler[i], "scheduler accessor " + i);
        assertEquals(new SchedulerStats("s", 1, new SchedulerStats.Fibers(101, 102, 103, 111),
                new SchedulerStats.Injection(104, 105), new SchedulerStats.Idle(106, 107), List.of(grouped),
                new SchedulerStats.Stalls(108, 109, 110), "none"), st);
        assertAgree(st);
    }

    /** A blocking step of a fiber's task. */
    private interface Blocking {
        void run() throws InterruptedException;
    }

    /** {@code step} as a task; an interrupt ends the fiber with an exception. */
    private static Runnable task(Blocking step) {
        return () -> {
            try {
                step.run();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        };
    }
}
