package dev.bobbin;

import dev.bobbin.scheduler.Carrier;
import dev.bobbin.scheduler.JdkVirtualThreads;
import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/** Configuration validation, shutdown and close semantics, and the carrier driver SPI. */
class LifecycleTest {

    @Test
    void configRejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.builder().parallelism(0));
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.builder().parallelism(-3));
        assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.builder().parallelism(SchedulerConfig.MAX_PARALLELISM + 1));
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.builder().name(" "));
        assertThrows(NullPointerException.class, () -> SchedulerConfig.builder().name(null));
        assertThrows(NullPointerException.class, () -> SchedulerConfig.builder().driverFactory(null));
        assertThrows(NullPointerException.class, () -> SchedulerConfig.builder().errorHandler(null));
        assertThrows(NullPointerException.class, () -> FiberScheduler.create(null));
        SchedulerConfig d = SchedulerConfig.defaults();
        assertEquals(Runtime.getRuntime().availableProcessors(), d.parallelism());
        assertEquals(d, d.toBuilder().build());
    }

    @Test
    void startRejectsNull() {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("nulls").parallelism(1).build())) {
            assertThrows(NullPointerException.class, () -> s.start(null));
            assertThrows(NullPointerException.class, () -> s.awaitTermination(null));
        }
    }

    @Test
    void shutdownRejectsNewFibersButLetsStartedOnesFinish() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("graceful").parallelism(2).build());
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            s.start(() -> {
                try {
                    release.await();              // parked while the scheduler shuts down
                    Thread.sleep(1);              // resumptions after shutdown still run
                    finished.incrementAndGet();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        s.shutdown();
        assertTrue(s.isShutdown());
        RejectedExecutionException e = assertThrows(RejectedExecutionException.class, () -> s.start(() -> { }));
        assertTrue(e.getMessage().contains("graceful") && e.getMessage().contains("shut down"), e.getMessage());
        assertFalse(s.awaitTermination(Duration.ofMillis(50)), "terminated with 100 fibers still parked");
        release.countDown();
        assertTrue(s.awaitTermination(Duration.ofSeconds(30)));
        assertTrue(s.isTerminated());
        assertEquals(100, finished.get());
        s.close(); // idempotent on a terminated scheduler
    }

    @Test
    void fibersOfAShutDownSchedulerCannotStartChildren() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("nochild").parallelism(1).build());
        CountDownLatch shutDown = new CountDownLatch(1);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        s.start(() -> {
            try {
                shutDown.await();
                Thread.ofVirtual().start(() -> { });
            } catch (Throwable t) {
                seen.set(t);
            }
        });
        s.shutdown();
        shutDown.countDown();
        s.close();
        assertInstanceOf(RejectedExecutionException.class, seen.get());
    }

    @Test
    @SuppressWarnings("try")   // closes a resource inside its try on purpose
    void closeFromOwnFiberIsRefusedInsteadOfDeadlocking() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("self").parallelism(1).build())) {
            AtomicReference<Throwable> seen = new AtomicReference<>();
            s.start(() -> {
                try {
                    s.close();
                } catch (Throwable t) {
                    seen.set(t);
                }
            }).join();
            assertInstanceOf(IllegalStateException.class, seen.get());
        }
    }

    @Test
    void closeKeepsWaitingWhenInterruptedAndRestoresTheStatus() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("interrupted").parallelism(1).build());
        s.start(() -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)));
        Thread.currentThread().interrupt();
        s.close();
        assertTrue(Thread.interrupted(), "interrupt status must be restored");
        assertTrue(s.isTerminated());
    }

    @Test
    void driverIsOpenedOnItsCarrierPolledAndWokenAndClosed() throws Exception {
        AtomicInteger opened = new AtomicInteger(), closed = new AtomicInteger(), polls = new AtomicInteger(),
                parks = new AtomicInteger(), wakeups = new AtomicInteger(), wrongThread = new AtomicInteger();
        CarrierDriverFactory factory = ctx -> {
            if (Thread.currentThread() != ctx.carrierThread() || !ctx.isCurrentCarrier()) wrongThread.incrementAndGet();
            opened.incrementAndGet();
            CarrierDriver parking = CarrierDriverFactory.parking().open(ctx);
            return new CarrierDriver() {
                public int poll() { polls.incrementAndGet(); return 0; }
                public void park(long t) { parks.incrementAndGet(); parking.park(t); }
                public void wakeup() { wakeups.incrementAndGet(); parking.wakeup(); }
                public void close() { closed.incrementAndGet(); }
            };
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("driver").parallelism(2)
                .driverFactory(factory).build());
        assertEquals(2, opened.get());
        AtomicReference<Boolean> fiberSeesCarrier = new AtomicReference<>();
        CountDownLatch gate = new CountDownLatch(1);
        Thread f = s.start(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
            CarrierContext ctx = (CarrierContext) JdkVirtualThreads.currentCarrier();
            fiberSeesCarrier.set(ctx.isCurrentCarrier());
        });
        Thread.sleep(50);                      // carriers go idle and park in the driver
        gate.countDown();                      // a wakeup through the driver
        f.join();
        s.close();
        assertEquals(0, wrongThread.get());
        assertEquals(2, closed.get());
        assertTrue(polls.get() > 0 && parks.get() > 0 && wakeups.get() > 0,
                "polls=" + polls + " parks=" + parks + " wakeups=" + wakeups);
        assertTrue(fiberSeesCarrier.get(), "a fiber mounted on a carrier must count as on that carrier");
    }

    @Test
    void failingDriverFailsCreateWithTheCause() {
        CarrierDriverFactory failing = ctx -> {
            throw new UnsupportedOperationException("no ring for carrier " + ctx.carrierIndex());
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () ->
                FiberScheduler.create(SchedulerConfig.builder().name("broken").parallelism(2).driverFactory(failing).build()));
        assertInstanceOf(UnsupportedOperationException.class, e.getCause());
        assertTrue(e.getMessage().contains("broken"), e.getMessage());
    }

    @Test
    void fiberResumedByTheDriverInsideParkRunsEvenWhileShuttingDown() throws Exception {
        // An I/O driver completes operations inside park(): the resumed fiber lands on the parked carrier's
        // own queue, and a carrier's own resubmission wakes no other carrier, so the parked carrier must
        // notice it, also when the scheduler is shutting down.
        java.util.concurrent.ConcurrentLinkedQueue<Thread> toResume = new java.util.concurrent.ConcurrentLinkedQueue<>();
        CarrierDriverFactory resumingDriver = ctx -> new CarrierDriver() {
            final CarrierDriver parking = CarrierDriverFactory.parking().open(ctx);
            public int poll() { return 0; }
            public void park(long timeout) {
                parking.park(timeout);
                Thread t;
                while ((t = toResume.poll()) != null) LockSupport.unpark(t);   // "completions", on the carrier
            }
            public void wakeup() { parking.wakeup(); }
            public void close() { }
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("resume").parallelism(2)
                .driverFactory(resumingDriver).build());
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean go = new java.util.concurrent.atomic.AtomicBoolean();
        Thread f = s.start(() -> {
            while (!go.get()) LockSupport.park();
            done.set(true);
        });
        while (f.getState() != Thread.State.WAITING) Thread.sleep(1);
        Thread.sleep(20);                                   // both carriers park
        s.shutdown();
        Thread.sleep(20);
        go.set(true);
        toResume.add(f);
        for (Carrier c : s.pool().carriers) c.wakeDriver();  // the driver resumes the fiber inside park
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "the resumed fiber was left in a parked carrier's queue");
        assertTrue(done.get());
    }

    @Test
    void awaitTerminationTakesAnyDurationAsWaitingThatLong() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("await-forever").parallelism(1).build());
        s.start(() -> { }).join();
        s.shutdown();
        assertTrue(s.awaitTermination(Duration.ofSeconds(Long.MAX_VALUE)), "no ArithmeticException: it saturates");
        assertTrue(s.awaitTermination(java.time.temporal.ChronoUnit.FOREVER.getDuration()));
        assertTrue(s.awaitTermination(Duration.ofSeconds(-1)), "a negative timeout does not wait");
    }

    /** Starts per starter thread and round: far more than the 0 to 2 ms before shutdownNow lets through. */
    private static final int MAX_STARTS_PER_ROUND = 20_000;

    /**
     * Stress for shutdownNow against starts made at the same moment from outside: a start accepted before
     * the shutdown whose fiber reached the live-fiber registry after the sweep passed it is still
     * interrupted, so every fiber, each waiting for an interrupt, ends and the scheduler terminates.
     */
    @Test
    void shutdownNowInterruptsAFiberStartedAsItSweeps() throws Exception {
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int round = 0; round < 40; round++) {
            FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("sweep-" + round).parallelism(2).build());
            // each fiber waits on its own: interrupted waiters leaving one shared latch cost time quadratic
            // in their number in the JDK's AQS (40,000 take about 17 s on JDK virtual threads too)
            java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            Runnable waiter = () -> {
                ran.incrementAndGet();
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException expected) {
                    // shutdownNow's
                }
            };
            Thread[] starters = new Thread[2];
            for (int i = 0; i < starters.length; i++) {
                starters[i] = Thread.ofPlatform().start(() -> {
                    try {
                        // bounded, so that a loaded machine, where shutdownNow comes late, builds no huge backlog
                        for (int n = 0; n < MAX_STARTS_PER_ROUND; n++) {
                            s.start(waiter);
                            accepted.incrementAndGet();
                        }
                    } catch (RejectedExecutionException shutDown) {
                        // done
                    }
                });
            }
            long until = System.nanoTime() + random.nextLong(0, 2_000_000);
            while (System.nanoTime() < until) Thread.onSpinWait();
            s.shutdownNow();
            try {
                for (Thread t : starters) t.join();
                // a fiber the sweep missed waits for its 60 s timeout: 30 s tells it from a slow machine
                assertTrue(s.awaitTermination(Duration.ofSeconds(30)), "round " + round + ": a fiber was left waiting: " + s.stats());
                // an accepted start the exiting carriers missed would leave the pool terminated and its fiber unrun
                assertEquals(accepted.get(), ran.get(), "round " + round + ": every accepted fiber ran before termination");
            } finally {
                s.close();
            }
        }
    }
}
