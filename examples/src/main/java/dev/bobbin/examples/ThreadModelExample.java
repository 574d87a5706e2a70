package dev.bobbin.examples;

import dev.bobbin.CarrierLocal;
import dev.bobbin.Confined;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingPolicy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Bobbin's thread model in five short scenes:
 * <ol>
 *   <li>SINGLE_THREAD: 10,000 fibers update one plain {@link HashMap} without locks;</li>
 *   <li>THREAD_PER_CORE and {@code startLocal}: fibers that never leave their carrier;</li>
 *   <li>{@link CarrierLocal}: a per-carrier scratch buffer, the door to per-carrier data;</li>
 *   <li>{@link Confined}: a non-thread-safe object graph handed from fiber to fiber;</li>
 *   <li>stall protection and {@link FiberScheduler#checkpoint()}: a fiber that never blocks cannot stall
 *       the others.</li>
 * </ol>
 * Run with {@code ./bobbin example thread-model}.
 */
public final class ThreadModelExample {

    private static final String USAGE = "usage: ./bobbin example thread-model";

    public static void main(String[] args) throws Exception {
        Usage.helpIfAsked(args, USAGE);
        if (args.length > 0) {                          // takes none: say so rather than ignore them
            Usage.refuse(USAGE, "takes no arguments, not: " + String.join(" ", args));
        }
        singleThread();
        threadPerCore();
        carrierLocal();
        confined();
        stallProtection();
    }

    /** Fibers of a SINGLE_THREAD scheduler never run in parallel: they interleave only where they block. */
    static void singleThread() throws InterruptedException {
        Map<String, Integer> hits = new HashMap<>();                   // not thread-safe, no lock needed
        SchedulerConfig config = SchedulerConfig.builder().name("single").policy(SchedulingPolicy.SINGLE_THREAD).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            CountDownLatch done = new CountDownLatch(10_000);
            for (int i = 0; i < 10_000; i++) {
                String key = "k" + (i % 10);
                scheduler.start(() -> {
                    hits.merge(key, 1, Integer::sum);
                    LockSupport.parkNanos(100_000);                     // a blocking point: others run here
                    hits.merge(key, 1, Integer::sum);
                    done.countDown();
                });
            }
            done.await();
        }
        int total = hits.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("1. SINGLE_THREAD: 10,000 fibers x 2 updates of one HashMap = %,d (expected 20,000)%n", total);
    }

    /** THREAD_PER_CORE deals each fiber to a carrier when it starts; it never moves after that. */
    static void threadPerCore() throws InterruptedException {
        SchedulerConfig config = SchedulerConfig.builder().name("per-core").parallelism(2)
                .policy(SchedulingPolicy.THREAD_PER_CORE).placement(SchedulingPolicy.Placement.LEAST_LOADED).build();
        Map<String, Set<Integer>> carriersSeen = new ConcurrentHashMap<>();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            List<Thread> fibers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fibers.add(scheduler.start(() -> carriersSeen.put(Thread.currentThread().getName(), visitCarriers())));
            }
            for (Thread f : fibers) f.join();
        }
        System.out.println("2. THREAD_PER_CORE: carriers each fiber ran on, across 100 blocking points: " + new java.util.TreeMap<>(carriersSeen));
        // Under the default WORK_STEALING policy, startLocal pins one fiber to the spawner's carrier.
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("ws").parallelism(2).build())) {
            List<Set<Integer>> local = new ArrayList<>(List.of(Set.of()));
            scheduler.start(() -> {
                try {
                    scheduler.startLocal(() -> local.set(0, visitCarriers())).join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).join();
            System.out.println("   WORK_STEALING + startLocal: the bound fiber ran on carriers " + local.get(0));
        }
    }

    private static Set<Integer> visitCarriers() {
        Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < 100; i++) {
            seen.add(FiberScheduler.currentCarrierIndex());
            if (i % 2 == 0) Thread.yield();
            else LockSupport.parkNanos(10_000);
        }
        return seen;
    }

    /** The per-carrier analogue of per-CPU data, reachable only inside with(fn). */
    static final CarrierLocal<StringBuilder> SCRATCH = CarrierLocal.withInitial(StringBuilder::new);
    static final CarrierLocal<long[]> RENDERED = CarrierLocal.withInitial(() -> new long[1]);

    static void carrierLocal() throws InterruptedException {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("locals").parallelism(2).build())) {
            Set<String> lines = new TreeSet<>();
            List<Thread> fibers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int order = i;
                fibers.add(scheduler.start(() -> {
                    // a per-carrier scratch buffer: no allocation, no lock, never shared across carriers
                    String text = SCRATCH.with(sb -> {
                        sb.setLength(0);
                        return sb.append("order ").append(order).append(" rendered on carrier ")
                                .append(FiberScheduler.currentCarrierIndex()).toString();
                    });
                    // while fn runs the fiber stays on its carrier, even if it blocks inside
                    String moves = RENDERED.with(count -> {
                        count[0]++;                                      // update before blocking: consistent
                        int before = FiberScheduler.currentCarrierIndex();
                        LockSupport.parkNanos(1_000_000);
                        return "; blocked inside with() on carrier " + before + ", resumed on carrier "
                                + FiberScheduler.currentCarrierIndex();
                    });
                    synchronized (lines) {
                        lines.add(text + moves);
                    }
                }));
            }
            for (Thread f : fibers) f.join();
            System.out.println("3. CarrierLocal:");
            lines.forEach(l -> System.out.println("   " + l));
        }
    }

    /** A non-thread-safe graph moves between fibers as a unit; foreign access throws. */
    static void confined() throws InterruptedException {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("capsule").parallelism(2).build())) {
            SynchronousQueue<Confined<List<String>>> handOff = new SynchronousQueue<>();
            Thread producer = scheduler.ofVirtual().name("producer").start(() -> {
                Confined<List<String>> order = Confined.of(new ArrayList<>());   // owned by the producer
                order.use(l -> l.add("created by " + Thread.currentThread().getName()));
                order.release();                                                 // hands over its writes
                try {
                    handOff.put(order);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Thread consumer = scheduler.ofVirtual().name("consumer").start(() -> {
                try {
                    Confined<List<String>> order = handOff.take();
                    order.claim();                                               // now ours
                    order.use(l -> l.add("completed by " + Thread.currentThread().getName()));
                    Thread spy = Thread.ofVirtual().name("spy").start(() -> {
                        try {
                            order.get();
                        } catch (WrongThreadException e) {
                            System.out.println("   foreign access refused: " + e.getMessage());
                        }
                    });
                    spy.join();
                    System.out.println("   the capsule now holds " + order.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            System.out.println("4. Confined:");
            producer.join();
            consumer.join();
        }
    }

    /** One fiber that never blocks on the only carrier: a spare carrier keeps the others going. */
    static void stallProtection() throws InterruptedException {
        SchedulerConfig config = SchedulerConfig.builder().name("stalls").parallelism(1)
                .stallThreshold(Duration.ofMillis(50)).maxSpareCarriers(1).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread hog = scheduler.start(() -> {
                long x = 0;
                while (!stop.get()) x += x ^ 31;                                // no blocking point at all
                if (x == 42) System.out.print("");
            });
            long start = System.nanoTime();
            CountDownLatch others = new CountDownLatch(1_000);
            for (int i = 0; i < 1_000; i++) scheduler.start(others::countDown);
            others.await();
            long millis = (System.nanoTime() - start) / 1_000_000;
            stop.set(true);
            hog.join();
            System.out.printf("5. Stall protection: 1,000 fibers finished in %d ms beside a CPU hog on the only carrier"
                    + " (stalls reported: %d, spare carriers started: %d; the stall is logged at DEBUG on logger dev.bobbin, and at WARNING only past one second with work waiting)%n",
                    millis, scheduler.stats().carrierStalls(), scheduler.stats().spareActivations());
        }
        // Cooperative preemption: a long loop with checkpoints shares a single carrier.
        SchedulerConfig single = SchedulerConfig.builder().name("checkpoints").policy(SchedulingPolicy.SINGLE_THREAD)
                .stallThreshold(Duration.ZERO).build();
        try (FiberScheduler scheduler = FiberScheduler.create(single)) {
            AtomicBoolean otherRan = new AtomicBoolean();
            long[] slices = new long[1];
            Thread computation = scheduler.start(() -> {
                long x = 0;
                while (!otherRan.get()) {
                    for (int i = 0; i < 10_000; i++) x += i ^ x;
                    FiberScheduler.checkpoint();                                  // yields once the slice is used up
                    slices[0]++;
                }
                if (x == 42) System.out.print("");
            });
            scheduler.start(() -> otherRan.set(true));
            computation.join();
            System.out.printf("   checkpoint(): another fiber ran on the single carrier after %,d loop rounds%n", slices[0]);
        }
    }
}
