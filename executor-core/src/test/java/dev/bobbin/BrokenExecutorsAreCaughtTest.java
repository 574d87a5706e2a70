package dev.bobbin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conformance checks are able to fail: each row is a {@link FiberExecutor} with one rule of the
 * contract deliberately broken, and the check for that rule must reject it.
 */
@Timeout(value = 20, unit = SECONDS)
class BrokenExecutorsAreCaughtTest {
    private static FiberScheduler scheduler;

    @BeforeAll
    static void start() {
        scheduler = FiberScheduler.create(SchedulerConfig.builder().name("broken").parallelism(2).build());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        scheduler.shutdown();
        assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)));
    }

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();                          // a failed check may leave it set
    }

    interface Check {
        void run(ExecutorConformanceTest test) throws Exception;
    }

    record Row(String name, Supplier<ExecutorService> broken, Check check) {
        @Override public String toString() { return name; }
    }

    static List<Row> rows() {
        return List.of(
                new Row("shutdownNow without interrupting", () -> new Forwarding() {
                    @Override public List<Runnable> shutdownNow() { shutdown(); return List.of(); }
                }, ExecutorConformanceTest::shutdownNowInterruptsRunningTasksAndReturnsNoneForThreadPerTask),
                new Row("execute accepting null", () -> new Forwarding() {
                    @Override public void execute(Runnable task) { if (task != null) super.execute(task); }
                }, ExecutorConformanceTest::nullTasksThrowNullPointerException),
                new Row("execute losing tasks after shutdown", () -> new Forwarding() {
                    @Override public void execute(Runnable task) {
                        try {
                            super.execute(task);
                        } catch (RejectedExecutionException lost) {
                            // accepted, never run
                        }
                    }
                }, ExecutorConformanceTest::noTaskIsLostWhenSubmissionsRaceShutdown),
                new Row("timed invokeAll not cancelling", () -> new Forwarding() {
                    @Override public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long t, TimeUnit u) {
                        List<Future<T>> fs = new ArrayList<>();
                        for (Callable<T> c : tasks) fs.add(submit(c));
                        long deadline = System.nanoTime() + u.toNanos(t);
                        for (Future<T> f : fs) {
                            try {
                                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                            } catch (Exception ignored) {
                                // left running
                            }
                        }
                        return fs;
                    }
                }, ExecutorConformanceTest::timedInvokeAllCancelsWhatIsLeftAtTheTimeout),
                new Row("invokeAny leaving the rest running", () -> new Forwarding() {
                    @Override public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws ExecutionException, InterruptedException {
                        List<Future<T>> fs = new ArrayList<>();
                        for (Callable<T> c : tasks) fs.add(submit(c));
                        ExecutionException last = null;
                        for (;;) {
                            int failed = 0;
                            for (Future<T> f : fs) {
                                if (f.state() == Future.State.SUCCESS) return f.resultNow();
                                if (f.state() == Future.State.FAILED) {
                                    failed++;
                                    last = new ExecutionException(f.exceptionNow());
                                }
                            }
                            if (failed == fs.size()) throw last;
                            Thread.sleep(1);
                        }
                    }
                }, ExecutorConformanceTest::invokeAnyReturnsTheFirstSuccessAndInterruptsTheRest),
                new Row("timed invokeAny without TimeoutException", () -> new Forwarding() {
                    @Override public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long t, TimeUnit u)
                            throws InterruptedException, ExecutionException {
                        try {
                            return super.invokeAny(tasks, t, u);
                        } catch (TimeoutException e) {
                            return null;
                        }
                    }
                }, ExecutorConformanceTest::timedInvokeAnyThrowsTimeoutExceptionAndInterruptsTheRest),
                new Row("close dropping the interrupt", () -> new Forwarding() {
                    @Override public void close() {
                        super.close();
                        Thread.interrupted();
                    }
                }, ExecutorConformanceTest::closeOnAnInterruptedCallerInterruptsTasksWaitsAndKeepsTheStatus),
                new Row("close not waiting", () -> new Forwarding() {
                    @Override public void close() { shutdown(); }
                }, ExecutorConformanceTest::closeWaitsForRunningTasksAndIsIdempotent),
                new Row("shutdown missing the termination once the last task ended", () -> new Forwarding() {
                    final AtomicInteger running = new AtomicInteger();
                    @Override public <T> Future<T> submit(Callable<T> task) {
                        running.incrementAndGet();
                        return super.submit(() -> {
                            try {
                                return task.call();
                            } finally {
                                running.decrementAndGet();
                            }
                        });
                    }
                    @Override public void shutdown() {
                        if (running.get() > 0) super.shutdown();    // else lost, as a missed last exit would be
                    }
                }, ExecutorConformanceTest::shutdownRightAfterTheLastResultTerminates),
                new Row("shutdown interrupting running tasks", () -> new Forwarding() {
                    @Override public void shutdown() { super.shutdownNow(); }
                }, ExecutorConformanceTest::shutdownLetsRunningTasksFinish),
                new Row("tasks sharing a thread", () -> {
                    FiberExecutor one = FiberExecutor.builder().name("one").scheduler(scheduler).maxConcurrency(1)
                            .whenSaturated(FiberExecutor.Saturation.QUEUE).build();
                    return new Forwarding(one);
                }, ExecutorConformanceTest::tasksRunConcurrentlyWithoutABound));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void theCheckForTheBrokenRuleFails(Row row) {
        ExecutorConformanceTest test = new ExecutorConformanceTest(
                new ExecutorConformanceTest.Subject(row.name(), row.broken(), 1));
        assertThrows(Throwable.class, () -> row.check().run(test), row.name() + " passed the conformance check");
    }

    /** A FiberExecutor behind a plain ExecutorService, so one method can be broken at a time. */
    static class Forwarding implements ExecutorService {
        private final FiberExecutor delegate;

        Forwarding() { this(FiberExecutor.create(scheduler)); }

        Forwarding(FiberExecutor delegate) { this.delegate = delegate; }

        @Override public void execute(Runnable task) { delegate.execute(task); }
        @Override public void shutdown() { delegate.shutdown(); }
        @Override public List<Runnable> shutdownNow() { return delegate.shutdownNow(); }
        @Override public boolean isShutdown() { return delegate.isShutdown(); }
        @Override public boolean isTerminated() { return delegate.isTerminated(); }
        @Override public boolean awaitTermination(long t, TimeUnit u) throws InterruptedException { return delegate.awaitTermination(t, u); }
        @Override public void close() { delegate.close(); }
        @Override public <T> Future<T> submit(Callable<T> task) { return delegate.submit(task); }
        @Override public <T> Future<T> submit(Runnable task, T result) { return delegate.submit(task, result); }
        @Override public Future<?> submit(Runnable task) { return delegate.submit(task); }
        @Override public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
            return delegate.invokeAll(tasks);
        }
        @Override public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long t, TimeUnit u) throws InterruptedException {
            return delegate.invokeAll(tasks, t, u);
        }
        @Override public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
            return delegate.invokeAny(tasks);
        }
        @Override public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long t, TimeUnit u)
                throws InterruptedException, ExecutionException, TimeoutException {
            return delegate.invokeAny(tasks, t, u);
        }
    }
}
