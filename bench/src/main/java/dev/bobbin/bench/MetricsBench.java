package dev.bobbin.bench;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingDelaySampling;
import dev.bobbin.metrics.BobbinMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The cost of observability on the scheduler's hottest path: two fibers ping-pong with
 * park/unpark, so every operation is two fiber wakeups, two submissions and two runs.
 *
 * <ul>
 *   <li>{@code unbound}: delay sampling off, no fiber tracking, no meters: the baseline;</li>
 *   <li>{@code sampled}: the defaults (one submission in 64 timed) with {@link BobbinMetrics} bound, its
 *       delay timer recording each sample;</li>
 *   <li>{@code every}: every submission timed, meters bound;</li>
 *   <li>{@code tracked}: defaults plus the live-fiber registry for fiber dumps, meters bound.</li>
 * </ul>
 * Score: nanoseconds per round trip. See bench/README.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/java.lang=ALL-UNNAMED"})
public class MetricsBench {
    static final int ROUND_TRIPS = 10_000;

    @Param({"unbound", "sampled", "every", "tracked"})
    public String metrics;

    private FiberScheduler scheduler;
    private BobbinMetrics binder;

    @Setup(Level.Trial)
    public void setUp() {
        SchedulerConfig.Builder b = SchedulerConfig.builder().name("bench").parallelism(2);
        switch (metrics) {
            case "unbound" -> b.schedulingDelaySampling(SchedulingDelaySampling.off());
            case "sampled" -> b.schedulingDelaySampling(SchedulingDelaySampling.defaults());
            case "every" -> b.schedulingDelaySampling(SchedulingDelaySampling.everyFiber());
            case "tracked" -> b.schedulingDelaySampling(SchedulingDelaySampling.defaults()).trackFibers(true);
            default -> throw new IllegalArgumentException(metrics);
        }
        scheduler = FiberScheduler.create(b.build());
        if (!metrics.equals("unbound")) {
            binder = BobbinMetrics.of(scheduler);
            binder.bindTo(new SimpleMeterRegistry());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (binder != null) binder.close();
        scheduler.close();
    }

    /** Two fibers hand a ball back and forth; the ball's value says whose turn it is. */
    static final class PingPong {
        private final int rounds;
        volatile Thread pinger, ponger;
        volatile int ball;                 // odd: the ponger's turn; even: the pinger's

        PingPong(int rounds) { this.rounds = rounds; }

        void ping() {
            pinger = Thread.currentThread();
            for (int i = 1; i <= rounds; i++) {
                ball = 2 * i - 1;
                LockSupport.unpark(ponger);
                while (ball != 2 * i) LockSupport.park();
            }
        }

        void pong() {
            for (int i = 1; i <= rounds; i++) {
                while (ball != 2 * i - 1) LockSupport.park();
                ball = 2 * i;
                LockSupport.unpark(pinger);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void pingPong() throws InterruptedException {
        PingPong p = new PingPong(ROUND_TRIPS);
        Thread pong = scheduler.start(p::pong);
        p.ponger = pong;
        Thread ping = scheduler.start(p::ping);
        ping.join();
        pong.join();
    }
}
