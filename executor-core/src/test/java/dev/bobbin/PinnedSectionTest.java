package dev.bobbin;

import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.PinnedSection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link PinnedSection}: a fiber that contends a monitor inside a pinned section blocks its carrier
 * instead of unmounting, as the I/O drivers need when a fiber wakes another carrier's NIO loop (the
 * selector's wakeup lock is taken by the selecting carrier too). One carrier, no spares, no stall
 * protection: while the test's thread holds the monitor, a second fiber bound to that carrier can run only
 * if the first one left it. The unpinned twin leaves it and is caught by the same check.
 */
class PinnedSectionTest {
    /** How long the second fiber is given to run while the monitor is held; the unpinned twin needs it. */
    private static final long WINDOW_MILLIS = 2_000;

    @ParameterizedTest(name = "pinned={0}")
    @ValueSource(booleans = {true, false})                // false: the broken twin, an unpinned section
    void aFiberContendingAMonitorInAPinnedSectionKeepsItsCarrier(boolean pinned) throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("pinned-" + pinned)
                .parallelism(1).maxSpareCarriers(0).stallThreshold(Duration.ZERO).build())) {
            Object monitor = new Object();
            List<String> order = new CopyOnWriteArrayList<>();
            CountDownLatch otherRan = new CountDownLatch(1);
            Thread contender;
            boolean ranWhileHeld;
            synchronized (monitor) {
                contender = scheduler.startOn(0, () -> {
                    Runnable enter = () -> {
                        synchronized (monitor) {
                            order.add("contender");
                        }
                    };
                    if (pinned) PinnedSection.run(enter);
                    else enter.run();
                });
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (contender.getState() != Thread.State.BLOCKED && System.nanoTime() < until) Thread.sleep(1);
                assertEquals(Thread.State.BLOCKED, contender.getState(), "the fiber never contended the monitor");
                scheduler.startOn(0, () -> {
                    order.add("other");
                    otherRan.countDown();
                });
                ranWhileHeld = otherRan.await(WINDOW_MILLIS, TimeUnit.MILLISECONDS);
            }
            assertTrue(contender.join(Duration.ofSeconds(10)), "the contender never got the monitor");
            assertTrue(otherRan.await(10, TimeUnit.SECONDS), "the other fiber never ran");
            if (pinned) {
                assertFalse(ranWhileHeld, "another fiber ran on the carrier of a fiber pinned while it contended a monitor");
                assertEquals(List.of("contender", "other"), order);
            } else {
                assertTrue(ranWhileHeld, "the twin: an unpinned fiber contending a monitor should leave its carrier");
                assertEquals(List.of("other", "contender"), order);
            }
        }
    }

    /**
     * The scheduler's carrier class installs its pinning and carrier lookup; nobody else can, before or
     * after (an install that came first would make the carrier class fail to initialize, and with it every
     * scheduler), and the scheduler works on.
     */
    @Test
    void onlyTheSchedulerInstallsItsPinningAndLookup() throws Exception {
        assertThrows(IllegalCallerException.class, () -> PinnedSection.install(Runnable::run));
        assertThrows(IllegalCallerException.class, () -> CarrierContext.installLookup(() -> null));
        assertThrows(NullPointerException.class, () -> PinnedSection.install(null));
        assertThrows(NullPointerException.class, () -> CarrierContext.installLookup(null));
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("pinned-once").parallelism(1).build())) {
            int[] index = {-1};
            s.start(() -> index[0] = CarrierContext.current().carrierIndex()).join();
            assertEquals(0, index[0], "the scheduler's lookup answers on its carrier");
        }
        assertThrows(IllegalCallerException.class, () -> PinnedSection.install(Runnable::run));
        assertThrows(IllegalCallerException.class, () -> CarrierContext.installLookup(() -> null));
    }

    @Test
    void aPlatformThreadRunsTheSectionAsItIs() {
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        PinnedSection.run(() -> ranOn.set(Thread.currentThread()));
        assertSame(Thread.currentThread(), ranOn.get());
        assertThrows(NullPointerException.class, () -> PinnedSection.run(null));
    }

    @Test
    void aFailingSectionUnpinsItsFiber() throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("pinned-failing")
                .parallelism(1).maxSpareCarriers(0).stallThreshold(Duration.ZERO).build())) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            CountDownLatch parked = new CountDownLatch(1);
            Thread fiber = scheduler.start(() -> {
                try {
                    PinnedSection.run(() -> { throw new IllegalStateException("boom"); });
                } catch (IllegalStateException e) {
                    thrown.set(e);
                }
                parked.countDown();
                java.util.concurrent.locks.LockSupport.park(); // unpinned again: it unmounts, the carrier is free
            });
            assertTrue(parked.await(10, TimeUnit.SECONDS));
            assertEquals("boom", thrown.get().getMessage());
            CountDownLatch next = new CountDownLatch(1);
            scheduler.start(next::countDown);
            assertTrue(next.await(10, TimeUnit.SECONDS), "a fiber left pinned by a failing section holds its carrier");
            java.util.concurrent.locks.LockSupport.unpark(fiber);
            assertTrue(fiber.join(Duration.ofSeconds(10)));
        }
    }
}
