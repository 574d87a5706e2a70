package dev.bobbin.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.Exchanger;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.Phaser;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * Ping-pong between two fibers through the JDK's hand-off primitives, Bobbin against the JDK's own
 * virtual-thread scheduler in one run ({@link Fibers#scheduler}): ns per round trip (two hand-offs).
 * These primitives spin before they park unless the carrier is known to have queued work, a check only
 * the JDK's ForkJoinPool carriers pass (bench/README.md, "Hand-off primitives").
 *
 * <pre>./bobbin bench HandoffBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HandoffBenchmark {
    static final int ROUND_TRIPS = 2_000;

    @FunctionalInterface
    interface Step { void run() throws Exception; }

    /** Runs {@code ping} and {@code pong} ROUND_TRIPS times each on two fibers of the scheduler under test. */
    private static void pair(Fibers fibers, Step ping, Step pong) {
        Thread a = fibers.start(() -> loop(ping));
        Thread b = fibers.start(() -> loop(pong));
        Fibers.join(a);
        Fibers.join(b);
    }

    private static void loop(Step step) {
        try {
            for (int i = 0; i < ROUND_TRIPS; i++) step.run();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void synchronousQueue(Fibers fibers) {
        SynchronousQueue<Integer> there = new SynchronousQueue<>(), back = new SynchronousQueue<>();
        pair(fibers, () -> { there.put(1); back.take(); }, () -> { there.take(); back.put(2); });
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void linkedTransferQueue(Fibers fibers) {
        LinkedTransferQueue<Integer> there = new LinkedTransferQueue<>(), back = new LinkedTransferQueue<>();
        pair(fibers, () -> { there.transfer(1); back.take(); }, () -> { there.take(); back.transfer(2); });
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void exchanger(Fibers fibers) {
        Exchanger<Integer> x = new Exchanger<>();
        pair(fibers, () -> x.exchange(1), () -> x.exchange(2));
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void phaser(Fibers fibers) {
        Phaser phaser = new Phaser(2);
        pair(fibers, phaser::arriveAndAwaitAdvance, phaser::arriveAndAwaitAdvance);
    }

    /** A cached thread pool used from a fiber: submit and wait, which reuses a pool thread through a SynchronousQueue. */
    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void cachedThreadPoolFromAFiber(Fibers fibers) {
        ExecutorService pool = Executors.newCachedThreadPool(fibers.factory);
        try {
            Fibers.join(fibers.start(() -> loop(() -> pool.submit(() -> 1).get())));
        } finally {
            pool.shutdown();
        }
    }
}
