package dev.bobbin.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * A skewed spawner: one fiber starts {@link #CHILDREN} children of fixed CPU work {@code w} and joins
 * them. All work appears on the spawner's carrier; how fast the others take it decides the score. The
 * ideal time is {@code CHILDREN * w / parallelism}; {@link #serialWork} measures {@code CHILDREN * w} on
 * one thread, so ideal = serialWork / parallelism. Score: milliseconds per batch.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class SkewedSpawnBenchmark {
    static final int CHILDREN = 1000;

    /** CPU work per child in Blackhole tokens (about 20 microseconds at 10,000). */
    @State(Scope.Benchmark)
    public static class Work {
        @Param({"10000"})
        public long tokens;
    }

    @Benchmark
    public void skewedSpawn(Fibers fibers, Work work) {
        long tokens = work.tokens;
        Fibers.join(fibers.start(() -> {
            Thread[] children = new Thread[CHILDREN];
            for (int i = 0; i < CHILDREN; i++) children[i] = fibers.start(() -> Blackhole.consumeCPU(tokens));
            for (Thread t : children) Fibers.join(t);
        }));
    }

    /** The same work on the benchmark thread alone: CHILDREN * w. */
    @Benchmark
    public void serialWork(Work work) {
        for (int i = 0; i < CHILDREN; i++) Blackhole.consumeCPU(work.tokens);
    }
}
