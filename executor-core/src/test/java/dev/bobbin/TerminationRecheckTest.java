package dev.bobbin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The waiters' re-check of {@code ExecutorState}: a thread in close() or awaitTermination checks every
 * second what the termination protocol guarantees, and scans the registry for its executor's fibers once
 * no exit came for two seconds. Each fault is injected through a test hook that does
 * what a broken protocol would: an exit counted without its termination check (a Dekker miss with the
 * shutdown), or an exit taken out of the registry and never counted. The first must end in termination
 * with one WARNING, where close() used to wait forever; the second in one WARNING naming the counts while
 * the executor (rightly) keeps waiting. A task that simply runs long raises nothing. The JVM's executors
 * log one such WARNING per interval between them, so each case starts with that limit forgotten.
 */
class TerminationRecheckTest {
    private FiberScheduler scheduler;
    private CapturedLogs logs;

    @BeforeEach
    void start() {
        AccountingReports.JVM.forget();
        logs = new CapturedLogs("dev.bobbin");
        scheduler = FiberScheduler.create(SchedulerConfig.builder().name("recheck").parallelism(2).build());
    }

    @AfterEach
    void stop() {
        try {
            scheduler.close();
        } finally {
            logs.close();
        }
    }

    /** An executor on {@code on} whose one job's exit missed the shutdown: nobody terminates it. */
    private static FiberExecutor withMissedTermination(String name, FiberScheduler on)
            throws ReflectiveOperationException {
        FiberExecutor executor = FiberExecutor.builder().scheduler(on).name(name).build();
        ExecutorState state = lifecycle(executor);
        Thread fiber = on.ofVirtual().unstarted(() -> { });
        state.trackAccepted(fiber);                           // one job counted
        state.shutdown();                                     // sees it: leaves termination to its exit
        assertFalse(state.isTerminated());
        state.exitMissingShutdown(fiber);                     // the exit that read RUNNING: nobody terminates
        assertEquals(0, executor.activeCount(), "the exit was counted");
        assertFalse(state.isTerminated(), "the fault left the executor unterminated");
        return executor;
    }

    private static ExecutorState lifecycle(FiberExecutor executor) throws ReflectiveOperationException {
        Field f = FiberExecutor.class.getDeclaredField("lifecycle");
        f.setAccessible(true);
        return (ExecutorState) f.get(executor);
    }

    private List<String> warnings() {
        return logs.warnings().stream().map(LogRecord::getMessage).toList();
    }

    @Test
    void aMissedTerminationIsTakenByTheWaiterAndReported() throws Exception {
        FiberExecutor executor = withMissedTermination("missed", scheduler);
        Thread closer = Thread.ofPlatform().daemon().start(executor::close);
        closer.join(TimeUnit.SECONDS.toMillis(30));           // a hang guard, not a timing check
        assertFalse(closer.isAlive(), "close() still waits for an executor with nothing left");
        assertTrue(executor.isTerminated());
        List<String> warnings = warnings();
        assertEquals(1, warnings.size(), "one WARNING: " + warnings);
        assertTrue(warnings.get(0).contains("'missed'") && warnings.get(0).contains("terminated by a waiter's re-check"),
                warnings.get(0));
    }

