package dev.bobbin;

import dev.bobbin.scheduler.JdkVirtualThreads;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class CarrierLocalTest {

    /** A per-carrier value that knows which carrier created it; its counter is a plain field. */
    static final class Slot {
        final Thread carrier = JdkVirtualThreads.currentCarrier();
        long count;
    }

    @Test
    void valuesNeverLeakAcrossCarriersUnderMigrationHeavyLoad() throws Exception {
        CarrierLocal<Slot> local = CarrierLocal.withInitial(Slot::new);
        List<Slot> created = new CopyOnWriteArrayList<>();
        CarrierLocal<Slot> tracked = CarrierLocal.withInitial(() -> {
            Slot s = new Slot();
            created.add(s);
            return s;
        });
        int fibers = 400, rounds = 100;
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger migrations = new AtomicInteger();       // between with() calls: expected, shows the load
        AtomicInteger blockedInside = new AtomicInteger();
        SchedulerConfig config = SchedulerConfig.builder().name("locals").parallelism(2).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            CountDownLatch done = new CountDownLatch(fibers);
            for (int f = 0; f < fibers; f++) {
                int id = f;
                scheduler.start(() -> {
                    Thread last = null;
                    for (int r = 0; r < rounds; r++) {
                        Thread before = JdkVirtualThreads.currentCarrier();
                        if (last != null && before != last) migrations.incrementAndGet();
                        tracked.with(slot -> {
                            if (slot.carrier != JdkVirtualThreads.currentCarrier()) violations.incrementAndGet();
                            slot.count++;                                    // plain: one carrier at a time
                            if ((id + 0) % 4 == 0) {                         // block inside with()
                                blockedInside.incrementAndGet();
                                if ((id & 1) == 0) Thread.yield(); else LockSupport.parkNanos(10_000);
                            }
                            // nested use of another carrier-local, after the block
                            local.with(inner -> {
                                if (inner.carrier != slot.carrier) violations.incrementAndGet();
                                return null;
                            });
                            if (slot.carrier != JdkVirtualThreads.currentCarrier()) violations.incrementAndGet();
                            return null;
                        });
                        last = JdkVirtualThreads.currentCarrier();
                        if (r % 2 == 0) Thread.yield(); else LockSupport.parkNanos(5_000);
                    }
                    done.countDown();
                });
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), "fibers did not finish");
            SchedulingPolicyTest.waitUntil(() -> scheduler.stats().liveFibers() == 0);
            assertEquals(0, scheduler.pool().boundFiberCount(), "temporary bindings must be dropped");
        }
        assertEquals(0, violations.get(), "a CarrierLocal value was used on another carrier");
        assertTrue(migrations.get() > 0, "no fiber migrated between with() calls: the load proves nothing");
        assertTrue(blockedInside.get() > 0);
        assertTrue(created.size() <= 2 + 2, "at most one value per carrier (2 carriers, spares unused): " + created.size());
        assertEquals((long) fibers * rounds, created.stream().mapToLong(s -> s.count).sum(), "lost updates");
    }

    @Test
    void withoutTheBindingAFiberBlockingMidAccessResumesElsewhere() throws Exception {
        // The broken twin: the same access pattern with no binding (plain fibers, no with()) does see the
        // carrier change across a blocking point, which with() must prevent.
        AtomicInteger moved = new AtomicInteger();
        SchedulerConfig config = SchedulerConfig.builder().name("twin").parallelism(2).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            CountDownLatch done = new CountDownLatch(200);
            for (int f = 0; f < 200; f++) {
                scheduler.start(() -> {
                    for (int r = 0; r < 100; r++) {
                        Thread before = JdkVirtualThreads.currentCarrier();
                        Thread.yield();
                        if (JdkVirtualThreads.currentCarrier() != before) moved.incrementAndGet();
                    }
                    done.countDown();
                });
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
        }
        assertTrue(moved.get() > 0, "unbound fibers never moved across a yield");
    }

    /**
     * A supplier that blocks lets another fiber of the same carrier call it too; both fibers still see one
     * value, the first stored, instead of each keeping its own and the later store replacing the earlier.
     */
    @Test
    void aSupplierThatBlocksStillGivesTheCarrierOneValue() throws Exception {
        AtomicLong made = new AtomicLong();
        CountDownLatch secondMade = new CountDownLatch(1);
        CarrierLocal<long[]> local = CarrierLocal.withInitial(() -> {
            long n = made.incrementAndGet();
            if (n == 1) {
                try {
                    secondMade.await(10, TimeUnit.SECONDS);     // blocks the first fiber: the second runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else {
                secondMade.countDown();
            }
            return new long[] {n};
        });
        SchedulerConfig config = SchedulerConfig.builder().name("blocking-supplier").parallelism(1).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            long[] seen = new long[2];
            Thread first = scheduler.startOn(0, () -> seen[0] = local.with(v -> v[0]));
            Thread second = scheduler.startOn(0, () -> seen[1] = local.with(v -> v[0]));
            first.join();
            second.join();
            assertEquals(2, made.get(), "both fibers ran the supplier");
            assertEquals(seen[1], seen[0], "one value per carrier: the first stored (the second fiber's)");
            long[] later = new long[1];
            scheduler.startOn(0, () -> later[0] = local.with(v -> v[0])).join();
            assertEquals(seen[0], later[0]);
        }
    }

    @Test
    void eachCarrierHasItsOwnValue() throws Exception {
        AtomicLong made = new AtomicLong();
        CarrierLocal<long[]> local = CarrierLocal.withInitial(() -> new long[] {made.incrementAndGet()});
        SchedulerConfig config = SchedulerConfig.builder().name("own").parallelism(2).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            long[] seen = new long[2];
            for (int c = 0; c < 2; c++) {
                int carrier = c;
                scheduler.startOn(c, () -> seen[carrier] = local.with(v -> v[0])).join();
            }
            assertNotEquals(seen[0], seen[1]);
            assertEquals(2, made.get());
            // the same carrier gives the same value again
            long[] again = new long[1];
            scheduler.startOn(1, () -> again[0] = local.with(v -> v[0])).join();
            assertEquals(seen[1], again[0]);
        }
    }

    @Test
    void misuseIsRefused() throws Exception {
        CarrierLocal<StringBuilder> local = CarrierLocal.withInitial(StringBuilder::new);
        assertThrows(NullPointerException.class, () -> CarrierLocal.withInitial(null));
        IllegalStateException outside = assertThrows(IllegalStateException.class, () -> local.with(sb -> 1));
        assertTrue(outside.getMessage().contains("Bobbin"), outside.getMessage());
        CarrierLocal<Object> nullInitial = CarrierLocal.withInitial(() -> null);
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().parallelism(1).build())) {
            Throwable[] thrown = new Throwable[3];
            scheduler.start(() -> {
                try { local.with(sb -> sb); } catch (Throwable t) { thrown[0] = t; }
                try { local.with(null); } catch (Throwable t) { thrown[1] = t; }
                try { nullInitial.with(v -> 1); } catch (Throwable t) { thrown[2] = t; }
            }).join();
            assertInstanceOf(IllegalStateException.class, thrown[0], "returning the value itself must be refused");
            assertInstanceOf(NullPointerException.class, thrown[1]);
            assertInstanceOf(NullPointerException.class, thrown[2]);
            SchedulingPolicyTest.waitUntil(() -> scheduler.pool().boundFiberCount() == 0);
        }
    }
}
