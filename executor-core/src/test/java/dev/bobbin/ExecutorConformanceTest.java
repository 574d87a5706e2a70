package dev.bobbin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.AbstractCollection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The {@link ExecutorService} contract of a thread-per-task executor, checked in the same way against
 * the JDK's {@link Executors#newVirtualThreadPerTaskExecutor()} and against Bobbin's
 * {@link FiberExecutor} (on a shared scheduler, on its own scheduler, and bounded with a bound the test
 * never reaches). A check that passes for the JDK and fails for Bobbin is a conformance bug in Bobbin;
 * {@link BrokenExecutorsAreCaughtTest} shows that the checks fail for executors that break the contract.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("subjects")
@Timeout(value = 20, unit = SECONDS)
class ExecutorConformanceTest {
    /** How long a check gives something that must not happen. */
    static final long SHORT_MS = 30;

    /**
     * An executor under test, and how many seconds a check waits for something that must happen
     * (short for executors expected to fail).
     */
    record Subject(String name, Supplier<ExecutorService> factory, long patienceSeconds) {
        Subject(String name, Supplier<ExecutorService> factory) {
            this(name, factory, 10);
        }

        @Override public String toString() { return name; }
    }

    private static FiberScheduler shared;

    static List<Subject> subjects() {
        if (shared == null) {
            shared = FiberScheduler.create(SchedulerConfig.builder().name("conformance").parallelism(2).build());
        }
        FiberScheduler s = shared;
        return List.of(
                new Subject("jdk-virtual", Executors::newVirtualThreadPerTaskExecutor),
                new Subject("bobbin-shared", () -> FiberExecutor.create(s)),
                new Subject("bobbin-own", () -> FiberExecutor.builder().name("own")
                        .ownScheduler(SchedulerConfig.builder().name("own").parallelism(2).build()).build()),
                new Subject("bobbin-bounded", () -> FiberExecutor.builder().name("bounded").scheduler(s)
                        .maxConcurrency(10_000).whenSaturated(FiberExecutor.Saturation.QUEUE).build()));
    }

    @AfterAll
    static void closeShared() throws InterruptedException {
        FiberScheduler s = shared;
        shared = null;
        if (s == null) return;
        s.shutdown();
        assertTrue(s.awaitTermination(java.time.Duration.ofSeconds(10)), () -> "shared scheduler did not terminate: " + s.stats());
    }

    private final Subject subject;
    /** How long a check waits for something that must happen, in seconds. */
    private final long patience;

    ExecutorConformanceTest(Subject subject) {
        this.subject = subject;
        this.patience = subject.patienceSeconds();
    }

    /** Every fiber a test started on the shared scheduler has finished by the end of the test. */
    @AfterEach
    void noFiberOutlivesItsTest() throws InterruptedException {
        if (shared == null) return;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(patience);
        long live;
        while ((live = shared.stats().liveFibers()) != 0 && System.nanoTime() < deadline) Thread.sleep(1);
        assertEquals(0, live, "live fibers left on the shared scheduler by " + subject);
    }

