package dev.bobbin.bench;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Heap per parked fiber: parks N fibers (default 1,000,000) and compares used heap after a full GC
 * before and after, for Bobbin and for the JDK's default virtual-thread scheduler, each in a fresh JVM.
 *
 * <pre>
 *   ./bobbin java -cp bench/target/benchmarks.jar dev.bobbin.bench.ParkedFiberFootprint [fibers]
 * </pre>
 * With {@code bobbin} or {@code jdk} as the first argument it measures that one in this JVM.
 */
public final class ParkedFiberFootprint {
    private ParkedFiberFootprint() { }

    private static volatile boolean release;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("bobbin") || args[0].equals("jdk"))) {
            int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
            System.out.println("RESULT " + args[0] + " " + measure(args[0], n));
            return;
        }
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        double bobbin = inFreshJvm("bobbin", n), jdk = inFreshJvm("jdk", n);
        System.out.printf("parked fibers: %,d%n", n);
        System.out.printf("bobbin: %.0f bytes/fiber%n", bobbin);
        System.out.printf("jdk:    %.0f bytes/fiber%n", jdk);
        System.out.printf("ratio bobbin/jdk: %.3f%n", bobbin / jdk);
    }

    private static double inFreshJvm(String scheduler, int n) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-Xms4g", "-Xmx4g", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"),
                ParkedFiberFootprint.class.getName(), scheduler, Integer.toString(n)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        double result = Double.NaN;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("RESULT ")) result = Double.parseDouble(line.split(" ")[2]);
                else System.out.println("  [" + scheduler + "] " + line);
            }
        }
        if (p.waitFor() != 0 || Double.isNaN(result)) throw new IllegalStateException(scheduler + " run failed");
        return result;
    }

    /** Bytes of heap per parked fiber on {@code scheduler}. */
    static double measure(String scheduler, int n) throws Exception {
        FiberScheduler bobbin = scheduler.equals("bobbin")
                ? FiberScheduler.create(SchedulerConfig.builder().name("footprint").build()) : null;
        ThreadFactory factory = bobbin != null ? bobbin.ofVirtual().factory() : Thread.ofVirtual().factory();
        AtomicInteger parked = new AtomicInteger();
        Runnable body = () -> {
            parked.incrementAndGet();
            while (!release) LockSupport.park();
        };
        warmUp(factory);
        Thread[] fibers = new Thread[n];               // allocated before the baseline: not counted
        long before = usedHeapAfterGc();
        for (int i = 0; i < n; i++) {
            fibers[i] = factory.newThread(body);
            fibers[i].start();
        }
        while (parked.get() < n) Thread.sleep(10);
        Thread.sleep(500);                             // the last ones finish parking
        long after = usedHeapAfterGc();
        release = true;
        for (Thread t : fibers) LockSupport.unpark(t);
        for (Thread t : fibers) t.join();
        if (bobbin != null) bobbin.close();
        System.out.printf("%s: used heap %,d -> %,d bytes%n", scheduler, before, after);
        return (double) (after - before) / n;
    }

    private static void warmUp(ThreadFactory factory) throws InterruptedException {
        for (int i = 0; i < 10_000; i++) {
            Thread t = factory.newThread(() -> LockSupport.parkNanos(1));
            t.start();
            t.join();
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
