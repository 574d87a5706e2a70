package dev.bobbin.bench;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Work started from a platform thread ({@code main}), outside JMH, one JVM per run: spawn+join of one
 * fiber at a time, or {@code invokeAll} of 10,000 tiny tasks, on Bobbin or on the JDK's virtual threads.
 * Prints the rate of every one-second round, so that a run's mode (bench/README.md, "Outside starts
 * with more forks") shows, and gives {@code perf record -p} a steady process to sample.
 *
 * <pre>
 * java --add-opens java.base/java.lang=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.bobbin.bench.OutsideStartLoop invokeall|spawnjoin bobbin|jdk [seconds, default 10]
 * </pre>
 */
public final class OutsideStartLoop {
    private static final int BATCH = 10_000;

    private OutsideStartLoop() { }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !List.of("invokeall", "spawnjoin").contains(args[0]) || !List.of("bobbin", "jdk").contains(args[1])) {
            System.err.println("usage: OutsideStartLoop invokeall|spawnjoin bobbin|jdk [seconds]");
            System.exit(2);
        }
        boolean jdk = args[1].equals("jdk");
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        if (seconds < 1) throw new IllegalArgumentException("seconds must be at least 1: " + seconds);
        if (args[0].equals("invokeall")) invokeAll(jdk, seconds);
        else spawnJoin(jdk, seconds);
    }

    private static void invokeAll(boolean jdk, int seconds) throws Exception {
        List<Callable<Integer>> batch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            int x = i;
            batch.add(() -> ExecutorBench.work(x));
        }
        try (ExecutorService executor = jdk ? Executors.newVirtualThreadPerTaskExecutor()
                : FiberExecutor.create()) {   // unnamed fibers, as the JDK's executor's
            long sum = 0;
            for (int round = 0; round < seconds; round++) {
                long start = System.nanoTime(), tasks = 0;
                while (System.nanoTime() - start < 1_000_000_000L) {
                    for (Future<Integer> f : executor.invokeAll(batch)) sum += f.get();
                    tasks += BATCH;
                }
                report("invokeall", jdk, round, tasks, start);
            }
            if (sum == 42) System.out.print("");           // keeps the results alive
        }
    }

    private static void spawnJoin(boolean jdk, int seconds) throws Exception {
        FiberScheduler scheduler = jdk ? null : FiberScheduler.create(SchedulerConfig.builder().name("outside-start").build());
        try {
            Thread.Builder builder = jdk ? Thread.ofVirtual() : scheduler.ofVirtual();
            Runnable task = () -> { };
            for (int round = 0; round < seconds; round++) {
                long start = System.nanoTime(), fibers = 0;
                while (System.nanoTime() - start < 1_000_000_000L) {
                    for (int i = 0; i < 100; i++) builder.start(task).join();
                    fibers += 100;
                }
                report("spawnjoin", jdk, round, fibers, start);
            }
        } finally {
            if (scheduler != null) scheduler.close();
        }
    }

    private static void report(String what, boolean jdk, int round, long n, long start) {
        System.out.printf("%s %s round %d: %.0f/s%n", what, jdk ? "jdk" : "bobbin", round, n / ((System.nanoTime() - start) / 1e9));
    }
}
