package dev.bobbin.bench;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import javax.management.ObjectName;

/**
 * Heap per parked fiber: parks N fibers (default 1,000,000) and compares the heap after a full GC before
 * and after, for Bobbin and for the JDK's default virtual-thread scheduler, each in a fresh JVM.
 *
 * <p>Two readings of the same heaps: the used heap (the memory pool's figure), and the sum of the live
 * objects' sizes from a class histogram (the {@code GC.class_histogram} diagnostic command, which also
 * says which classes the bytes are in). The parked fibers' own code is compiled before the baseline
 * (a warm-up parks and releases fibers running the same body), so the stack chunks of the measured
 * fibers hold compiled frames in every run rather than a run-dependent mix with interpreted ones.
 *
 * <pre>
 *   ./bobbin java -cp bench/target/benchmarks.jar dev.bobbin.bench.ParkedFiberFootprint [fibers] [rounds]
 * </pre>
 * With {@code bobbin} or {@code jdk} as the first argument it measures that one in this JVM.
 */
public final class ParkedFiberFootprint {
    private ParkedFiberFootprint() { }

    private static volatile boolean release;

    public static void main(String[] args) throws Exception {
        String usage = "ParkedFiberFootprint [fibers (default 1000000)] [rounds (default 1)]";
        MainArgs.helpIfAsked(args, usage);
        if (args.length > 0 && (args[0].equals("bobbin") || args[0].equals("jdk"))) {
            int n = MainArgs.intArg(args, 1, 1_000_000, 1, usage);
            System.out.println("RESULT " + args[0] + " " + measure(args[0], n));
            System.out.println("HISTO " + args[0] + " " + lastHistogramBytesPerFiber);
            return;
        }
        int n = MainArgs.intArg(args, 0, 1_000_000, 1, usage);
        int rounds = MainArgs.intArg(args, 1, 1, 1, usage);
        System.out.printf("parked fibers: %,d, rounds: %d (bobbin, then jdk, each in a fresh JVM)%n", n, rounds);
        for (int r = 1; r <= rounds; r++) {
            double[] bobbin = inFreshJvm("bobbin", n), jdk = inFreshJvm("jdk", n);
            System.out.printf("round %d  used heap: bobbin %.0f, jdk %.0f bytes/fiber, ratio %.3f;"
                            + "  histogram: bobbin %.0f, jdk %.0f bytes/fiber, ratio %.3f%n",
                    r, bobbin[0], jdk[0], bobbin[0] / jdk[0], bobbin[1], jdk[1], bobbin[1] / jdk[1]);
        }
    }

    /** {used-heap bytes per fiber, histogram bytes per fiber} measured in a fresh JVM. */
    private static double[] inFreshJvm(String scheduler, int n) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-Xms4g", "-Xmx4g", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"),
                ParkedFiberFootprint.class.getName(), scheduler, Integer.toString(n)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        double used = Double.NaN, histo = Double.NaN;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("RESULT ")) used = Double.parseDouble(line.split(" ")[2]);
                else if (line.startsWith("HISTO ")) histo = Double.parseDouble(line.split(" ")[2]);
                else System.out.println("  [" + scheduler + "] " + line);
            }
        }
        if (p.waitFor() != 0 || Double.isNaN(used) || Double.isNaN(histo)) {
            throw new IllegalStateException(scheduler + " run failed");
        }
        return new double[] {used, histo};
    }

    /** Set by {@link #measure}: the histogram's bytes per fiber. */
    private static double lastHistogramBytesPerFiber = Double.NaN;

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
        warmUp(factory, body, parked);
        parked.set(0);
        Thread[] fibers = new Thread[n];               // allocated before the baseline: not counted
        long before = usedHeapAfterGc();
        Map<String, long[]> histoBefore = histogram();
        for (int i = 0; i < n; i++) {
            fibers[i] = factory.newThread(body);
            fibers[i].start();
        }
        while (parked.get() < n) Thread.sleep(10);
        Thread.sleep(500);                             // the last ones finish parking
        long after = usedHeapAfterGc();
        Map<String, long[]> histoAfter = histogram();
        release = true;
        for (Thread t : fibers) LockSupport.unpark(t);
        for (Thread t : fibers) t.join();
        if (bobbin != null) bobbin.close();
        System.out.printf("%s: used heap %,d -> %,d bytes%n", scheduler, before, after);
        lastHistogramBytesPerFiber = (double) printDifference(histoBefore, histoAfter, n) / n;
        return (double) (after - before) / n;
    }

    /**
     * Parks and releases fibers running {@code body}, so that it and the park path are compiled before
     * the baseline; {@code release} is false again afterwards.
     */
    private static void warmUp(ThreadFactory factory, Runnable body, AtomicInteger parked) throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            Thread[] warm = new Thread[2_000];
            parked.set(0);
            release = false;
            for (int i = 0; i < warm.length; i++) {
                warm[i] = factory.newThread(body);
                warm[i].start();
            }
            while (parked.get() < warm.length) Thread.sleep(1);
            release = true;
            for (Thread t : warm) LockSupport.unpark(t);
            for (Thread t : warm) t.join();
        }
        release = false;
    }

    /** Class name to {instances, bytes} of the live heap (the histogram command runs a full GC first). */
    private static Map<String, long[]> histogram() throws Exception {
        ObjectName dcmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(dcmd, "gcClassHistogram",
                new Object[] {null}, new String[] {String[].class.getName()});
        Map<String, long[]> classes = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // " 1:  1000000  64000000  java.lang.VirtualThread (java.base@25)"
            if (f.length >= 4 && f[0].endsWith(":") && !f[0].equals("Total")) {
                classes.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
            }
        }
        return classes;
    }

    /** Prints the classes whose live bytes grew by more than 1 byte per fiber; returns the total growth. */
    private static long printDifference(Map<String, long[]> before, Map<String, long[]> after, int n) {
        long total = 0;
        List<Map.Entry<String, Long>> grown = new ArrayList<>();
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            long delta = e.getValue()[1] - b[1];
            total += delta;
            if (delta > n) grown.add(Map.entry(e.getKey(), delta));
        }
        for (Map.Entry<String, long[]> e : before.entrySet()) {
            if (!after.containsKey(e.getKey())) total -= e.getValue()[1];
        }
        grown.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        for (Map.Entry<String, Long> e : grown) {
            System.out.printf("  %8.1f bytes/fiber  %s%n", (double) e.getValue() / n, e.getKey());
        }
        System.out.printf("  %8.1f bytes/fiber  total of the histogram%n", (double) total / n);
        return total;
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
