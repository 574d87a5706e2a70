package dev.bobbin.bench;

import dev.bobbin.FiberExecutor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Bobbin's {@link FiberExecutor} against the JDK's executors a user would swap it for, in one run:
 * {@code Executors.newVirtualThreadPerTaskExecutor()}, {@code Executors.newFixedThreadPool(nCPU)} and
 * {@code ForkJoinPool.commonPool()}.
 *
 * <ul>
 *   <li>{@code submitGet}: one caller submits a tiny task and waits for its result, over and over: the
 *       round-trip cost of a task (thread creation, hand-off, wake-up of the caller).</li>
 *   <li>{@code invokeAll10k}: invokeAll of 10,000 tiny tasks; reported per task.</li>
 * </ul>
 * Run: {@code ./bobbin bench ExecutorBench -f 1 -wi 2 -i 3 -w 1s -r 1s}. Results in bench/README.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ExecutorBench {
    private static final int BATCH = 10_000;

    @Param({"bobbin", "jdk-virtual", "jdk-fixed", "jdk-common-pool"})
    public String kind;

    private ExecutorService executor;
    private List<Callable<Integer>> batch;
    private int seed = 17;

    @Setup
    public void setUp() {
        int cpus = Runtime.getRuntime().availableProcessors();
        executor = switch (kind) {
            case "bobbin" -> FiberExecutor.create();   // the drop-in form: unnamed fibers, as the JDK's
            case "jdk-virtual" -> Executors.newVirtualThreadPerTaskExecutor();
            case "jdk-fixed" -> Executors.newFixedThreadPool(cpus);
            case "jdk-common-pool" -> ForkJoinPool.commonPool();
            default -> throw new IllegalArgumentException("unknown executor kind " + kind);
        };
        batch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            int x = i;
            batch.add(() -> work(x));
        }
    }

    @TearDown
    public void tearDown() {
        if (executor != ForkJoinPool.commonPool()) executor.close();
    }

    /** A few nanoseconds of work the JIT cannot drop. */
    static int work(int x) {
        return Integer.rotateLeft(x * 0x9E3779B9, 7) ^ x;
    }

    @Benchmark
    public int submitGet() throws ExecutionException, InterruptedException {
        int x = ++seed;
        return executor.submit(() -> work(x)).get();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int invokeAll10k() throws ExecutionException, InterruptedException {
        int sum = 0;
        for (Future<Integer> f : executor.invokeAll(batch)) sum += f.get();
        return sum;
    }
}
