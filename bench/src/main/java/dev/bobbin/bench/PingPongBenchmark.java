package dev.bobbin.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Park/unpark ping-pong between two fibers: each round trip is two handoffs, each an unpark of the
 * other fiber followed by a park of this one. Score: round trips per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PingPongBenchmark {
    static final int ROUND_TRIPS = 20_000;

    /** The two players and whose turn it is: 1 = pong's, 0 = ping's. */
    static final class Table {
        volatile int turn;
        volatile Thread ping, pong;
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public int pingPong(Fibers fibers) {
        Table table = new Table();
        table.ping = fibers.factory.newThread(() -> {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                table.turn = 1;
                LockSupport.unpark(table.pong);
                while (table.turn != 0) LockSupport.park();
            }
        });
        table.pong = fibers.factory.newThread(() -> {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                while (table.turn != 1) LockSupport.park();
                table.turn = 0;
                LockSupport.unpark(table.ping);
            }
        });
        table.pong.start();
        table.ping.start();
        Fibers.join(table.ping);
        Fibers.join(table.pong);
        return table.turn;
    }
}
