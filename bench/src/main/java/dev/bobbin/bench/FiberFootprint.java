package dev.bobbin.bench;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingPolicy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * Rough heap cost of one parked fiber, per scheduler kind: JDK default virtual threads, Bobbin
 * WORK_STEALING (unbound), THREAD_PER_CORE (every fiber bound: one binding entry each) and WORK_STEALING
 * with fibers started by {@code startOn} (bound). Prints bytes per fiber; run with
 * {@code ./bobbin java -cp bench/target/benchmarks.jar dev.bobbin.bench.FiberFootprint [fibers]}.
 */
public final class FiberFootprint {
    public static void main(String[] args) throws Exception {
        String usage = "FiberFootprint [fibers (default 100000)]";
        MainArgs.helpIfAsked(args, usage);
        int n = MainArgs.intArg(args, 0, 100_000, 1, usage);
        for (int round = 0; round < 2; round++) {        // the first round warms up class loading
            report("jdk", n, null, false);
            report("bobbin WORK_STEALING", n, SchedulingPolicy.WORK_STEALING, false);
            report("bobbin THREAD_PER_CORE", n, SchedulingPolicy.THREAD_PER_CORE, false);
            report("bobbin startOn (bound)", n, SchedulingPolicy.WORK_STEALING, true);
            System.out.println();
        }
    }

    private static void report(String label, int n, SchedulingPolicy policy, boolean bound) throws Exception {
        FiberScheduler scheduler = policy == null ? null
                : FiberScheduler.create(SchedulerConfig.builder().name("fp").parallelism(2).policy(policy).build());
        try {
            long before = usedAfterGc();
            List<Thread> fibers = new ArrayList<>(n);
            CountDownLatch parked = new CountDownLatch(n);
            Thread.Builder.OfVirtual builder = scheduler == null ? Thread.ofVirtual() : scheduler.ofVirtual();
            Runnable body = () -> {
                parked.countDown();
                LockSupport.park();
            };
            for (int i = 0; i < n; i++) {
                fibers.add(bound ? scheduler.startOn(i % 2, body) : builder.start(body));
            }
            parked.await();
            Thread.sleep(200);                          // let every fiber reach its park
            long after = usedAfterGc();
            System.out.printf("%-26s %6.0f bytes per parked fiber (%,d fibers)%n", label,
                    (after - before) / (double) n, n);
            for (Thread t : fibers) LockSupport.unpark(t);
            for (Thread t : fibers) t.join();
        } finally {
            if (scheduler != null) scheduler.close();
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return heap.getUsed();
    }
}
