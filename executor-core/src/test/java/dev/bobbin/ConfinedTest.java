package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class ConfinedTest {

    private static FiberScheduler scheduler() {
        return FiberScheduler.create(SchedulerConfig.builder().name("confined").parallelism(2).build());
    }

    @Test
    void foreignAccessThrowsNamingOwnerAndIntruderAndTransferAllowsIt() throws Exception {
        try (FiberScheduler scheduler = scheduler()) {
            @SuppressWarnings({"unchecked", "rawtypes"}) Confined<List<Integer>>[] box = new Confined[1];
            CountDownLatch created = new CountDownLatch(1), intruded = new CountDownLatch(1);
            Throwable[] failures = new Throwable[5];
            Thread next = scheduler.ofVirtual().name("next").unstarted(() -> {
                try {
                    created.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                while (!box[0].isOwnedByCurrentThread()) Thread.yield();
                try {
                    box[0].use(l -> l.add(3));
                    assertEquals(List.of(1, 2, 3), box[0].get());   // the old owner's writes are visible
                } catch (Throwable t) {
                    failures[2] = t;
                }
            });
            Thread owner = scheduler.ofVirtual().name("owner").unstarted(() -> {
                box[0] = Confined.of(new ArrayList<>());
                box[0].use(l -> l.add(1));
                created.countDown();
                try {
                    intruded.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                box[0].use(l -> l.add(2));                          // still the owner after the intrusion
                box[0].transferTo(next);
                try { box[0].get(); } catch (Throwable t) { failures[3] = t; }   // no longer the owner
                try { box[0].transferTo(Thread.currentThread()); } catch (Throwable t) { failures[4] = t; }
            });
            Thread intruder = scheduler.ofVirtual().name("intruder").unstarted(() -> {
                try {
                    created.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                try { box[0].use(l -> l.add(-1)); } catch (Throwable t) { failures[0] = t; }
                try { box[0].transferTo(Thread.currentThread()); } catch (Throwable t) { failures[1] = t; }
                intruded.countDown();
            });
            next.start();
            owner.start();
            intruder.start();
            for (Thread t : List.of(intruder, owner, next)) t.join();
            WrongThreadException intrusion = assertInstanceOf(WrongThreadException.class, failures[0]);
            assertTrue(intrusion.getMessage().contains("'intruder'") && intrusion.getMessage().contains("'owner'"),
                    intrusion.getMessage());
            assertInstanceOf(WrongThreadException.class, failures[1], "only the owner may transfer");
            assertNull(failures[2], () -> "new owner failed: " + failures[2]);
            WrongThreadException locked = assertInstanceOf(WrongThreadException.class, failures[3]);
            assertTrue(locked.getMessage().contains("'next'"), locked.getMessage());
            assertInstanceOf(WrongThreadException.class, failures[4], "the old owner cannot take it back");
            assertThrows(WrongThreadException.class, () -> box[0].get(), "the test thread is a stranger too");
        }
    }

    @Test
    void confinementHoldsWhileTheOwnerMigrates() throws Exception {
        try (FiberScheduler scheduler = scheduler()) {
            Set<Integer> carriers = new HashSet<>();
            int[] sum = new int[1], iterations = new int[1];
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            List<Thread> load = new ArrayList<>();              // load first, so the owner gets stolen now and then
            for (int i = 0; i < 50; i++) {
                load.add(scheduler.start(() -> {
                    while (!stop.get()) Thread.yield();
                }));
            }
            Thread owner = scheduler.start(() -> {
                Confined<int[]> counter = Confined.of(new int[1]);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                int i = 0;
                for (; i < 2_000 || (carriers.size() < 2 && System.nanoTime() < deadline); i++) {
                    carriers.add(FiberScheduler.currentCarrierIndex());
                    counter.use(c -> c[0]++);
                    if (i % 2 == 0) Thread.yield();
                    else java.util.concurrent.locks.LockSupport.parkNanos(1_000); // resumed from outside: any carrier
                }
                iterations[0] = i;
                sum[0] = counter.apply(c -> c[0]);
            });
            owner.join();
            stop.set(true);
            for (Thread t : load) t.join();
            assertEquals(iterations[0], sum[0]);
            assertEquals(Set.of(0, 1), carriers, "the owner never migrated; the test proves nothing");
        }
    }

    @Test
    void handOffThroughAQueueWithReleaseAndClaimPublishesTheGraph() throws Exception {
        try (FiberScheduler scheduler = scheduler()) {
            BlockingQueue<Confined<int[]>> queue = new ArrayBlockingQueue<>(16);
            int items = 2_000, size = 64;
            long[] total = new long[1];
            Thread consumer = scheduler.start(() -> {
                try {
                    for (int i = 0; i < items; i++) {
                        Confined<int[]> c = queue.take();
                        assertTrue(c.claim());
                        total[0] += c.apply(a -> {
                            long s = 0;
                            for (int v : a) s += v;
                            return s;
                        });
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread producer = scheduler.start(() -> {
                try {
                    for (int i = 0; i < items; i++) {
                        Confined<int[]> c = Confined.of(new int[size]);
                        int v = i;
                        c.use(a -> java.util.Arrays.fill(a, v));   // plain writes
                        c.release();                                // publishes them to the claimer
                        assertThrows(WrongThreadException.class, c::get);
                        queue.put(c);
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            producer.join();
            consumer.join();
            assertEquals((long) size * items * (items - 1) / 2, total[0]);
        }
    }

    @Test
    void ownershipCannotMoveWhileTheOwnerIsInsideApplyOrUse() throws Exception {
        Confined<StringBuilder> c = Confined.of(new StringBuilder());
        Thread other = Thread.ofVirtual().unstarted(() -> { });
        assertThrows(IllegalStateException.class, () -> c.use(sb -> c.transferTo(other)));
        assertThrows(IllegalStateException.class, () -> c.apply(sb -> { c.release(); return sb; }));
        assertThrows(IllegalStateException.class, () -> c.use(sb -> c.apply(inner -> { c.release(); return inner; })));
        assertTrue(c.isOwnedByCurrentThread(), "still the owner after the refused moves");
        c.use(sb -> sb.append("still usable"));
        c.transferTo(other);                             // outside apply/use: allowed
        assertFalse(c.isOwnedByCurrentThread());
    }

    @Test
    void validatesArguments() {
        assertThrows(NullPointerException.class, () -> Confined.of(null));
        assertThrows(NullPointerException.class, () -> Confined.released(null));
        Confined<String> c = Confined.of("x");
        assertThrows(NullPointerException.class, () -> c.transferTo(null));
        assertThrows(NullPointerException.class, () -> c.apply(null));
        assertThrows(NullPointerException.class, () -> c.use(null));
        assertEquals("x", c.get());
        assertTrue(c.claim());                      // already the owner
        c.release();
        assertTrue(c.owner().isEmpty());
        WrongThreadException e = assertThrows(WrongThreadException.class, c::get);
        assertTrue(e.getMessage().contains("released"), e.getMessage());
        assertThrows(WrongThreadException.class, c::release);
        assertTrue(c.claim());
        assertEquals("x", c.get());
    }
}