    private ExecutorService newExecutor() {
        return subject.factory().get();
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** A task that signals it started, then waits until interrupted (or for patience seconds). */
    final class Blocker implements Callable<String>, Runnable {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch interrupted = new CountDownLatch(1);
        final CountDownLatch finished = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String call() {
            started.countDown();
            try {
                if (!release.await(patience, SECONDS)) return "never released";   // checks that expect more fail on it
                return "released";
            } catch (InterruptedException e) {
                interrupted.countDown();
                return "interrupted";
            } finally {
                finished.countDown();
            }
        }

        @Override
        public void run() { call(); }

        void awaitStarted() throws InterruptedException {
            assertTrue(started.await(patience, SECONDS), "task did not start");
        }

        void assertInterrupted() throws InterruptedException {
            assertTrue(interrupted.await(patience, SECONDS), "task was not interrupted");
        }

        /** The task never started (it was cancelled first) or was interrupted. */
        void assertCancelledOrInterrupted() throws InterruptedException {
            if (started.getCount() == 0 || started.await(SHORT_MS, MILLISECONDS)) assertInterrupted();
        }

        boolean wasInterrupted() { return interrupted.getCount() == 0; }
    }

    /** A collection whose iterator waits for {@code gate} before handing out the element at {@code at}. */
    <T> Collection<T> gated(List<T> elements, int at, CountDownLatch gate) {
        return new AbstractCollection<>() {
            @Override public int size() { return elements.size(); }
            @Override public Iterator<T> iterator() {
                return new Iterator<>() {
                    int i;
                    @Override public boolean hasNext() { return i < elements.size(); }
                    @Override public T next() {
                        if (i >= elements.size()) throw new NoSuchElementException();
                        if (i == at) {
                            try {
                                assertTrue(gate.await(patience, SECONDS));
                            } catch (InterruptedException e) {
                                throw new AssertionError(e);
                            }
                        }
                        return elements.get(i++);
                    }
                };
            }
        };
    }

    static Callable<String> failing(String message) {
        return () -> { throw new IllegalStateException(message); };
    }

    // ---- execute and submit ------------------------------------------------------------------------

    @Test
    void executeRunsEachTaskOnANewVirtualThread() throws Exception {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        CountDownLatch done = new CountDownLatch(3);
        try (ExecutorService e = newExecutor()) {
            for (int i = 0; i < 3; i++) {
                e.execute(() -> {
                    threads.add(Thread.currentThread());
                    done.countDown();
                });
            }
            assertTrue(done.await(patience, SECONDS));
        }
        assertEquals(3, threads.size(), "one thread per task");
        for (Thread t : threads) {
            assertTrue(t.isVirtual(), t + " is virtual");
            assertNotSame(Thread.currentThread(), t);
        }
    }

    @Test
    void tasksRunConcurrentlyWithoutABound() throws Exception {
        int n = 50;
        CyclicBarrier all = new CyclicBarrier(n);
        try (ExecutorService e = newExecutor()) {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) fs.add(e.submit(() -> all.await(patience, SECONDS)));
            for (Future<Integer> f : fs) f.get(patience, SECONDS);  // BrokenBarrier/Timeout unless all ran at once
        }
    }

    @Test
    void submitReturnsTheCallablesResult() throws Exception {
        try (ExecutorService e = newExecutor()) {
            assertEquals("x", e.submit(() -> "x").get(patience, SECONDS));
            AtomicBoolean ran = new AtomicBoolean();
            assertNull(e.submit(() -> ran.set(true)).get(patience, SECONDS));
            assertTrue(ran.get());
            assertEquals(42, e.submit(() -> { }, 42).get(patience, SECONDS));
        }
    }

    @Test
    void submitReportsTheTasksExceptionAsItsCause() throws Exception {
        IllegalStateException boom = new IllegalStateException("boom");
        try (ExecutorService e = newExecutor()) {
            Future<Object> f = e.submit(() -> { throw boom; });
            ExecutionException ee = assertThrows(ExecutionException.class, () -> f.get(patience, SECONDS));
            assertSame(boom, ee.getCause());
            assertEquals(Future.State.FAILED, f.state());
            assertSame(boom, f.exceptionNow());
        }
    }

    @Test
    void nullTasksThrowNullPointerException() {
        try (ExecutorService e = newExecutor()) {
            assertThrows(NullPointerException.class, () -> e.execute(null));
            assertThrows(NullPointerException.class, () -> e.submit((Runnable) null));
            assertThrows(NullPointerException.class, () -> e.submit((Callable<?>) null));
            assertThrows(NullPointerException.class, () -> e.submit(null, "r"));
        }
    }

