package dev.bobbin.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

import java.util.concurrent.TimeUnit;

/**
 * Skynet: a 10-ary tree of fibers, 1,000,000 leaves (1,111,111 fibers in all), each leaf returning its
 * id and each inner fiber summing its children's results after joining them. Score: trees per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SkynetBenchmark {
    static final int LEAVES = 1_000_000;
    static final int FAN_OUT = 10;
    static final long EXPECTED = (long) LEAVES * (LEAVES - 1) / 2;

    @Benchmark
    public long skynet(Fibers fibers) {
        long[] result = new long[1];
        Fibers.join(fibers.start(() -> result[0] = node(fibers, 0, LEAVES)));
        if (result[0] != EXPECTED) throw new AssertionError("skynet sum " + result[0] + " != " + EXPECTED);
        return result[0];
    }

    private static long node(Fibers fibers, long first, int size) {
        if (size == 1) return first;
        int child = size / FAN_OUT;
        long[] sums = new long[FAN_OUT];
        Thread[] children = new Thread[FAN_OUT];
        for (int i = 0; i < FAN_OUT; i++) {
            int slot = i;
            long childFirst = first + (long) i * child;
            children[i] = fibers.start(() -> sums[slot] = node(fibers, childFirst, child));
        }
        long sum = 0;
        for (int i = 0; i < FAN_OUT; i++) {
            Fibers.join(children[i]);
            sum += sums[i];
        }
        return sum;
    }
}
