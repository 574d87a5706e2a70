package dev.bobbin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Fault paths of the ExecutorService contract that {@link ExecutorConformanceTest} does not reach,
 * with the JDK's thread-per-task executor as the control. Tests named "saturated..." run the JDK
 * control and a FiberExecutor bounded to 1 (QUEUE or WAIT): the bound may delay tasks, but the bulk
 * operations' own contract (timeouts, InterruptedException, never hanging after shutdownNow) still holds.
 */
@Timeout(value = 60, unit = SECONDS)
class ExecutorFaultPathConformanceTest {
    static final long PATIENCE = 10;      // seconds, for what must happen
    static final long HANG_S = 5;         // seconds after which a call counts as hung

    enum Kind { JDK, UNBOUNDED, QUEUE1, WAIT1 }

    record Subject(String name, Kind kind, Supplier<ExecutorService> factory) {
        @Override public String toString() { return name; }
    }

    private static FiberScheduler shared;

    /** The JDK's executor and the unbounded FiberExecutors. */
    static List<Subject> unbounded() { return of(Kind.JDK, Kind.UNBOUNDED); }
    /** The JDK's executor and a FiberExecutor bounded to 1 that queues. */
    static List<Subject> queue1() { return of(Kind.JDK, Kind.QUEUE1); }
    /** The JDK's executor and a FiberExecutor bounded to 1 whose submitters wait. */
    static List<Subject> wait1() { return of(Kind.JDK, Kind.WAIT1); }
    /** Every kind. */
    static List<Subject> all() { return subjects(); }
    /** A FiberExecutor bounded to 1 that queues (the JDK's has no queue to compare with). */
    static List<Subject> queue1Only() { return of(Kind.QUEUE1); }

    private static List<Subject> of(Kind... kinds) {
        List<Kind> k = List.of(kinds);
        return subjects().stream().filter(s -> k.contains(s.kind())).toList();
    }

    static List<Subject> subjects() {
        if (shared == null) {
            shared = FiberScheduler.create(SchedulerConfig.builder().name("faultpath").parallelism(2).build());
        }
        FiberScheduler s = shared;
        return List.of(
                new Subject("jdk-virtual", Kind.JDK, Executors::newVirtualThreadPerTaskExecutor),
                new Subject("bobbin-shared", Kind.UNBOUNDED, () -> FiberExecutor.create(s)),
                new Subject("bobbin-own", Kind.UNBOUNDED, () -> FiberExecutor.builder().name("own")
                        .ownScheduler(SchedulerConfig.builder().name("own").parallelism(2).build()).build()),
                new Subject("bobbin-queue1", Kind.QUEUE1, () -> FiberExecutor.builder().name("q1").scheduler(s)
                        .maxConcurrency(1).whenSaturated(FiberExecutor.Saturation.QUEUE).build()),
                new Subject("bobbin-wait1", Kind.WAIT1, () -> FiberExecutor.builder().name("w1").scheduler(s)
                        .maxConcurrency(1).whenSaturated(FiberExecutor.Saturation.WAIT).build()));
    }

    @AfterAll
    static void closeShared() throws InterruptedException {
        FiberScheduler s = shared;
        shared = null;
        if (s == null) return;
        s.shutdown();
        assertTrue(s.awaitTermination(java.time.Duration.ofSeconds(10)), () -> "shared scheduler did not terminate: " + s.stats());
    }

    private Subject subject;                     // the test's executor kind, set by use()
    private final List<Gate> gates = Collections.synchronizedList(new ArrayList<>());
    private final List<ExecutorService> executors = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void releaseEverythingAndCheckNoFiberOutlivesItsTest() throws InterruptedException {
        for (Gate g : gates) g.release.countDown();
        for (ExecutorService e : executors) e.shutdownNow();
        for (ExecutorService e : executors) assertTrue(e.awaitTermination(PATIENCE, SECONDS), () -> e + " did not terminate");
        if (shared == null) return;
        long deadline = System.nanoTime() + SECONDS.toNanos(PATIENCE);
        long live;
        while ((live = shared.stats().liveFibers()) != 0 && System.nanoTime() < deadline) Thread.sleep(1);
        assertEquals(0, live, "live fibers left on the shared scheduler by " + subject);
    }

    private ExecutorService newExecutor() {
        ExecutorService e = subject.factory().get();
        executors.add(e);
        return e;
    }

    private void use(Subject s) { subject = s; }

    /** The test's executor, of {@code s}'s kind. */
    private ExecutorService executorFor(Subject s) {
        use(s);
        return newExecutor();
    }

