package dev.bobbin.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;

import java.util.concurrent.TimeUnit;

/**
 * Fiber creation cost: start a fiber that does nothing and join it, one at a time from the benchmark
 * thread (every start wakes an idle carrier), and in batches of 1000 started by one fiber and then
 * joined (the carriers stay busy; a batch measures the scheduler's queues rather than its wakeups).
 * Score: fibers per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SpawnJoinBenchmark {
    static final int BATCH = 1000;
    private static final Runnable NOTHING = () -> { };

    @Benchmark
    public void spawnJoin(Fibers fibers) {
        Fibers.join(fibers.start(NOTHING));
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void spawnJoinBatch(Fibers fibers) {
        Fibers.join(fibers.start(() -> {
            Thread[] batch = new Thread[BATCH];
            for (int i = 0; i < BATCH; i++) batch[i] = fibers.start(NOTHING);
            for (Thread t : batch) Fibers.join(t);
        }));
    }
}
