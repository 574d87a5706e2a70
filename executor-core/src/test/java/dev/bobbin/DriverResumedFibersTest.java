package dev.bobbin;

import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fibers that a carrier's driver resumes while the carrier waits in it (an I/O completion reaped inside
 * {@code park}) are queued on that carrier without waking another one, and are never left behind: not
 * while the scheduler runs, and not while it shuts down.
 */
class DriverResumedFibersTest {

    private static FiberScheduler scheduler(SchedulingPolicy policy, List<CompletingDriver> drivers) {
        CarrierDriverFactory f = c -> {
            CompletingDriver d = new CompletingDriver(c);
            drivers.add(d);
            return d;
        };
        return FiberScheduler.create(SchedulerConfig.builder().name("resume-" + policy).parallelism(2)
                .policy(policy).driverFactory(f).build());
    }

    @Test
    @SuppressWarnings("removal")   // the deprecated alias, kept for one release, must still answer
    void deprecatedCurrentCarrierDriverIsTheCarrierContextsDriver() throws Exception {
        List<CompletingDriver> drivers = new CopyOnWriteArrayList<>();
        try (FiberScheduler s = scheduler(SchedulingPolicy.WORK_STEALING, drivers)) {
            AtomicReference<Object> alias = new AtomicReference<>(), context = new AtomicReference<>();
            Thread f = s.start(() -> {
                alias.set(FiberScheduler.currentCarrierDriver());
                context.set(CarrierContext.current().driver());
            });
            assertTrue(f.join(Duration.ofSeconds(10)));
            assertNotNull(alias.get());
            assertTrue(drivers.contains(alias.get()), "a driver of this scheduler: " + alias.get());
            assertEquals(context.get(), alias.get());
            assertNull(FiberScheduler.currentCarrierDriver(), "off a carrier");
        }
    }

    /** Starts a fiber that parks after recording its carrier's driver; returns once it is parked. */
    private static Thread parkedFiber(FiberScheduler s, AtomicReference<CompletingDriver> home, AtomicInteger runs)
            throws InterruptedException {
        Thread f = s.start(() -> {
            home.set((CompletingDriver) CarrierContext.current().driver());
            while (runs.get() == 0) LockSupport.park();
            runs.incrementAndGet();
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((home.get() == null || f.getState() != Thread.State.WAITING) && System.nanoTime() < deadline) Thread.sleep(1);
        assertNotNull(home.get(), "the fiber ran");
        return f;
    }

    private static void awaitBothParked(List<CompletingDriver> drivers) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(drivers.size() == 2 && drivers.get(0).inPark && drivers.get(1).inPark) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        Thread.sleep(20);   // settle: both carriers blocked in their driver
    }

    @ParameterizedTest
    @EnumSource(value = SchedulingPolicy.class, names = {"WORK_STEALING", "THREAD_PER_CORE"})
    @Timeout(30)
    void aFiberResumedInsideParkRunsOnItsCarrierAndWakesNoOther(SchedulingPolicy policy) throws Exception {
        List<CompletingDriver> drivers = new CopyOnWriteArrayList<>();
        try (FiberScheduler s = scheduler(policy, drivers)) {
            AtomicReference<CompletingDriver> home = new AtomicReference<>();
            AtomicInteger runs = new AtomicInteger();
            Thread f = parkedFiber(s, home, runs);
            awaitBothParked(drivers);
            CompletingDriver other = drivers.get(0) == home.get() ? drivers.get(1) : drivers.get(0);
            int otherWakeups = other.wakeups.get();
            for (int i = 0; i < 20; i++) {   // each round: the completion resumes the fiber inside park
                if (i > 0) awaitBothParked(drivers);
                if (i == 19) runs.incrementAndGet();   // the last completion lets the fiber finish
                home.get().complete(() -> LockSupport.unpark(f));
            }
            assertTrue(f.join(Duration.ofSeconds(10)), "the resumed fiber finished");
            assertEquals(2, runs.get());
            assertEquals(otherWakeups, other.wakeups.get(),
                    "a fiber resumed by its carrier's own driver must not wake the other carrier");
        }
    }

    @ParameterizedTest
    @EnumSource(value = SchedulingPolicy.class, names = {"WORK_STEALING", "THREAD_PER_CORE"})
    @Timeout(30)
    void aFiberResumedInsideParkDuringShutdownStillRuns(SchedulingPolicy policy) throws Exception {
        List<CompletingDriver> drivers = new CopyOnWriteArrayList<>();
        FiberScheduler s = scheduler(policy, drivers);
        AtomicReference<CompletingDriver> home = new AtomicReference<>();
        AtomicInteger runs = new AtomicInteger();
        Thread f = parkedFiber(s, home, runs);
        s.shutdown();                      // carriers now park with the shutdown timeout
        awaitBothParked(drivers);
        runs.incrementAndGet();
        home.get().complete(() -> LockSupport.unpark(f));
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "the fiber resumed during shutdown ran and the scheduler ended");
        assertEquals(2, runs.get());
    }

    @Test
    @Timeout(30)
    void manyResumptionsInsideParkAreAllRun() throws Exception {
        List<CompletingDriver> drivers = new CopyOnWriteArrayList<>();
        try (FiberScheduler s = scheduler(SchedulingPolicy.WORK_STEALING, drivers)) {
            int n = 600;
            Thread[] fibers = new Thread[n];
            @SuppressWarnings({"unchecked", "rawtypes"}) AtomicReference<CompletingDriver>[] homes = new AtomicReference[n];
            AtomicInteger done = new AtomicInteger();
            AtomicInteger go = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                AtomicReference<CompletingDriver> h = homes[i] = new AtomicReference<>();
                fibers[i] = s.start(() -> {
                    h.set((CompletingDriver) CarrierContext.current().driver());
                    while (go.get() == 0) LockSupport.park();
                    done.incrementAndGet();
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (int i = 0; i < n; i++) {
                while ((homes[i].get() == null || fibers[i].getState() != Thread.State.WAITING) && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
            }
            awaitBothParked(drivers);
            go.set(1);
            for (int i = 0; i < n; i++) {
                Thread t = fibers[i];
                homes[i].get().complete(() -> LockSupport.unpark(t));   // more than a ring holds (256) on a carrier
            }
            for (Thread t : fibers) assertTrue(t.join(Duration.ofSeconds(10)), "every resumed fiber finished");
            assertEquals(n, done.get());
        }
    }
}