    @Test
    void executedTaskExceptionsReachTheDefaultUncaughtExceptionHandler() throws Exception {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        AtomicReference<Throwable> seen = new AtomicReference<>();
        AtomicReference<Thread> on = new AtomicReference<>();
        CountDownLatch reported = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("boom");
        Thread.setDefaultUncaughtExceptionHandler((t, x) -> {
            on.set(t);
            seen.set(x);
            reported.countDown();
        });
        try (ExecutorService e = newExecutor()) {
            AtomicReference<Thread> runner = new AtomicReference<>();
            e.execute(() -> {
                runner.set(Thread.currentThread());
                throw boom;
            });
            assertTrue(reported.await(patience, SECONDS));
            assertSame(boom, seen.get());
            assertSame(runner.get(), on.get());
            // a submitted task's exception goes to its future, never to the handler
            e.submit(() -> { throw new IllegalArgumentException(); });
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
        assertSame(boom, seen.get());
    }

    @Test
    void eachTaskStartsWithFreshThreadStateButInheritsInheritableThreadLocals() throws Exception {
        ThreadLocal<String> local = new ThreadLocal<>();
        InheritableThreadLocal<String> inherited = new InheritableThreadLocal<>();
        inherited.set("tenant");
        try (ExecutorService e = newExecutor()) {
            e.submit(() -> local.set("leak")).get(patience, SECONDS);
            assertNull(e.submit(local::get).get(patience, SECONDS));
            assertEquals("tenant", e.submit(inherited::get).get(patience, SECONDS));
            Thread.currentThread().interrupt();                   // the submitter's status is not the task's
            Future<Boolean> f = e.submit(() -> Thread.currentThread().isInterrupted());
            assertTrue(Thread.interrupted());
            assertFalse(f.get(patience, SECONDS));
        } finally {
            inherited.remove();
        }
    }

    // ---- cancellation ------------------------------------------------------------------------------

    @Test
    void cancelTrueInterruptsARunningTask() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            Future<String> f = e.submit((Callable<String>) b);
            b.awaitStarted();
            assertTrue(f.cancel(true));
            b.assertInterrupted();
            assertTrue(f.isCancelled());
            assertTrue(f.isDone());
            assertThrows(CancellationException.class, f::get);
            assertFalse(f.cancel(true), "second cancel");
        }
    }

    @Test
    void cancelFalseDoesNotInterrupt() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            Future<String> f = e.submit((Callable<String>) b);
            b.awaitStarted();
            assertTrue(f.cancel(false));
            assertFalse(b.interrupted.await(SHORT_MS, MILLISECONDS));
            b.release.countDown();
            assertTrue(b.finished.await(patience, SECONDS));
            assertFalse(b.wasInterrupted());
            assertThrows(CancellationException.class, f::get);
        }
    }

    // ---- invokeAll ---------------------------------------------------------------------------------

    @Test
    void invokeAllReturnsDoneFuturesInTaskOrder() throws Exception {
        IllegalStateException boom = new IllegalStateException();
        try (ExecutorService e = newExecutor()) {
            List<Callable<String>> tasks = List.of(
                    () -> { Thread.sleep(20); return "a"; }, () -> "b", () -> { throw boom; }, () -> null);
            List<Future<String>> fs = e.invokeAll(tasks);
            assertEquals(4, fs.size());
            for (Future<String> f : fs) assertTrue(f.isDone());
            assertEquals("a", fs.get(0).resultNow());
            assertEquals("b", fs.get(1).resultNow());
            assertSame(boom, fs.get(2).exceptionNow());
            assertNull(fs.get(3).resultNow());
            assertEquals(List.of(), e.invokeAll(List.of()));
        }
    }

    @Test
    void invokeAllRejectsNulls() throws Exception {
        try (ExecutorService e = newExecutor()) {
            assertThrows(NullPointerException.class, () -> e.invokeAll(null));
            assertThrows(NullPointerException.class, () -> e.invokeAll(null, 1, SECONDS));
            assertThrows(NullPointerException.class, () -> e.invokeAll(List.of(() -> "x"), 1, null));
            List<Callable<String>> withNull = new ArrayList<>();
            withNull.add(() -> "x");
            withNull.add(null);
            assertThrows(NullPointerException.class, () -> e.invokeAll(withNull));
            assertThrows(NullPointerException.class, () -> e.invokeAll(withNull, 1, SECONDS));
        }
    }

    @Test
    void invokeAllCancelsStartedTasksWhenItMeetsANull() throws Exception {
        Blocker b = new Blocker();
        List<Callable<String>> tasks = new ArrayList<>();
        tasks.add(b);
        tasks.add(null);
        try (ExecutorService e = newExecutor()) {
            assertThrows(NullPointerException.class, () -> e.invokeAll(gated(tasks, 1, b.started)));
            b.assertInterrupted();
        }
    }

    @Test
    void timedInvokeAllCancelsWhatIsLeftAtTheTimeout() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            List<Future<String>> fs = e.invokeAll(List.<Callable<String>>of(() -> "fast", b), SHORT_MS, MILLISECONDS);
            assertEquals(2, fs.size());
            assertEquals("fast", fs.get(0).resultNow());
            assertTrue(fs.get(1).isCancelled());
            b.assertCancelledOrInterrupted();
        }
    }

    @Test
    void timedInvokeAllReturnsResultsWithinTheTimeout() throws Exception {
        try (ExecutorService e = newExecutor()) {
            List<Future<String>> fs = e.invokeAll(List.of(() -> "a", () -> "b"), patience, SECONDS);
            assertEquals("a", fs.get(0).resultNow());
            assertEquals("b", fs.get(1).resultNow());
        }
    }

    @Test
    void invokeAllOnAnInterruptedCallerThrowsAndCancels() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> e.invokeAll(List.of(b)));
            assertFalse(Thread.currentThread().isInterrupted(), "status cleared by the exception");
            b.assertCancelledOrInterrupted();
        }
    }

    /** Large enough for any batching an executor may do inside invokeAll (Bobbin fans out from 32). */
    static final int MANY = 1_000;

    @Test
    void invokeAllOfManyTasksRunsEachOnItsOwnThreadInheritingTheCaller() throws Exception {
        AtomicInteger copies = new AtomicInteger();
        InheritableThreadLocal<String> inherited = new InheritableThreadLocal<>() {
            @Override protected String childValue(String parent) {
                copies.incrementAndGet();
                return parent + "+child";
            }
        };
        inherited.set("caller");
        try (ExecutorService e = newExecutor()) {
            List<Callable<String>> tasks = new ArrayList<>();
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < MANY; i++) {
                int n = i;
                tasks.add(() -> {
                    threads.add(Thread.currentThread());
                    return n + ":" + inherited.get();
                });
            }
            List<Future<String>> fs = e.invokeAll(tasks);
            assertEquals(MANY, fs.size());
            for (int i = 0; i < MANY; i++) assertEquals(i + ":caller+child", fs.get(i).resultNow());
            assertEquals(MANY, threads.size(), "one thread per task");
            assertEquals(MANY, copies.get(), "each task inherits from the caller once");
            List<Future<String>> timed = e.invokeAll(tasks, patience, SECONDS);
            for (int i = 0; i < MANY; i++) assertEquals(i + ":caller+child", timed.get(i).resultNow());
        } finally {
            inherited.remove();
        }
    }

    @Test
    void invokeAllOfManyTasksMeetingANullThrowsAndLeavesNothingRunning() throws Exception {
        AtomicInteger finished = new AtomicInteger();
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < MANY; i++) tasks.add(i == MANY / 2 ? null : () -> {
            Thread.sleep(1);
            finished.incrementAndGet();
            return "x";
        });
        for (boolean timed : new boolean[] {false, true}) {
            finished.set(0);
            try (ExecutorService e = newExecutor()) {
                assertThrows(NullPointerException.class, () -> {
                    if (timed) e.invokeAll(tasks, patience, SECONDS);
                    else e.invokeAll(tasks);
                });
            }   // close() waits for every task that did start
            assertTrue(finished.get() <= MANY / 2, "only tasks before the null may run, ran " + finished);
        }
    }

    @Test
    void timedInvokeAllOfManyTasksCancelsWhatIsLeftAtTheTimeout() throws Exception {
        Blocker b = new Blocker();
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < MANY; i++) tasks.add(i == MANY / 2 ? b : () -> "fast");
        try (ExecutorService e = newExecutor()) {
            List<Future<String>> fs = e.invokeAll(tasks, 200, MILLISECONDS);
            assertEquals(MANY, fs.size());
            for (Future<String> f : fs) assertTrue(f.isDone());
            for (int i = 0; i < MANY / 2; i++) {
                assertTrue(fs.get(i).state() == Future.State.SUCCESS || fs.get(i).isCancelled(), "task " + i);
            }
            assertTrue(fs.get(MANY / 2).isCancelled());
            b.assertCancelledOrInterrupted();
        }
    }

    @Test
    void invokeAllOfManyTasksOnAnInterruptedCallerThrowsAndCancels() throws Exception {
        Blocker b = new Blocker();
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < MANY; i++) tasks.add(i == 0 ? b : () -> "fast");
        try (ExecutorService e = newExecutor()) {
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> e.invokeAll(tasks));
            assertFalse(Thread.currentThread().isInterrupted(), "status cleared by the exception");
            b.assertCancelledOrInterrupted();
        }
    }

    @Test
    void invokeAllOfManyTasksRacingAShutdownEitherCompletesOrRejects() throws Exception {
        for (int round = 0; round < 5; round++) {
            ExecutorService e = newExecutor();
            List<Callable<String>> tasks = new ArrayList<>();
            for (int i = 0; i < MANY; i++) {
                tasks.add(i == 10 ? () -> { e.shutdown(); return "shut"; } : () -> "x");
            }
            try {
                List<Future<String>> fs = e.invokeAll(tasks);
                for (Future<String> f : fs) assertTrue(f.isDone(), "returned with every future done");
            } catch (RejectedExecutionException expected) {
                // the shutdown came before every task was submitted
            }
            assertTrue(e.isShutdown());
            assertTrue(e.awaitTermination(patience, SECONDS), "terminates after the race");
            e.close();
        }
    }

    /**
     * shutdownNow while a platform thread waits in invokeAll of many tasks interrupts every task handed
     * over, whether it had begun to run or not. Two tasks submitted first hold the carriers by spinning
     * until the shutdownNow, so invokeAll's tasks have not run yet (on Bobbin most have not even started
     * unless a spare carrier stepped in: the fibers that start them are queued behind the spinners;
     * {@code FiberExecutorTest} has the variant without spares); every task then waits for a latch nobody
     * opens.
     */
    @Test
    void shutdownNowDuringAnInvokeAllOfManyTasksInterruptsEveryTask() throws Exception {
        ExecutorService e = newExecutor();
        InvokeAllAgainstShutdownNow run = new InvokeAllAgainstShutdownNow(e, 2, MANY, patience);
        run.handOverThenShutdownNow();
        for (String r : run.results()) assertEquals("interrupted", r);
        assertTrue(e.awaitTermination(patience, SECONDS));
        e.close();
    }

    /**
     * A platform thread calls invokeAll of {@code many} tasks on {@code executor} while {@code holders}
     * tasks submitted before it spin on the carriers; {@link #handOverThenShutdownNow} calls shutdownNow
     * once the caller waits. Each task (holders too) then waits for a latch nobody opens and reports
     * whether it was interrupted ("interrupted") or not ("not interrupted", after {@code patience} seconds).
     */
    static final class InvokeAllAgainstShutdownNow {
        private final ExecutorService executor;
        private final int holders;
        private final long patience;
        private final AtomicBoolean release = new AtomicBoolean();
        private final CountDownLatch never = new CountDownLatch(1);
        private final List<Callable<String>> tasks = new ArrayList<>();
        private final List<Future<String>> holderFutures = new ArrayList<>();
        private final CompletableFuture<List<Future<String>>> result = new CompletableFuture<>();

        InvokeAllAgainstShutdownNow(ExecutorService executor, int holders, int many, long patience) {
            this.executor = executor;
            this.holders = holders;
            this.patience = patience;
            for (int i = 0; i < many; i++) tasks.add(this::awaitNever);
        }

        private String awaitNever() {
            try {
                return never.await(patience, SECONDS) ? "released" : "not interrupted";
            } catch (InterruptedException e) {
                return "interrupted";
            }
        }

        /** Holds the carriers, hands the tasks over from a platform thread, then calls shutdownNow. */
        void handOverThenShutdownNow() throws Exception {
            try {
                for (int i = 0; i < holders; i++) {
                    CountDownLatch holding = new CountDownLatch(1);
                    holderFutures.add(executor.submit(() -> {
                        holding.countDown();
                        while (!release.get()) Thread.onSpinWait();
                        return awaitNever();
                    }));
                    assertTrue(holding.await(patience, SECONDS), "holder " + i + " runs");
                }
                Thread caller = Thread.ofPlatform().start(() -> {
                    try {
                        result.complete(executor.invokeAll(tasks));
                    } catch (Throwable t) {
                        result.completeExceptionally(t);
                    }
                });
                // waiting for a future (its blocker), not parked on a lock while handing tasks over
                long deadline = System.nanoTime() + SECONDS.toNanos(patience);
                while (!waitsForAFuture(caller) && System.nanoTime() < deadline) Thread.sleep(1);
                assertTrue(waitsForAFuture(caller), "the caller handed every task over and waits");
                executor.shutdownNow();
            } finally {
                release.set(true);
            }
        }

        /** Whether {@code t} parks waiting for a future: an invokeAll caller that handed every task over. */
        static boolean waitsForAFuture(Thread t) {
            return t.getState() == Thread.State.WAITING && LockSupport.getBlocker(t) instanceof Future<?>;
        }

        /** What each task reported: the holders' first, then invokeAll's in order. */
        List<String> results() throws Exception {
            List<String> out = new ArrayList<>();
            for (Future<String> f : holderFutures) out.add(f.get(2 * patience, SECONDS));
            List<Future<String>> fs = result.get(2 * patience, SECONDS);
            assertEquals(tasks.size(), fs.size());
            for (Future<String> f : fs) out.add(f.resultNow());
            return out;
        }
    }

    // ---- invokeAny ---------------------------------------------------------------------------------

    @Test
    void invokeAnyReturnsTheFirstSuccessAndInterruptsTheRest() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            List<Callable<String>> tasks = List.of(b, failing("no"), () -> { b.awaitStarted(); return "ok"; });
            assertEquals("ok", e.invokeAny(tasks));
            b.assertInterrupted();
        }
    }

    @Test
    void invokeAnyMayReturnNull() throws Exception {
        try (ExecutorService e = newExecutor()) {
            assertNull(e.invokeAny(List.of(() -> null)));
            assertNull(e.invokeAny(List.of(() -> null), patience, SECONDS));
        }
    }

    @Test
    void invokeAnyThrowsExecutionExceptionWhenAllFail() throws Exception {
        try (ExecutorService e = newExecutor()) {
            ExecutionException ee = assertThrows(ExecutionException.class,
                    () -> e.invokeAny(List.of(failing("a"), failing("b"))));
            assertInstanceOf(IllegalStateException.class, ee.getCause());
            assertTrue(Set.of("a", "b").contains(ee.getCause().getMessage()));
            assertThrows(ExecutionException.class, () -> e.invokeAny(List.of(failing("c")), patience, SECONDS));
        }
    }

    @Test
    void invokeAnyRejectsNullsAndEmptyCollections() throws Exception {
        try (ExecutorService e = newExecutor()) {
            assertThrows(NullPointerException.class, () -> e.invokeAny(null));
            assertThrows(NullPointerException.class, () -> e.invokeAny(null, 1, SECONDS));
            assertThrows(NullPointerException.class, () -> e.invokeAny(List.of(() -> "x"), 1, null));
            assertThrows(IllegalArgumentException.class, () -> e.invokeAny(List.of()));
            assertThrows(IllegalArgumentException.class, () -> e.invokeAny(List.of(), 1, SECONDS));
            List<Callable<String>> withNull = new ArrayList<>();
            withNull.add(null);
            assertThrows(NullPointerException.class, () -> e.invokeAny(withNull));
            assertThrows(NullPointerException.class, () -> e.invokeAny(withNull, 1, SECONDS));
        }
    }

    @Test
    void invokeAnyInterruptsStartedTasksWhenItMeetsANull() throws Exception {
        Blocker b = new Blocker();
        List<Callable<String>> tasks = new ArrayList<>();
        tasks.add(b);
        tasks.add(null);
        try (ExecutorService e = newExecutor()) {
            assertThrows(NullPointerException.class, () -> e.invokeAny(gated(tasks, 1, b.started)));
            b.assertInterrupted();
        }
    }

    @Test
    void timedInvokeAnyThrowsTimeoutExceptionAndInterruptsTheRest() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            assertThrows(TimeoutException.class,
                    () -> e.invokeAny(gated(List.of(b, b), 1, b.started), SHORT_MS, MILLISECONDS));
            b.assertInterrupted();
        }
    }

    @Test
    void invokeAnyOnAnInterruptedCallerThrowsAndInterruptsTheTasks() throws Exception {
        Blocker b = new Blocker();
        try (ExecutorService e = newExecutor()) {
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> e.invokeAny(List.of(b)));
            assertFalse(Thread.currentThread().isInterrupted());
            b.assertCancelledOrInterrupted();
        }
    }

    // ---- shutdown ----------------------------------------------------------------------------------

    @Test
    void everySubmissionIsRejectedAfterShutdown() throws Exception {
        ExecutorService e = newExecutor();
        e.shutdown();
        assertTrue(e.isShutdown());
        assertThrows(RejectedExecutionException.class, () -> e.execute(() -> { }));
        assertThrows(RejectedExecutionException.class, () -> e.submit(() -> { }));
        assertThrows(RejectedExecutionException.class, () -> e.submit(() -> "x"));
        assertThrows(RejectedExecutionException.class, () -> e.submit(() -> { }, "x"));
        assertThrows(RejectedExecutionException.class, () -> e.invokeAll(List.of(() -> "x")));
        assertThrows(RejectedExecutionException.class, () -> e.invokeAll(List.of(() -> "x"), 1, SECONDS));
        assertThrows(RejectedExecutionException.class, () -> e.invokeAny(List.of(() -> "x")));
        assertThrows(RejectedExecutionException.class, () -> e.invokeAny(List.of(() -> "x"), 1, SECONDS));
        assertEquals(List.of(), e.invokeAll(List.of()));
        // null is checked before the state
        assertThrows(NullPointerException.class, () -> e.execute(null));
        e.close();
    }

    @Test
    void idleExecutorTerminatesAtShutdown() throws Exception {
        ExecutorService e = newExecutor();
        assertFalse(e.isShutdown());
        assertFalse(e.isTerminated());
        assertFalse(e.awaitTermination(1, MILLISECONDS));
        e.shutdown();
        assertTrue(e.awaitTermination(patience, SECONDS));
        assertTrue(e.isTerminated());
        e.shutdown();                                             // idempotent
        assertEquals(List.of(), e.shutdownNow());
        assertTrue(e.isTerminated());
        e.close();
    }

    @Test
    void shutdownLetsRunningTasksFinish() throws Exception {
        Blocker b = new Blocker();
        ExecutorService e = newExecutor();
        Future<String> f = e.submit((Callable<String>) b);
        b.awaitStarted();
        e.shutdown();
        assertTrue(e.isShutdown());
        assertFalse(e.isTerminated());
        assertFalse(e.awaitTermination(SHORT_MS, MILLISECONDS));
        b.release.countDown();
        assertTrue(e.awaitTermination(patience, SECONDS));
        assertTrue(e.isTerminated());
        assertEquals("released", f.resultNow());
        assertFalse(b.wasInterrupted());
        e.close();
    }

    @Test
    void shutdownNowInterruptsRunningTasksAndReturnsNoneForThreadPerTask() throws Exception {
        Blocker b1 = new Blocker(), b2 = new Blocker();
        ExecutorService e = newExecutor();
        Future<String> f = e.submit((Callable<String>) b1);
        e.execute(b2);
        b1.awaitStarted();
        b2.awaitStarted();
        assertEquals(List.of(), e.shutdownNow());
        b1.assertInterrupted();
        b2.assertInterrupted();
        assertTrue(e.awaitTermination(patience, SECONDS));
        assertEquals("interrupted", f.resultNow());
        assertThrows(RejectedExecutionException.class, () -> e.execute(() -> { }));
        e.close();
    }

    @Test
    void awaitTerminationValidatesAndHonoursInterrupts() throws Exception {
        Blocker b = new Blocker();
        ExecutorService e = newExecutor();
        e.execute(b);
        assertThrows(NullPointerException.class, () -> e.awaitTermination(1, null));
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> e.awaitTermination(patience, SECONDS));
        assertFalse(Thread.currentThread().isInterrupted());
        b.release.countDown();
        e.close();
        assertTrue(e.awaitTermination(0, SECONDS));
        assertThrows(NullPointerException.class, () -> e.awaitTermination(1, null));
    }

    /** Zero and negative timeouts (down to the saturated Long.MIN_VALUE nanoseconds) answer at once. */
    @Test
    void awaitTerminationWithNoTimeLeftAnswersAtOnce() throws Exception {
        Blocker b = new Blocker();
        ExecutorService e = newExecutor();
        e.execute(b);
        b.awaitStarted();
        e.shutdown();
        assertFalse(e.awaitTermination(0, SECONDS));
        assertFalse(e.awaitTermination(-1, MILLISECONDS));
        assertFalse(e.awaitTermination(Long.MIN_VALUE, TimeUnit.NANOSECONDS));
        assertFalse(e.awaitTermination(-200_000, TimeUnit.DAYS));   // saturates to Long.MIN_VALUE nanoseconds
        b.release.countDown();
        assertTrue(e.awaitTermination(patience, SECONDS));
        assertTrue(e.awaitTermination(Long.MIN_VALUE, TimeUnit.NANOSECONDS));
    }

    // ---- close -------------------------------------------------------------------------------------

    @Test
    void closeWaitsForRunningTasksAndIsIdempotent() throws Exception {
        AtomicBoolean finished = new AtomicBoolean();
        ExecutorService e = newExecutor();
        CountDownLatch started = new CountDownLatch(1);
        e.execute(() -> {
            started.countDown();
            try {
                Thread.sleep(SHORT_MS);
            } catch (InterruptedException x) {
                return;
            }
            finished.set(true);
        });
        assertTrue(started.await(patience, SECONDS));
        e.close();
        assertTrue(finished.get(), "close returned before the task finished");
        assertTrue(e.isTerminated());
        e.close();
        assertTrue(e.isTerminated());
        assertFalse(Thread.currentThread().isInterrupted());
        assertThrows(RejectedExecutionException.class, () -> e.execute(() -> { }));
    }

    @Test
    void closeOnAnInterruptedCallerInterruptsTasksWaitsAndKeepsTheStatus() throws Exception {
        Blocker b = new Blocker();
        ExecutorService e = newExecutor();
        e.execute(b);
        b.awaitStarted();
        Thread.currentThread().interrupt();
        e.close();
        assertTrue(Thread.interrupted(), "close must return with the interrupt status set");
        assertTrue(e.isTerminated());
        assertTrue(b.wasInterrupted());
    }

    @Test
    void closeInterruptedWhileWaitingInterruptsTasksWaitsAndKeepsTheStatus() throws Exception {
        Blocker b = new Blocker();
        ExecutorService e = newExecutor();
        e.execute(b);
        b.awaitStarted();
        Thread closer = Thread.currentThread();
        Thread interrupter = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(SHORT_MS);
            } catch (InterruptedException ignored) {
                return;
            }
            closer.interrupt();
        });
        e.close();
        boolean interrupted = Thread.interrupted();              // before join(), which would throw
        interrupter.join();
        assertTrue(interrupted, "close must return with the interrupt status set");
        assertTrue(e.isTerminated());
        assertTrue(b.wasInterrupted());
    }

    // ---- stress ------------------------------------------------------------------------------------

    /**
     * The last task's exit racing the shutdown that follows its result at once (close() right after
     * get(), the pattern of an executor per request): every round must terminate. In Bobbin's executor the
     * two are a Dekker pair (ExecutorState, JobCountJcstress).
     */
    @Test
    void shutdownRightAfterTheLastResultTerminates() throws Exception {
        int rounds = subject.name().equals("bobbin-own") ? 200 : 3_000;   // its own: a scheduler per round
        try (CapturedLogs logs = new CapturedLogs("dev.bobbin")) {
            for (int round = 0; round < rounds; round++) {
                ExecutorService e = newExecutor();
                int x = round;
                assertEquals(x, e.submit(() -> x).get(patience, SECONDS));
                e.shutdown();
                assertTrue(e.awaitTermination(patience, SECONDS), "round " + round + ": terminated");
                assertTrue(e.isTerminated());
            }
            // Bobbin's waiters would take a termination the protocol missed, and say so: none may be missed
            assertEquals(List.of(), logs.warnings().stream().map(CapturedLogs::describe).toList());
        }
    }

    @Test
    void noTaskIsLostWhenSubmissionsRaceShutdown() throws Exception {
        try (CapturedLogs logs = new CapturedLogs("dev.bobbin")) {
            submissionsRaceShutdown();
            // Bobbin's waiters would take a termination the protocol missed, and say so: none may be missed
            assertEquals(List.of(), logs.warnings().stream().map(CapturedLogs::describe).toList());
        }
    }

    private void submissionsRaceShutdown() throws Exception {
        for (int round = 0; round < 20; round++) {
            ExecutorService e = newExecutor();
            AtomicInteger accepted = new AtomicInteger(), ran = new AtomicInteger();
            int submitters = 3;
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int s = 0; s < submitters; s++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < 2_000; i++) {
                            e.execute(ran::incrementAndGet);
                            accepted.incrementAndGet();
                        }
                    } catch (RejectedExecutionException | InterruptedException expected) {
                        // shut down
                    }
                }));
            }
            go.countDown();
            Thread.sleep(round % 3);
            e.shutdown();
            for (Thread t : threads) t.join();
            assertTrue(e.awaitTermination(patience, SECONDS), "terminated");
            assertEquals(accepted.get(), ran.get(), "round " + round + ": every accepted task ran, once");
            e.close();
        }
    }
}
