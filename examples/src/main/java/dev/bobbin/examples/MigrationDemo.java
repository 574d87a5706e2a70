package dev.bobbin.examples;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * Bobbin's first demo: fibers move between carrier threads at blocking points, yet each keeps its
 * thread identity, thread id and ThreadLocal values, as a thread keeps them when the kernel moves it
 * between CPU cores.
 *
 * <p>Run with {@code ./bobbin example migration [fibers]} (4 fibers unless told).
 */
public final class MigrationDemo {
    private static final ThreadLocal<String> REQUEST_ID = new ThreadLocal<>();
    private static final InheritableThreadLocal<String> TENANT = new InheritableThreadLocal<>();

    private static final String USAGE = "usage: ./bobbin example migration [fibers]";

    public static void main(String[] args) throws InterruptedException {
        Usage.helpIfAsked(args, USAGE);
        int fibers = 4;
        try {
            if (args.length > 1) throw new IllegalArgumentException("one argument at most, not " + args.length);
            if (args.length == 1) fibers = Integer.parseInt(args[0]);
            if (fibers < 0) throw new IllegalArgumentException("a negative count: " + fibers);
        } catch (IllegalArgumentException e) {           // NumberFormatException included
            Usage.refuse(USAGE, e instanceof NumberFormatException ? "not a number: " + args[0] : e.getMessage());
            return;
        }
        SchedulerConfig config = SchedulerConfig.builder().name("demo").parallelism(2).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            System.out.printf("scheduler %s with %d carriers%n%n", scheduler.name(), scheduler.parallelism());
            TENANT.set("acme");
            CountDownLatch done = new CountDownLatch(fibers);
            String[] reports = new String[fibers];      // by fiber, printed in start order
            for (int i = 0; i < fibers; i++) {
                String id = "req-" + i;
                int slot = i;
                scheduler.start(() -> {
                    REQUEST_ID.set(id);
                    Thread self = Thread.currentThread();
                    long tid = self.threadId();
                    Set<Integer> carriers = new TreeSet<>();
                    boolean stable = true;
                    for (int step = 0; step < 200; step++) {
                        carriers.add(FiberScheduler.currentCarrierIndex());
                        busyWork();
                        // a blocking point: the fiber unmounts, and whichever carrier is free resumes it
                        if (step % 2 == 0) Thread.yield(); else LockSupport.parkNanos(50_000);
                        stable &= Thread.currentThread() == self && self.threadId() == tid
                                && id.equals(REQUEST_ID.get()) && "acme".equals(TENANT.get());
                    }
                    synchronized (reports) {
                        reports[slot] = String.format("%-14s %-10s thread id %-3d carriers %-8s ThreadLocal %s, inherited %s, identity stable: %s",
                                self.getName(), "(" + id + ")", tid, carriers, REQUEST_ID.get(), TENANT.get(), stable);
                    }
                    done.countDown();
                });
            }
            done.await();
            synchronized (reports) {
                for (String r : reports) System.out.println(r);
            }
            System.out.printf("%nsteals: %d, tasks run: %d%n", scheduler.stats().steals(), scheduler.stats().tasksRun());
        }
    }

    private static void busyWork() {
        long x = 0;
        for (int i = 0; i < 20_000; i++) x += i * 31L ^ x;
        if (x == 42) System.out.print("");
    }
}