    /** Waits for release; fails with InterruptedException (after counting it) if interrupted. */
    final class Gate implements Callable<String> {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch interrupted = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();

        Gate() { gates.add(this); }

        @Override
        public String call() throws InterruptedException {
            runs.incrementAndGet();
            started.countDown();
            try {
                return release.await(PATIENCE, SECONDS) ? "released" : "never released";
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
        }

        void awaitStarted() throws InterruptedException { assertTrue(started.await(PATIENCE, SECONDS), "gate did not start"); }
        void assertInterrupted() throws InterruptedException { assertTrue(interrupted.await(PATIENCE, SECONDS), "gate was not interrupted"); }
        void assertCancelledOrInterrupted() throws InterruptedException {
            if (started.getCount() == 0 || started.await(30, MILLISECONDS)) assertInterrupted();
        }
    }

    /** A call made on a daemon platform thread (so a hung call cannot hang the JVM). */
    record Call<T>(Thread thread, CompletableFuture<T> result) {
        /** The outcome within HANG_S seconds: the value, or the exception the call threw. */
        Object outcome() throws InterruptedException {
            try {
                return result.get(HANG_S, SECONDS);
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                fail("the call hung for " + HANG_S + " s: " + thread.getState() + " " + java.util.Arrays.toString(thread.getStackTrace()));
                return null;
            }
        }
    }