    /**
     * Waiters polling with short timeouts re-check after every poll, yet none may act before the finding
     * has held for a whole interval (a last exit about to take the termination is not overtaken): the
     * missed termination is taken, but not within the first second. A lower bound only, which a slow
     * machine cannot break.
     */
    @Test
    void pollingWaitersLeaveTheGraceIntervalToTheProtocol() throws Exception {
        FiberExecutor executor = FiberExecutor.builder().scheduler(scheduler).name("polled").build();
        ExecutorState state = lifecycle(executor);
        Thread fiber = scheduler.ofVirtual().unstarted(() -> { });
        state.trackAccepted(fiber);
        state.shutdown();
        state.exitMissingShutdown(fiber);
        long start = System.nanoTime();
        List<Thread> pollers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pollers.add(Thread.ofPlatform().daemon().start(() -> {
                try {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!executor.awaitTermination(10, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) { }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread p : pollers) p.join(TimeUnit.SECONDS.toMillis(40));
        long took = System.nanoTime() - start;
        assertTrue(executor.isTerminated(), "the pollers' re-check took the missed termination");
        assertTrue(took >= dev.bobbin.scheduler.Tunables.TERMINATION_RECHECK_NANOS,
                "taken after " + took / 1_000_000 + " ms: before the finding held for a whole interval");
        assertEquals(1, warnings().size(), "one WARNING: " + warnings());
    }

    /**
     * The registry scan, both ways at once (one wait for both, to keep the suite short): an executor
     * whose counted fiber the registry lost is reported while it keeps waiting; one whose fiber simply
     * runs long is not (a scan that missed the running fiber would report at about 4 s).
     */
    @Test
    void aLostExitIsReportedAndARunningFiberIsNot() throws Exception {
        FiberExecutor running = FiberExecutor.builder().scheduler(scheduler).name("long").build();
        var future = running.submit(() -> {
            Thread.sleep(5_000);                              // past the first scan (3 s) and a second (4 s)
            return 7;
        });
        Thread closer = Thread.ofPlatform().daemon().start(running::close);   // waits through the re-checks

        FiberExecutor executor = FiberExecutor.builder().scheduler(scheduler).name("lost").build();
        ExecutorState state = lifecycle(executor);
        Thread fiber = scheduler.ofVirtual().unstarted(() -> { });
        state.trackAccepted(fiber);
        state.loseExit(fiber);                                // out of the registry, never counted out
        executor.shutdown();
        assertFalse(executor.awaitTermination(5500, TimeUnit.MILLISECONDS),   // two scans, at 3 s and 4 s
                "a fiber is still counted: termination must wait for it");

        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(closer.isAlive(), "close() of the long task's executor returned");
        assertEquals(7, future.get());
        assertTrue(running.isTerminated());
        List<String> warnings = warnings();
        assertEquals(1, warnings.size(), "one WARNING, for the lost exit only: " + warnings);
        assertTrue(warnings.get(0).contains("'lost'") && warnings.get(0).contains("1 fiber(s) counted that the registry no longer holds"),
                warnings.get(0));

        state.exited(fiber);                                  // the count catches up: the executor terminates
        assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(1, warnings().size(), "reported once");
    }

    /**
     * Executors hit by the same fault, on two schedulers: each takes its termination and reports once, but
     * only one report is a WARNING; the other goes to DEBUG, so an application that makes an executor per
     * request (each with a scheduler of its own, by default) logs one line if every one of them is hit.
     */
    @Test
    void theJvmsExecutorsShareOneWarningPerInterval() throws Exception {
        SchedulerConfig otherConfig = SchedulerConfig.builder().name("recheck-other").parallelism(1).build();
        try (CapturedLogs debug = new CapturedLogs(Level.FINE, "dev.bobbin");
             FiberScheduler other = FiberScheduler.create(otherConfig)) {
            List<FiberExecutor> executors = List.of(withMissedTermination("shared-0", scheduler),
                    withMissedTermination("shared-1", other));
            List<Thread> closers = executors.stream().map(e -> Thread.ofPlatform().daemon().start(e::close)).toList();
            for (Thread c : closers) {
                c.join(TimeUnit.SECONDS.toMillis(30));                  // a hang guard, not a timing check
                assertFalse(c.isAlive(), "close() still waits for an executor with nothing left");
            }
            for (FiberExecutor e : executors) assertTrue(e.isTerminated(), "each waiter took its termination");
            List<String> warnings = warnings();
            assertEquals(1, warnings.size(), "one WARNING for both: " + warnings);
            List<String> atDebug = debug.records().stream().filter(r -> r.getLevel() == Level.FINE)
                    .map(LogRecord::getMessage).filter(m -> m.contains("terminated by a waiter's re-check")).toList();
            assertEquals(1, atDebug.size(), "the other at DEBUG: " + atDebug);
            String quiet = warnings.get(0).contains("'shared-0'") ? "'shared-1'" : "'shared-0'";
            assertTrue(atDebug.get(0).contains(quiet), atDebug.get(0));
        }
    }
}
