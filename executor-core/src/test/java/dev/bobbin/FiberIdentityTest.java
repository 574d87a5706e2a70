package dev.bobbin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/** A fiber keeps its thread identity and thread-local state while it moves between carriers. */
class FiberIdentityTest {
    private static final ThreadLocal<Object> LOCAL = new ThreadLocal<>();
    private static final InheritableThreadLocal<String> INHERITED = new InheritableThreadLocal<>();
    private static FiberScheduler scheduler;

    @BeforeAll
    static void start() {
        scheduler = FiberScheduler.create(SchedulerConfig.builder().name("identity").parallelism(2).build());
    }

    @AfterAll
    static void stop() {
        scheduler.close();
    }

    @Test
    void threadLocalsAndIdStableWhileObservedOnTwoCarriers() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Set<Integer> seenCarriers = ConcurrentHashMap.newKeySet();
        INHERITED.set("parent-value");
        try {
            Thread fiber = scheduler.start(() -> {
                try {
                    Object mine = new Object();
                    LOCAL.set(mine);
                    Thread self = Thread.currentThread();
                    long id = self.threadId();
                    assertTrue(self.isVirtual());
                    // Before each timed park, a short spinning child takes over this carrier; the park ends
                    // through the injection queue, which the other, idle carrier then serves: a migration.
                    for (int i = 0; i < 2_000 && seenCarriers.size() < 2; i++) {
                        seenCarriers.add(FiberScheduler.currentCarrierIndex());
                        scheduler.start(() -> spin(1_000_000));
                        if (i % 2 == 0) LockSupport.parkNanos(100_000); else Thread.yield();
                        assertSame(self, Thread.currentThread(), "currentThread changed");
                        assertEquals(id, Thread.currentThread().threadId(), "thread id changed");
                        assertSame(mine, LOCAL.get(), "ThreadLocal value changed");
                        assertEquals("parent-value", INHERITED.get(), "InheritableThreadLocal value changed");
                    }
                    seenCarriers.add(FiberScheduler.currentCarrierIndex());
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            fiber.join();
        } finally {
            INHERITED.remove();
        }
        if (failure.get() != null) throw new AssertionError(failure.get());
        assertFalse(seenCarriers.contains(-1), "fiber ran off a Bobbin carrier: " + seenCarriers);
        assertEquals(Set.of(0, 1), seenCarriers, "the fiber should have been observed on both carriers");
    }

    @Test
    void childFibersStartedWithPlainThreadOfVirtualLandOnTheSameScheduler() throws Exception {
        AtomicReference<Object> childScheduler = new AtomicReference<>();
        AtomicReference<Object> grandChildScheduler = new AtomicReference<>();
        Thread fiber = scheduler.start(() -> {
            try {
                Thread child = Thread.ofVirtual().start(() -> {
                    childScheduler.set(FiberScheduler.current().orElse(null));
                    try {
                        Thread.startVirtualThread(() ->
                                grandChildScheduler.set(FiberScheduler.current().orElse(null))).join();
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                child.join();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        fiber.join();
        assertSame(scheduler, childScheduler.get());
        assertSame(scheduler, grandChildScheduler.get());
    }

    @Test
    void plainVirtualThreadsOutsideAFiberStayOnTheJdkScheduler() throws Exception {
        AtomicReference<Object> seen = new AtomicReference<>("unset");
        Thread.ofVirtual().start(() -> seen.set(FiberScheduler.current().orElse(null))).join();
        assertNull(seen.get());
        assertEquals(-1, FiberScheduler.currentCarrierIndex());
    }

    @Test
    void fiberIsAVirtualThreadWithTheSchedulersName() throws Exception {
        AtomicReference<String> name = new AtomicReference<>();
        scheduler.start(() -> name.set(Thread.currentThread().getName())).join();
        assertTrue(name.get().startsWith("identity-fiber-"), name.get());
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
