package dev.bobbin.scheduler;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingPolicy;
import dev.bobbin.CompletingDriver;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A full run queue spills its oldest half. When the driver's completions overflowed it (an I/O loop
 * resuming many fibers at once), the spilled fibers must run before the younger ones left in the ring,
 * not wait for the injection queue's (or inbox's) occasional turn while completions keep refilling the
 * ring. When fibers starting fibers overflowed it, the order stays as it was: spilled fibers do not jump
 * ahead (a spawning tree keeps its depth-first order). See {@link Carrier}'s {@code spill}.
 *
 * <p>One carrier. {@link #FIBERS} fibers wait; then, in the first case, one driver completion resumes them
 * in order 0, 1, 2, ... on the carrier, so the ring overflows at fiber {@code RING}: fibers 0 to
 * {@code RING / 2 - 1} are spilled. In the second case a fiber starts them in that order.
 */
class SpilledFirstTest {
    private static final int RING = Tunables.LOCAL_QUEUE_CAPACITY;
    private static final int FIBERS = RING + RING / 4;

    private static SchedulerConfig config(String name, SchedulingPolicy policy, List<CompletingDriver> drivers) {
        SchedulerConfig.Builder b = SchedulerConfig.builder().name(name + "-" + policy).policy(policy)
                .driverFactory(c -> {
                    CompletingDriver d = new CompletingDriver(c);
                    drivers.add(d);
                    return d;
                });
        if (policy != SchedulingPolicy.SINGLE_THREAD) b.parallelism(1);
        return b.build();
    }

    @ParameterizedTest
    @EnumSource(SchedulingPolicy.class)
    void fibersSpilledByCompletionsRunBeforeTheYoungerOnesLeftInTheRing(SchedulingPolicy policy) throws Exception {
        List<CompletingDriver> drivers = new ArrayList<>();
        try (FiberScheduler s = FiberScheduler.create(config("completions", policy, drivers))) {
            AtomicIntegerArray position = new AtomicIntegerArray(FIBERS);
            AtomicIntegerArray go = new AtomicIntegerArray(FIBERS);
            AtomicInteger ran = new AtomicInteger();
            List<Thread> fibers = new ArrayList<>(FIBERS);
            for (int i = 0; i < FIBERS; i++) {
                int id = i;
                fibers.add(s.start(() -> {
                    while (go.get(id) == 0) LockSupport.park();
                    position.set(id, ran.getAndIncrement());
                }));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            for (Thread f : fibers) {
                while (f.getState() != Thread.State.WAITING) {
                    assertTrue(System.nanoTime() < deadline, "a fiber never parked");
                    Thread.sleep(1);
                }
            }
            drivers.get(0).complete(() -> {             // on the carrier, inside its driver: resumes all, in order
                for (int i = 0; i < FIBERS; i++) {
                    go.set(i, 1);
                    LockSupport.unpark(fibers.get(i));
                }
            });
            for (Thread f : fibers) assertTrue(f.join(Duration.ofSeconds(30)), "a fiber did not finish");
            assertEquals(FIBERS, ran.get());
            assertTrue(lastSpilled(position) < firstKept(position), policy + ": the spilled fibers 0.." + (RING / 2 - 1)
                    + " ran up to position " + lastSpilled(position) + ", after the ring's fiber at position "
                    + firstKept(position));
        }
    }

    @ParameterizedTest
    @EnumSource(SchedulingPolicy.class)
    void fibersSpilledByAFiberStartingFibersKeepTheirTurn(SchedulingPolicy policy) throws Exception {
        try (FiberScheduler s = FiberScheduler.create(config("spawn", policy, new ArrayList<>()))) {
            AtomicIntegerArray position = new AtomicIntegerArray(FIBERS);
            AtomicInteger ran = new AtomicInteger();
            List<Thread> started = new ArrayList<>(FIBERS);
            s.start(() -> {
                for (int i = 0; i < FIBERS; i++) {
                    int id = i;
                    started.add(Thread.ofVirtual().start(() -> position.set(id, ran.getAndIncrement())));
                }
            }).join();
            for (Thread t : started) assertTrue(t.join(Duration.ofSeconds(30)), "a fiber did not finish");
            assertEquals(FIBERS, ran.get());
            assertTrue(lastSpilled(position) > firstKept(position), policy + ": spilled fibers jumped ahead of the ring's");
        }
    }

    private static int lastSpilled(AtomicIntegerArray position) {
        int last = -1;
        for (int i = 0; i < RING / 2; i++) last = Math.max(last, position.get(i));
        return last;
    }

    private static int firstKept(AtomicIntegerArray position) {
        int first = Integer.MAX_VALUE;
        for (int i = RING / 2; i < RING; i++) first = Math.min(first, position.get(i));
        return first;
    }
}
