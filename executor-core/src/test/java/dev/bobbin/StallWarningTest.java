package dev.bobbin;

import dev.bobbin.scheduler.StallMonitor;
import dev.bobbin.spi.CarrierDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.bobbin.SchedulingPolicyTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What the stall monitor logs: a WARNING only when runnable work waited behind a carrier stalled past the
 * warning limit (one second), in one line, at most once per interval; the stack, captured at detection
 * while the fiber was still running, at DEBUG. And where a carrier error goes: the default error handler
 * reports it at ERROR, never on {@code System.err}. Observed through the JDK logging backend that
 * {@code System.Logger} uses by default.
 */
@Tag("reliability")
class StallWarningTest {
    private static final long HOG_MILLIS = 1_300;             // past the one-second warning limit

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger("dev.bobbin");
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { records.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    };
    private Level previousLevel;
    private boolean previousUseParent;

    @BeforeEach
    void capture() {
        previousLevel = logger.getLevel();
        previousUseParent = logger.getUseParentHandlers();
        logger.setLevel(Level.FINE);                          // DEBUG maps to FINE
        logger.setUseParentHandlers(false);                   // keep the run quiet
        logger.addHandler(capture);
    }

    @AfterEach
    void release() {
        logger.removeHandler(capture);
        logger.setLevel(previousLevel);
        logger.setUseParentHandlers(previousUseParent);
    }

