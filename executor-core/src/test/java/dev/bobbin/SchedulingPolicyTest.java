package dev.bobbin;

import dev.bobbin.scheduler.Carrier;
import dev.bobbin.scheduler.CarrierCounters;
import dev.bobbin.scheduler.CarrierPool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class SchedulingPolicyTest {

    private static FiberScheduler scheduler(SchedulingPolicy policy, int parallelism) {
        return FiberScheduler.create(SchedulerConfig.builder().name(policy.name().toLowerCase()).policy(policy)
                .parallelism(parallelism).build());
    }

    /** Plain shared state, touched by fibers without locks. */
    static final class Shared {
        final Map<Integer, Integer> map = new HashMap<>();
        int inside;          // fibers inside the update right now
        int overlaps;        // times a fiber found another inside
    }

    private static void update(Shared s, int key) {
        if (s.inside++ != 0) s.overlaps++;
        Integer v = s.map.get(key);
        for (int spin = 0; spin < 50; spin++) Thread.onSpinWait();   // widen the window a parallel run would hit
        s.map.put(key, v == null ? 1 : v + 1);
        s.inside--;
    }

    private static void runHashMapWorkload(FiberScheduler scheduler, Shared s, int fibers, int updatesPerFiber)
            throws InterruptedException {
        CountDownLatch done = new CountDownLatch(fibers);
        for (int i = 0; i < fibers; i++) {
            int key = i % 97;
            scheduler.start(() -> {
                for (int u = 0; u < updatesPerFiber; u++) {
                    update(s, key);
                    if (u % 2 == 0) Thread.yield();                    // blocking point: requeue
                    else LockSupport.parkNanos(50_000);              // blocking point: woken by the JDK's timer thread
                }
                done.countDown();
            });
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "fibers did not finish");
    }

    @Test
    void singleThreadFibersShareAPlainHashMapWithoutLocks() throws Exception {
        Shared s = new Shared();
        int fibers = 10_000, updates = 3;
        try (FiberScheduler scheduler = scheduler(SchedulingPolicy.SINGLE_THREAD, 1)) {
            assertEquals(1, scheduler.parallelism());
            runHashMapWorkload(scheduler, s, fibers, updates);
        }
        assertEquals(0, s.overlaps, "fibers of a SINGLE_THREAD scheduler overlapped");
        assertEquals(fibers * updates, s.map.values().stream().mapToInt(Integer::intValue).sum());
        for (int k = 0; k < 97; k++) {
            int perKey = (fibers / 97 + (k < fibers % 97 ? 1 : 0)) * updates;
            assertEquals(perKey, s.map.get(k), "key " + k);
        }
    }

    @Test
    void theOverlapDetectorCatchesParallelFibers() throws Exception {
        // The twin of the test above: on two work-stealing carriers the same workload does run in
        // parallel, and the detector sees it (so the zero above means something).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int overlaps = 0;
        FiberScheduler scheduler = scheduler(SchedulingPolicy.WORK_STEALING, 2);
        try {
            while (overlaps == 0 && System.nanoTime() < deadline) {
                Shared s = new Shared();
                runHashMapWorkload(scheduler, s, 2_000, 3);
                overlaps = s.overlaps;
            }
        } finally {
            closeWithin(scheduler);
        }
        assertTrue(overlaps > 0, "two carriers never overlapped in 20 s; the detector is blind");
    }

    @Test
    void singleThreadRejectsOtherParallelismAndSpares() {
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.builder()
                .policy(SchedulingPolicy.SINGLE_THREAD).parallelism(2).build());
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.builder()
                .policy(SchedulingPolicy.SINGLE_THREAD).maxSpareCarriers(1).build());
        SchedulerConfig c = SchedulerConfig.builder().policy(SchedulingPolicy.SINGLE_THREAD).build();
        assertEquals(1, c.parallelism());
        assertEquals(0, c.maxSpareCarriers());
    }

    /**
     * SchedulerConfig's javadoc: maxSpareCarriers defaults to the parallelism, capped, under WORK_STEALING, the
     * only policy that uses them, and to 0 under the others (it once said "parallelism, capped" for all).
     */
    @Test
    void theDefaultNumberOfSparesIsTheParallelismOnlyUnderWorkStealing() {
        assertEquals(3, SchedulerConfig.builder().parallelism(3).build().maxSpareCarriers());
        assertEquals(0, SchedulerConfig.builder().policy(SchedulingPolicy.THREAD_PER_CORE).parallelism(3).build()
                .maxSpareCarriers());
        assertEquals(SchedulerConfig.MAX_PARALLELISM - 32_000,
                SchedulerConfig.builder().parallelism(32_000).build().maxSpareCarriers(), "capped");
    }

    /** Records every carrier each fiber was seen on. */
    private static Map<Thread, Set<Integer>> runMigrationProbe(FiberScheduler scheduler, int fibers, int steps,
                                                               java.util.function.Function<Runnable, Thread> starter)
            throws InterruptedException {
        Map<Thread, Set<Integer>> seen = new ConcurrentHashMap<>();
        CountDownLatch done = new CountDownLatch(fibers);
        for (int i = 0; i < fibers; i++) {
            starter.apply(() -> {
                Set<Integer> mine = new HashSet<>();
                for (int step = 0; step < steps; step++) {
                    mine.add(FiberScheduler.currentCarrierIndex());
                    long x = 0;
                    for (int w = 0; w < 2_000; w++) x += w ^ x;      // some work, so carriers get busy
                    if (x == 42) System.out.print("");
                    if (step % 3 == 0) LockSupport.parkNanos(20_000);
                    else Thread.yield();
                    mine.add(FiberScheduler.currentCarrierIndex());
                }
                seen.put(Thread.currentThread(), mine);
                done.countDown();
            });
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "fibers did not finish");
        return seen;
    }

    @Test
    void threadPerCoreFibersNeverMoveAndNoCarrierSteals() throws Exception {
        for (SchedulingPolicy.Placement placement : SchedulingPolicy.Placement.values()) {
            SchedulerConfig config = SchedulerConfig.builder().name("tpc").parallelism(2)
                    .policy(SchedulingPolicy.THREAD_PER_CORE).placement(placement).build();
            try (FiberScheduler scheduler = FiberScheduler.create(config)) {
                Map<Thread, Set<Integer>> seen = runMigrationProbe(scheduler, 300, 60, scheduler::start);
                Set<Integer> used = new HashSet<>();
                for (Map.Entry<Thread, Set<Integer>> e : seen.entrySet()) {
                    assertEquals(1, e.getValue().size(), placement + ": " + e.getKey() + " ran on " + e.getValue());
                    used.addAll(e.getValue());
                }
                assertEquals(Set.of(0, 1), used, placement + ": fibers were not dealt to both carriers");
                assertEquals(0, scheduler.stats().steals(), placement + ": a THREAD_PER_CORE carrier stole");
                // children started by fibers are dealt too, and stay put
                Map<Thread, Set<Integer>> children = new ConcurrentHashMap<>();
                Thread parent = scheduler.start(() -> {
                    try {
                        children.putAll(runMigrationProbe(scheduler, 50, 30, r -> Thread.ofVirtual().start(r)));
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                parent.join();
                assertEquals(50, children.size());
                children.values().forEach(v -> assertEquals(1, v.size(), "child moved: " + v));
            }
        }
    }

    @Test
    void leastLoadedPlacementFillsTheEmptiestCarrier() throws Exception {
        SchedulerConfig config = SchedulerConfig.builder().name("tpc-ll").parallelism(2)
                .policy(SchedulingPolicy.THREAD_PER_CORE).placement(SchedulingPolicy.Placement.LEAST_LOADED).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            CountDownLatch[] release = {new CountDownLatch(1), new CountDownLatch(1)};
            Map<Thread, Integer> carrierOf = new ConcurrentHashMap<>();
            CountDownLatch placed = new CountDownLatch(4);
            for (int i = 0; i < 4; i++) {
                scheduler.start(() -> {
                    int c = FiberScheduler.currentCarrierIndex();
                    carrierOf.put(Thread.currentThread(), c);
                    placed.countDown();
                    try {
                        release[c].await();
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
            }
            assertTrue(placed.await(10, TimeUnit.SECONDS));
            assertEquals(2, carrierOf.values().stream().filter(c -> c == 0).count(), "4 fibers on 2 carriers: 2 each");
            release[0].countDown();                           // carrier 0 empties
            for (Thread t : carrierOf.keySet()) if (carrierOf.get(t) == 0) t.join();
            waitUntil(() -> scheduler.stats().liveFibers() == 2);
            int[] next = new int[2];
            for (int i = 0; i < 2; i++) {
                int[] where = new int[1];
                scheduler.start(() -> where[0] = FiberScheduler.currentCarrierIndex()).join();
                next[i] = where[0];
            }
            assertArrayEquals(new int[] {0, 0}, next, "least loaded must pick the empty carrier both times");
            release[1].countDown();
        }
    }

    @Test
    void boundFibersStayOnTheirCarrierUnderWorkStealing() throws Exception {
        try (FiberScheduler scheduler = scheduler(SchedulingPolicy.WORK_STEALING, 2)) {
            AtomicInteger which = new AtomicInteger();
            // from outside: startOn; from inside a fiber: startLocal
            Map<Thread, Set<Integer>> viaStartOn = runMigrationProbe(scheduler, 100, 60,
                    r -> scheduler.startOn(which.getAndIncrement() % 2, r));
            Map<Thread, Set<Integer>> viaStartLocal = new ConcurrentHashMap<>();
            Map<Thread, Integer> expectedHome = new ConcurrentHashMap<>();
            Thread spawner = scheduler.start(() -> {
                try {
                    viaStartLocal.putAll(runMigrationProbe(scheduler, 100, 60, r -> {
                        int here = FiberScheduler.currentCarrierIndex();
                        Thread t = scheduler.startLocal(r);
                        expectedHome.put(t, here);
                        return t;
                    }));
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            // meanwhile unbound fibers under the same load do migrate (the control group); started from a
            // fiber, they land on that fiber's carrier, so the other carrier has to steal them
            Map<Thread, Set<Integer>> unbound = new ConcurrentHashMap<>();
            Thread controlSpawner = scheduler.start(() -> {
                try {
                    unbound.putAll(runMigrationProbe(scheduler, 100, 60, scheduler::start));
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            controlSpawner.join();
            spawner.join();
            assertEquals(100, unbound.size());
            viaStartOn.values().forEach(v -> assertEquals(1, v.size(), "a startOn fiber moved: " + v));
            assertEquals(100, viaStartLocal.size());
            viaStartLocal.forEach((t, v) -> assertEquals(Set.of(expectedHome.get(t)), v, "a startLocal fiber moved"));
            assertTrue(unbound.values().stream().anyMatch(v -> v.size() > 1),
                    "no unbound fiber migrated: the load did not exercise stealing");
            // The control's fibers moved either by a steal or by coming back through the injection queue (a
            // timer's wake-up arrives from outside), whichever the machine's load made happen first.
            SchedulerStats stats = scheduler.stats();
            long injectedTaken = stats.carriers().stream().mapToLong(SchedulerStats.CarrierStats::injectedTaken).sum();
            assertTrue(stats.steals() + injectedTaken > 0, "neither a steal nor a take from the injection queue: " + stats);
            waitUntil(() -> scheduler.stats().liveFibers() == 0);
            assertEquals(0, scheduler.pool().boundFiberCount(), "bindings of terminated fibers must be dropped");
        }
    }

    @Test
    void wakeupsOfBoundFibersFromOutsideAreNeverLost() throws Exception {
        // Stress for the targeted wake: a platform thread hands tokens to bound fibers one at a time,
        // so their carriers park and are woken specifically (never through the generic notify) thousands
        // of times. A lost wake-up leaves a fiber parked and the latch short.
        for (SchedulingPolicy policy : List.of(SchedulingPolicy.WORK_STEALING, SchedulingPolicy.THREAD_PER_CORE)) {
            try (FiberScheduler scheduler = scheduler(policy, 2)) {
                int fibers = 20, rounds = 300;
                java.util.concurrent.atomic.AtomicIntegerArray tokens = new java.util.concurrent.atomic.AtomicIntegerArray(fibers);
                CountDownLatch done = new CountDownLatch(fibers);
                Thread[] ts = new Thread[fibers];
                for (int f = 0; f < fibers; f++) {
                    int me = f;
                    Runnable body = () -> {
                        for (int r = 1; r <= rounds; r++) {
                            while (tokens.get(me) < r) LockSupport.park();
                        }
                        done.countDown();
                    };
                    ts[f] = policy == SchedulingPolicy.THREAD_PER_CORE ? scheduler.start(body) : scheduler.startOn(f % 2, body);
                }
                for (int r = 1; r <= rounds; r++) {
                    for (int f = 0; f < fibers; f++) {
                        tokens.set(f, r);
                        LockSupport.unpark(ts[f]);
                    }
                    if (r % 50 == 0) Thread.sleep(1);              // let carriers go idle and park now and then
                }
                assertTrue(done.await(30, TimeUnit.SECONDS), policy + ": a bound fiber missed its wake-up, "
                        + done.getCount() + " left");
            }
        }
    }

    @Test
    void startLocalAndStartOnValidate() {
        try (FiberScheduler scheduler = scheduler(SchedulingPolicy.WORK_STEALING, 2)) {
            assertThrows(IllegalStateException.class, () -> scheduler.startLocal(() -> { }));
            assertThrows(NullPointerException.class, () -> scheduler.startLocal(null));
            assertThrows(IllegalArgumentException.class, () -> scheduler.startOn(2, () -> { }));
            assertThrows(IllegalArgumentException.class, () -> scheduler.startOn(-1, () -> { }));
            assertThrows(NullPointerException.class, () -> scheduler.startOn(0, null));
            scheduler.shutdown();
            assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> scheduler.startOn(0, () -> { }));
        }
    }

    @Test
    void checkpointLetsOtherFibersRunDuringALongComputation() throws Exception {
        try (FiberScheduler scheduler = scheduler(SchedulingPolicy.SINGLE_THREAD, 1)) {
            // twin first: without checkpoints, nothing else runs on the single carrier meanwhile
            assertFalse(otherFiberRanDuringComputation(scheduler, false, 300));
            // with checkpoints, the other fiber gets its turn within a few time slices
            assertTrue(otherFiberRanDuringComputation(scheduler, true, 10_000));
        }
        FiberScheduler.checkpoint();    // outside a fiber: a no-op
    }

    private static boolean otherFiberRanDuringComputation(FiberScheduler scheduler, boolean checkpoints, long maxMillis)
            throws InterruptedException {
        java.util.concurrent.atomic.AtomicBoolean otherRan = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean ranDuring = new java.util.concurrent.atomic.AtomicBoolean();
        CountDownLatch computing = new CountDownLatch(1);
        Thread computation = scheduler.start(() -> {
            computing.countDown();
            long end = System.nanoTime() + maxMillis * 1_000_000;
            long x = 0;
            while (System.nanoTime() < end && !otherRan.get()) {
                for (int i = 0; i < 1_000; i++) x += i ^ x;
                if (checkpoints) FiberScheduler.checkpoint();
            }
            ranDuring.set(otherRan.get());
            if (x == 42) System.out.print("");
        });
        computing.await();
        Thread other = scheduler.start(() -> otherRan.set(true));
        computation.join();
        other.join();
        return ranDuring.get();
    }

    /** Shuts down and fails (with the scheduler's state) if it does not terminate within 10 s. */
    static void closeWithin(FiberScheduler scheduler) throws InterruptedException {
        scheduler.shutdown();
        if (!scheduler.awaitTermination(java.time.Duration.ofSeconds(10))) {
            CarrierPool p = scheduler.pool();
            StringBuilder sb = new StringBuilder("scheduler did not terminate: live=" + p.liveFibers()
                    + " anyWork=" + p.hasAnyWork() + " inject=" + p.inject.size() + "\n");
            for (Carrier c : p.carriers) {
                sb.append(c.getName()).append(" queue=").append(c.queue.sizeEstimate()).append(" inbox=")
                        .append(c.inbox.size()).append(" started=").append(c.counters.get(CarrierCounters.FIBERS_STARTED))
                        .append(" completed=").append(c.counters.get(CarrierCounters.FIBERS_COMPLETED))
                        .append(" state=").append(c.getState()).append('\n');
            }
            sb.append("outsideStarts=").append(p.outsideStarts()).append('\n').append(scheduler.stats());
            fail(sb.toString());
        }
    }

    static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("condition not reached within 10 s");
            Thread.sleep(5);
        }
    }

    @Test
    void onlyUnboundFibersOfAWorkStealingSchedulerMayMove() throws Exception {
        assertFalse(FiberScheduler.currentFiberMayMove(), "a platform thread");
        try (FiberScheduler ws = scheduler(SchedulingPolicy.WORK_STEALING, 2);
             FiberScheduler tpc = scheduler(SchedulingPolicy.THREAD_PER_CORE, 2);
             FiberScheduler single = scheduler(SchedulingPolicy.SINGLE_THREAD, 1)) {
            CarrierLocal<Object> local = CarrierLocal.withInitial(Object::new);
            java.util.concurrent.CompletableFuture<String> seen = new java.util.concurrent.CompletableFuture<>();
            ws.start(() -> seen.complete(FiberScheduler.currentFiberMayMove()
                    + " " + local.with(v -> FiberScheduler.currentFiberMayMove())
                    + " " + FiberScheduler.currentFiberMayMove()));
            assertEquals("true false true", seen.get(10, java.util.concurrent.TimeUnit.SECONDS),
                    "unbound, inside CarrierLocal.with, unbound again");
            for (var c : java.util.List.<java.util.function.Function<Runnable, Thread>>of(t -> ws.startOn(1, t), tpc::start, single::start)) {
                java.util.concurrent.CompletableFuture<Boolean> may = new java.util.concurrent.CompletableFuture<>();
                c.apply(() -> may.complete(FiberScheduler.currentFiberMayMove()));
                assertFalse(may.get(10, java.util.concurrent.TimeUnit.SECONDS));
            }
        }
    }
}
