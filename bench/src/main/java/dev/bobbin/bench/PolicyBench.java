package dev.bobbin.bench;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingPolicy;
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

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Each scheduling policy on two core micro-benchmarks: ping-pong (two fibers handing a turn back and
 * forth with park/unpark) and spawn+join (a fiber starting 1,000 children and joining them). WORK_STEALING
 * and THREAD_PER_CORE use every available processor; SINGLE_THREAD uses one carrier. BOUND is
 * WORK_STEALING with the fibers started by {@code startLocal} (carrier-bound).
 *
 * <pre>./bobbin bench PolicyBench -f 1 -wi 2 -i 3 -w 1s -r 1s</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PolicyBench {
    static final int ROUND_TRIPS = 10_000;
    static final int CHILDREN = 1_000;

    @Param({"WORK_STEALING", "THREAD_PER_CORE", "SINGLE_THREAD", "BOUND"})
    public String policy;

    private FiberScheduler scheduler;
    private boolean bound;

    @Setup
    public void setUp() {
        bound = policy.equals("BOUND");
        SchedulingPolicy p = bound ? SchedulingPolicy.WORK_STEALING : SchedulingPolicy.valueOf(policy);
        SchedulerConfig.Builder b = SchedulerConfig.builder().name("bench-" + policy.toLowerCase()).policy(p);
        if (p != SchedulingPolicy.SINGLE_THREAD) b.parallelism(Runtime.getRuntime().availableProcessors());
        scheduler = FiberScheduler.create(b.build());
    }

    @TearDown
    public void tearDown() {
        scheduler.close();
    }

    /** Time per one-way hand-off between two fibers. */
    @Benchmark
    @OperationsPerInvocation(2 * ROUND_TRIPS)
    public void pingPong() throws InterruptedException {
        scheduler.start(() -> {
            Turn turn = new Turn();
            Thread ping = start(() -> turn.play(0, ROUND_TRIPS));
            Thread pong = start(() -> turn.play(1, ROUND_TRIPS));
            turn.players[0] = ping;
            turn.players[1] = pong;
            turn.ready = true;
            LockSupport.unpark(ping);
            LockSupport.unpark(pong);
            join(ping);
            join(pong);
        }).join();
    }

    /** Time per child: start and join. */
    @Benchmark
    @OperationsPerInvocation(CHILDREN)
    public void spawnJoin() throws InterruptedException {
        scheduler.start(() -> {
            Thread[] children = new Thread[CHILDREN];
            for (int i = 0; i < CHILDREN; i++) children[i] = start(() -> { });
            for (Thread c : children) join(c);
        }).join();
    }

    /** From a fiber: a child on the same scheduler, carrier-bound for BOUND. */
    private Thread start(Runnable r) {
        return bound ? scheduler.startLocal(r) : Thread.ofVirtual().start(r);
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static final class Turn {
        final Thread[] players = new Thread[2];
        volatile boolean ready;
        volatile int turn;

        void play(int me, int rounds) {
            while (!ready) LockSupport.park();
            Thread other = players[1 - me];
            for (int i = 0; i < rounds; i++) {
                while (turn != me) LockSupport.park();
                turn = 1 - me;
                LockSupport.unpark(other);
            }
        }
    }
}