    private static FiberScheduler scheduler(String name, SchedulingPolicy policy) {
        return FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(1).policy(policy)
                .stallThreshold(Duration.ofMillis(50)).maxSpareCarriers(0).build());
    }

    /** Hogs the only carrier for {@link #HOG_MILLIS}; with {@code behind} fibers queued behind it. */
    private static void hog(FiberScheduler scheduler, int behind) throws Exception {
        CountDownLatch hogging = new CountDownLatch(1);
        AtomicBoolean release = new AtomicBoolean();
        Thread hog = scheduler.start(() -> {
            hogging.countDown();
            long end = System.nanoTime() + HOG_MILLIS * 1_000_000;
            StallProtectionTest.spinUntilReleased(release, end);
        });
        hogging.await();
        CountDownLatch others = new CountDownLatch(behind);
        for (int i = 0; i < behind; i++) scheduler.start(others::countDown);
        hog.join();
        others.await();
    }

    /** The message of the only WARNING logged, which must be one line. */
    private String theOneWarningLine() {
        List<LogRecord> warnings = at(Level.WARNING);
        assertEquals(1, warnings.size(), "one WARNING: " + warnings);
        String line = warnings.getFirst().getMessage();
        assertFalse(line.contains("\n"), "one line: " + line);
        return line;
    }

    private List<LogRecord> at(Level level) {
        return records.stream().filter(r -> r.getLevel() == level).toList();
    }

    @Test
    void aStallWithWorkBehindItPastTheLimitWarnsOnceInOneLineWithTheStackAtDebug() throws Exception {
        try (FiberScheduler scheduler = scheduler("warn-work", SchedulingPolicy.SINGLE_THREAD)) {
            StallMonitor monitor = scheduler.pool().monitor;
            hog(scheduler, 20);
            waitUntil(() -> monitor.warningsDone() == 1 && monitor.reportsDone() == 1);
        }
        String line = theOneWarningLine();
        assertTrue(line.contains("warn-work-fiber-") && line.contains("runnable fibers behind it"), line);
        assertTrue(line.contains("spinUntilReleased"), "names where the fiber was, from the stack taken at detection: " + line);
        List<LogRecord> debug = at(Level.FINE);
        assertEquals(1, debug.size(), "the stall's details once at DEBUG");
        assertTrue(debug.getFirst().getMessage().contains("spinUntilReleased"), debug.getFirst().getMessage());
    }

    @Test
    void aStallWithNothingBehindItIsNotAWarning() throws Exception {
        StallMonitor monitor;
        try (FiberScheduler scheduler = scheduler("warn-alone", SchedulingPolicy.SINGLE_THREAD)) {
            monitor = scheduler.pool().monitor;
            hog(scheduler, 0);
            waitUntil(() -> monitor.reportsDone() == 1);
            assertEquals(1, scheduler.stats().carrierStalls(), "the stall is still counted");
        }
        assertEquals(0, monitor.warningsQueued());
        assertEquals(List.of(), at(Level.WARNING));
        assertEquals(1, at(Level.FINE).size(), "reported at DEBUG only");
    }

    @Test
    void repeatedStallsWarnOncePerInterval() throws Exception {
        try (FiberScheduler scheduler = scheduler("warn-twice", SchedulingPolicy.SINGLE_THREAD)) {
            StallMonitor monitor = scheduler.pool().monitor;
            hog(scheduler, 5);
            hog(scheduler, 5);
            waitUntil(() -> monitor.reportsDone() == 2);
            waitUntil(() -> monitor.warningsDone() == monitor.warningsQueued());
            assertEquals(2, scheduler.stats().carrierStalls());
            assertEquals(1, monitor.warningsQueued(), "the second stall's WARNING falls in the same interval");
        }
        assertEquals(1, at(Level.WARNING).size());
    }

    @Test
    void aStallWithOnlyBoundFibersBehindItSaysTheyWaitInsteadOfThatTheyMoved() throws Exception {
        // Under WORK_STEALING a stall's queued fibers move to other carriers, but fibers bound to the stalled
        // carrier (startOn, startLocal, CarrierLocal.with) cannot: the WARNING must say that they wait.
        int behind = 5;
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("warn-bound").parallelism(2)
                .stallThreshold(Duration.ofMillis(50)).maxSpareCarriers(0).build())) {
            StallMonitor monitor = scheduler.pool().monitor;
            CountDownLatch hogging = new CountDownLatch(1);
            AtomicBoolean release = new AtomicBoolean();
            Thread hog = scheduler.startOn(0, () -> {
                hogging.countDown();
                StallProtectionTest.spinUntilReleased(release, System.nanoTime() + HOG_MILLIS * 1_000_000);
            });
            hogging.await();
            CountDownLatch others = new CountDownLatch(behind);
            for (int i = 0; i < behind; i++) scheduler.startOn(0, others::countDown);
            hog.join();
            others.await();
            waitUntil(() -> monitor.warningsDone() == 1 && monitor.reportsDone() == 1);
        }
        String line = theOneWarningLine();
        assertTrue(line.contains(behind + " runnable fibers behind it"), line);
        assertFalse(line.contains("moved to other carriers"), "none of them could move: " + line);
        assertTrue(line.contains("bound to it"), "says why they wait: " + line);
    }

    /**
     * A parking driver standing in for an I/O backend: its stall notice may fail ({@code stallFailure}, as a
     * faulty backend's might) and it may say what a stall of its carrier holds up ({@code held}, as an
     * unrescued event loop does).
     */
    private static final class TestDriver implements CarrierDriver {
        private final Thread carrier;
        private final RuntimeException stallFailure;   // null: the notice succeeds
        private final String held;                     // null: nothing held

        TestDriver(Thread carrier, RuntimeException stallFailure, String held) {
            this.carrier = carrier;
            this.stallFailure = stallFailure;
            this.held = held;
        }

        @Override public int poll() { return 0; }
        @Override public void park(long t) { if (t < 0) LockSupport.park(); else LockSupport.parkNanos(t); }
        @Override public void wakeup() { LockSupport.unpark(carrier); }
        @Override public void close() { }
        @Override public void carrierStalled() { if (stallFailure != null) throw stallFailure; }
        @Override public String heldByStall() { return held; }
    }

    @Test
    void aStallThatHoldsUpItsDriversIoWarnsEvenWithNoFiberBehindItAndSaysWhatWaits() throws Exception {
        StallMonitor monitor;
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("warn-io").parallelism(1)
                .policy(SchedulingPolicy.SINGLE_THREAD).stallThreshold(Duration.ofMillis(50)).maxSpareCarriers(0)
                .driverFactory(ctx -> new TestDriver(ctx.carrierThread(), null, "3 sockets on its test event loop wait for it"))
                .build())) {
            monitor = scheduler.pool().monitor;
            hog(scheduler, 0);
            waitUntil(() -> monitor.warningsDone() == 1 && monitor.reportsDone() == 1);
        }
        String line = theOneWarningLine();
        assertTrue(line.contains("3 sockets on its test event loop wait for it"), line);
        assertFalse(line.contains("runnable fibers behind it"), "no fiber waited: " + line);
        assertTrue(at(Level.FINE).getFirst().getMessage().contains("3 sockets on its test event loop"),
                "the DEBUG report says it too");
    }

    @Test
    void theDefaultErrorHandlerLogsACarrierErrorAtErrorWithItsThrowableAndWritesNothingToStderr() throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("faulty").parallelism(1)
                .stallThreshold(Duration.ofMillis(200)).maxSpareCarriers(0)
                .driverFactory(ctx -> new TestDriver(ctx.carrierThread(), new IllegalStateException("stall notice failed"), null))
                .build())) {
            s.start(() -> {                                   // holds the carrier past the time slice
                long end = System.nanoTime() + 100_000_000L;
                while (System.nanoTime() < end) Thread.onSpinWait();
            }).join();
            waitUntil(() -> records.stream().anyMatch(r -> r.getLevel() == Level.SEVERE));
        } finally {
            System.setErr(stderr);
        }
        LogRecord error = records.stream().filter(r -> r.getLevel() == Level.SEVERE).findFirst().orElseThrow();
        assertTrue(error.getMessage().contains("error on carrier"), error.getMessage());
        assertInstanceOf(IllegalStateException.class, error.getThrown());
        assertEquals("stall notice failed", error.getThrown().getMessage());
        assertEquals("", err.toString(StandardCharsets.UTF_8), "nothing on System.err");
    }

    /** A driver whose poll() and park() always fail: the carrier reports each failure and goes on after a pause. */
    private static final class FailingPollDriver implements CarrierDriver {
        private final Thread carrier;

        FailingPollDriver(Thread carrier) { this.carrier = carrier; }

        @Override public int poll() { throw new IllegalStateException("poll failed"); }
        @Override public void park(long t) { throw new IllegalStateException("poll failed"); }
        @Override public void wakeup() { LockSupport.unpark(carrier); }
        @Override public void close() { }
    }

    @Test
    @SuppressWarnings("try")                                  // the scheduler runs; the body only waits
    void theDefaultErrorHandlerLogsOneErrorRecordPerIntervalPerSchedulerAndTheRestAtDebug() throws Exception {
        for (String name : new String[] {"failing-a", "failing-b"}) {
            int before = at(Level.SEVERE).size();
            try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(1)
                    .maxSpareCarriers(0).driverFactory(ctx -> new FailingPollDriver(ctx.carrierThread())).build())) {
                waitUntil(() -> records.stream().filter(r -> r.getLevel() == Level.FINE
                        && r.getMessage().contains("error on carrier " + name)).count() >= 3);
            }
            List<LogRecord> errors = at(Level.SEVERE).subList(before, at(Level.SEVERE).size());
            assertEquals(1, errors.size(), name + ": one ERROR record, the repeats at DEBUG: " + errors);
            assertTrue(errors.getFirst().getMessage().contains("error on carrier " + name), errors.getFirst().getMessage());
            assertEquals("poll failed", errors.getFirst().getThrown().getMessage());
        }
    }
}
