package dev.bobbin.scheduler;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A full run queue spills its oldest half; those fibers must run before the younger ones left in the
 * ring, not wait for the injection queue's (or the inbox's) occasional turn while the ring keeps being
 * refilled (see {@link Carrier}'s {@code spill} and {@code findLocalTask}).
 *
 * <p>One carrier; a fiber starts {@link #FIBERS} fibers without blocking. Each start puts the new fiber in
 * the next slot and pushes the one it displaces to the ring, so the ring fills with fibers 0, 1, 2, ...
 * and overflows at fiber {@code RING + 1}: fibers 0 to {@code RING / 2 - 1} (and the one that overflowed)
 * are spilled. Before spilled fibers were taken back first, fiber {@code RING / 2} and the rest of the ring
 * ran ahead of them, with a spilled fiber interleaved once in 61 tasks.
 */
class SpilledFirstTest {
    private static final int RING = Tunables.LOCAL_QUEUE_CAPACITY;
    private static final int FIBERS = RING + RING / 4;

    @ParameterizedTest
    @EnumSource(SchedulingPolicy.class)
    void spilledFibersRunBeforeTheYoungerOnesLeftInTheRing(SchedulingPolicy policy) throws Exception {
        SchedulerConfig.Builder b = SchedulerConfig.builder().name("spill-" + policy).policy(policy);
        if (policy != SchedulingPolicy.SINGLE_THREAD) b.parallelism(1);
        try (FiberScheduler s = FiberScheduler.create(b.build())) {
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
            int lastSpilled = -1, firstKept = Integer.MAX_VALUE;
            for (int i = 0; i < RING / 2; i++) lastSpilled = Math.max(lastSpilled, position.get(i));
            for (int i = RING / 2; i < RING; i++) firstKept = Math.min(firstKept, position.get(i));
            assertTrue(lastSpilled < firstKept, policy + ": the spilled fibers 0.." + (RING / 2 - 1)
                    + " ran up to position " + lastSpilled + ", after the ring's fiber at position " + firstKept);
        }
    }
}
