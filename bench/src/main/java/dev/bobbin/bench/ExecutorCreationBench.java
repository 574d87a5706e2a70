package dev.bobbin.bench;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The cost of a short-lived executor: create it, submit one tiny task, wait for it, close the executor.
 * Code that opens an executor per request or per batch ({@code try (var e = ...) { ... }}) pays this
 * each time.
 *
 * <ul>
 *   <li>{@code bobbinShared}: {@code FiberExecutor.create(scheduler)} on one scheduler shared by the
 *       whole run (the executor neither creates nor stops carriers).</li>
 *   <li>{@code jdkVirtual}: {@code Executors.newVirtualThreadPerTaskExecutor()}.</li>
 *   <li>{@code bobbinSharedEmpty}, {@code jdkVirtualEmpty}: the same without the task, so the executor's own
 *       cost (objects built at creation, the lifecycle steps of close) is all that is measured.</li>
 * </ul>
 * Run: {@code ./bobbin bench ExecutorCreationBench -f 1 -wi 3 -i 5 -w 1s -r 1s}. Results in
 * bench/README.md ("FiberExecutor creation"). Average time per create-submit-close, lower is better.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ExecutorCreationBench {
    private FiberScheduler scheduler;
    private int seed = 17;

    @Setup(Level.Trial)
    public void setUp() {
        scheduler = FiberScheduler.create();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scheduler.close();
    }

    @Benchmark
    public int bobbinShared() throws ExecutionException, InterruptedException {
        int x = ++seed;
        try (FiberExecutor executor = FiberExecutor.create(scheduler)) {
            return executor.submit(() -> ExecutorBench.work(x)).get();
        }
    }

    @Benchmark
    public int jdkVirtual() throws ExecutionException, InterruptedException {
        int x = ++seed;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            return executor.submit(() -> ExecutorBench.work(x)).get();
        }
    }

    @Benchmark
    public FiberExecutor bobbinSharedEmpty() {
        FiberExecutor executor = FiberExecutor.create(scheduler);
        executor.close();
        return executor;
    }

    @Benchmark
    public ExecutorService jdkVirtualEmpty() {
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        executor.close();
        return executor;
    }
}