    static <T> Call<T> async(Callable<T> body) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                result.complete(body.call());
            } catch (Throwable x) {
                result.completeExceptionally(x);
            }
        });
        return new Call<>(t, result);
    }

    static void awaitWaiting(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + SECONDS.toNanos(PATIENCE);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING
                && System.nanoTime() < deadline) Thread.sleep(1);
        Thread.sleep(20);
    }

    static Callable<String> failing(String m) { return () -> { throw new IllegalStateException(m); }; }

    // ---- invokeAny -----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void invokeAnyReturnsALateSuccessAfterEarlyFailures(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        List<Callable<String>> tasks = List.of(failing("a"), failing("b"), () -> { Thread.sleep(50); return "late"; });
        assertEquals("late", e.invokeAny(tasks));
        assertEquals("late", e.invokeAny(tasks, PATIENCE, SECONDS));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void invokeAnyInterruptedWhileWaitingThrowsAndInterruptsEveryTask(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        for (boolean timed : new boolean[] {false, true}) {
            Gate g1 = new Gate(), g2 = new Gate();
            Call<String> c = async(() -> timed ? e.invokeAny(List.of(g1, g2), PATIENCE, SECONDS) : e.invokeAny(List.of(g1, g2)));
            g1.awaitStarted();
            g2.awaitStarted();
            awaitWaiting(c.thread());
            c.thread().interrupt();
            assertInstanceOf(InterruptedException.class, c.outcome());
            g1.assertInterrupted();
            g2.assertInterrupted();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void timedInvokeAnyWithAZeroOrNegativeTimeoutTimesOutAndInterrupts(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        for (long t : new long[] {0, -1, Long.MIN_VALUE / 2}) {
            Gate g = new Gate();
            assertThrows(TimeoutException.class, () -> e.invokeAny(List.of(g), t, NANOSECONDS), "timeout " + t);
            g.assertCancelledOrInterrupted();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    void invokeAnyOfAnEmptyCollectionAfterShutdownIsIllegalArgument(Subject subject) {
        ExecutorService e = executorFor(subject);
        e.shutdown();
        assertThrows(IllegalArgumentException.class, () -> e.invokeAny(List.of()));
        assertThrows(IllegalArgumentException.class, () -> e.invokeAny(List.of(), 1, SECONDS));
        List<Callable<String>> withNull = new ArrayList<>();
        withNull.add(null);
        assertThrows(NullPointerException.class, () -> e.invokeAny(withNull));
    }

    // ---- invokeAll -----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void timedInvokeAllLeavesEachFutureInItsState(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g = new Gate();
        IllegalStateException boom = new IllegalStateException("boom");
        List<Callable<String>> tasks = List.of(() -> "ok", () -> { throw boom; }, g);
        List<Future<String>> fs = e.invokeAll(tasks, 200, MILLISECONDS);
        assertEquals(Future.State.SUCCESS, fs.get(0).state());
        assertEquals(Future.State.FAILED, fs.get(1).state());
        assertEquals(Future.State.CANCELLED, fs.get(2).state());
        assertEquals("ok", fs.get(0).resultNow());
        assertSame(boom, fs.get(1).exceptionNow());
        assertThrows(IllegalStateException.class, () -> fs.get(0).exceptionNow());
        assertThrows(IllegalStateException.class, () -> fs.get(1).resultNow());
        assertThrows(IllegalStateException.class, () -> fs.get(2).resultNow());
        assertThrows(IllegalStateException.class, () -> fs.get(2).exceptionNow());
        assertThrows(CancellationException.class, () -> fs.get(2).get());
        g.assertCancelledOrInterrupted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void timedInvokeAllWithAZeroOrNegativeTimeoutCancelsWhatIsNotDone(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        for (long t : new long[] {0, -1, Long.MIN_VALUE / 2}) {
            Gate g = new Gate();
            List<Future<String>> fs = e.invokeAll(List.of(g), t, NANOSECONDS);
            assertTrue(fs.get(0).isCancelled(), "timeout " + t);
            g.assertCancelledOrInterrupted();
        }
    }

    /** Both the null and the shutdown apply: the JDK submits task by task, so the null wins. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void invokeAllOfManyTasksStartingWithANullAfterShutdownThrowsNullPointerException(Subject subject) {
        ExecutorService e = executorFor(subject);
        e.shutdown();
        List<Callable<String>> tasks = new ArrayList<>();
        tasks.add(null);
        for (int i = 1; i < 1_000; i++) tasks.add(() -> "x");
        assertThrows(NullPointerException.class, () -> e.invokeAll(tasks));
        List<Callable<String>> one = new ArrayList<>();
        one.add(null);
        assertThrows(NullPointerException.class, () -> e.invokeAll(one));
    }

    // ---- futures, submission and termination ---------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void futureStatesOfARunningThenCancelledTask(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g = new Gate();
        Future<String> f = e.submit(g);
        g.awaitStarted();
        assertEquals(Future.State.RUNNING, f.state());
        assertThrows(IllegalStateException.class, f::resultNow);
        assertThrows(IllegalStateException.class, f::exceptionNow);
        assertThrows(TimeoutException.class, () -> f.get(0, NANOSECONDS));
        assertThrows(TimeoutException.class, () -> f.get(-1, SECONDS));
        assertTrue(f.cancel(true));
        g.assertInterrupted();
        assertEquals(Future.State.CANCELLED, f.state());
        assertThrows(IllegalStateException.class, f::resultNow);
        assertThrows(IllegalStateException.class, f::exceptionNow);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    void submissionsAreRejectedAfterShutdownNowAndAfterClose(Subject subject) {
        ExecutorService e = executorFor(subject);
        e.shutdownNow();
        assertThrows(RejectedExecutionException.class, () -> e.submit(() -> "x"));
        ExecutorService c = newExecutor();
        c.close();
        assertThrows(RejectedExecutionException.class, () -> c.execute(() -> { }));
        assertThrows(RejectedExecutionException.class, () -> c.invokeAny(List.of(() -> "x")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unbounded")
    void awaitTerminationWithExtremeTimeouts(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g = new Gate();
        e.submit(g);
        g.awaitStarted();
        e.shutdown();
        assertFalse(e.awaitTermination(-1, NANOSECONDS));
        assertFalse(e.awaitTermination(Long.MIN_VALUE, TimeUnit.DAYS));
        g.release.countDown();
        assertTrue(e.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS));
        assertTrue(e.awaitTermination(Long.MIN_VALUE, TimeUnit.DAYS));
    }

    // ---- saturated bounded executors against the JDK's contract --------------------------------------

    /** shutdownNow during an invokeAll whose second task waits in the queue: the invokeAll returns. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("queue1")
    void saturatedInvokeAllReturnsAfterShutdownNow(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g1 = new Gate(), g2 = new Gate();
        Call<List<Future<String>>> c = async(() -> e.invokeAll(List.of(g1, g2)));
        g1.awaitStarted();
        awaitWaiting(c.thread());
        e.shutdownNow();
        Object out = c.outcome();
        @SuppressWarnings("unchecked") List<Future<String>> fs = (List<Future<String>>) out;
        for (Future<String> f : fs) assertTrue(f.isDone());
    }

    /** shutdownNow during an invokeAny whose second task waits in the queue: every task failed. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("queue1")
    void saturatedInvokeAnyThrowsAfterShutdownNow(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g1 = new Gate(), g2 = new Gate();
        Call<String> c = async(() -> e.invokeAny(List.of(g1, g2)));
        g1.awaitStarted();
        awaitWaiting(c.thread());
        e.shutdownNow();
        assertInstanceOf(ExecutionException.class, c.outcome());
    }

    /** close() interrupted while a submitted task waits in the queue: its future is left incomplete. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("queue1")
    void saturatedCloseInterruptedCompletesEverySubmittedFuture(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g1 = new Gate(), g2 = new Gate();
        Future<String> f1 = e.submit(g1), f2 = e.submit(g2);
        g1.awaitStarted();
        Call<Boolean> c = async(() -> { e.close(); return Thread.interrupted(); });
        awaitWaiting(c.thread());
        c.thread().interrupt();
        assertEquals(Boolean.TRUE, c.outcome());
        assertTrue(f1.isDone());
        assertTrue(f2.isDone(), "the queued task's future after close(): " + f2.state());
    }

    /** A timed invokeAny returns within its timeout while a task holds the only slot. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wait1")
    void saturatedTimedInvokeAnyHonoursItsTimeout(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g = new Gate();
        Call<String> c = async(() -> e.invokeAny(List.<Callable<String>>of(g, () -> "fast"), 200, MILLISECONDS));
        Object out = c.outcome();                               // "fast" (JDK) or a TimeoutException
        assertTrue("fast".equals(out) || out instanceof TimeoutException, String.valueOf(out));
    }

    /**
     * invokeAny returns the first success and cancels the rest: once a task has succeeded, a bounded
     * WAIT executor must not go on starting the remaining tasks one slot at a time, waiting for each
     * loser to finish before it looks at the result (nor time out with a result in hand).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wait1")
    void saturatedInvokeAnyReturnsTheFirstSuccessWithoutRunningTheLosers(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        for (boolean timed : new boolean[] {false, true}) {
            Gate g1 = new Gate(), g2 = new Gate();
            List<Callable<String>> tasks = List.of(() -> "fast", g1, g2);
            Call<String> c = async(() -> timed ? e.invokeAny(tasks, HANG_S - 1, SECONDS) : e.invokeAny(tasks));
            assertEquals("fast", c.outcome(), timed ? "timed" : "untimed");
            g1.assertCancelledOrInterrupted();
            g2.assertCancelledOrInterrupted();
        }
    }

    /** A timed invokeAll returns within its timeout while a task holds the only slot. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wait1")
    void saturatedTimedInvokeAllHonoursItsTimeout(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g = new Gate();
        Call<List<Future<String>>> c = async(() -> e.invokeAll(List.<Callable<String>>of(g, () -> "fast"), 200, MILLISECONDS));
        Object out = c.outcome();
        assertInstanceOf(List.class, out);
    }

    /** invokeAll interrupted while it waits (for a slot, in Bobbin's case) throws InterruptedException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wait1")
    void saturatedInvokeAllInterruptedThrowsInterruptedException(Subject subject) throws Exception {
        ExecutorService e = executorFor(subject);
        Gate g1 = new Gate(), g2 = new Gate();
        Call<List<Future<String>>> c = async(() -> e.invokeAll(List.of(g1, g2)));
        g1.awaitStarted();
        awaitWaiting(c.thread());
        c.thread().interrupt();
        Object out = c.outcome();
        assertInstanceOf(InterruptedException.class, out, String.valueOf(out));
        g1.assertInterrupted();
    }

    /**
     * Bobbin only: a queued invokeAny task whose start a shut-down shared scheduler refuses. Its future
     * fails without the task running, so invokeAny never counts it as a failure.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("queue1Only")
    void saturatedInvokeAnyWhoseQueuedTaskTheSchedulerRefusesThrows(Subject subject) throws Exception {
        use(subject);
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("refusing").parallelism(1).build());
        FiberExecutor e = FiberExecutor.builder().name("q").scheduler(s).maxConcurrency(1)
                .whenSaturated(FiberExecutor.Saturation.QUEUE).build();
        CountDownLatch aStarted = new CountDownLatch(1), aGo = new CountDownLatch(1);
        Callable<String> a = () -> { aStarted.countDown(); aGo.await(PATIENCE, SECONDS); throw new IllegalStateException("a"); };
        Call<String> c = async(() -> e.invokeAny(List.of(a, () -> "b")));
        assertTrue(aStarted.await(PATIENCE, SECONDS));
        awaitWaiting(c.thread());
        s.shutdown();                                           // a runs on; "b" can no longer start
        aGo.countDown();                                        // a fails; its slot goes to "b", whose start is refused
        Object out = c.outcome();
        assertInstanceOf(ExecutionException.class, out, String.valueOf(out));
        e.shutdown();
        assertTrue(e.awaitTermination(PATIENCE, SECONDS));
        s.close();
    }
}
