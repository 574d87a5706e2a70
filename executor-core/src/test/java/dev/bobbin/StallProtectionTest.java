package dev.bobbin;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber that never yields (a CPU loop, or a read that blocks its carrier) must not stall the rest.
 * Bound: with one carrier stalled, 1,000 other fibers complete within {@link #PROGRESS_BOUND_MILLIS}
 * (a correctness bound with generous slack: the stall threshold is 50 ms).
 */
@Tag("reliability")
@Timeout(60)
class StallProtectionTest {
    static final long PROGRESS_BOUND_MILLIS = 5_000;
    static final int OTHERS = 1_000;

    private static SchedulerConfig.Builder config(String name, int parallelism) {
        return SchedulerConfig.builder().name(name).parallelism(parallelism).stallThreshold(Duration.ofMillis(50));
    }

    /** Spins until released (or a safety deadline), without any blocking point. */
    static void spinUntilReleased(AtomicBoolean release) {
        spinUntilReleased(release, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
    }

    /** Spins until released or until {@code deadline} (System.nanoTime), without any blocking point. */
    static void spinUntilReleased(AtomicBoolean release, long deadline) {
        long x = 0;
        while (!release.get() && System.nanoTime() < deadline) x += x ^ 31;
        if (x == 42) System.out.print("");
    }

    /** Starts {@link #OTHERS} fibers from outside, each with a blocking point; returns their latch. */
    private static CountDownLatch startOthers(FiberScheduler scheduler) {
        CountDownLatch done = new CountDownLatch(OTHERS);
        for (int i = 0; i < OTHERS; i++) {
            scheduler.start(() -> {
                Thread.yield();
                LockSupport.parkNanos(10_000);
                done.countDown();
            });
        }
        return done;
    }

    @Test
    void aCpuHogOnTheOnlyCarrierDoesNotStallOthers() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        try (Recording recording = new Recording()) {
            recording.enable("dev.bobbin.CarrierStall");
            recording.start();
            try (FiberScheduler scheduler = FiberScheduler.create(config("hog", 1).maxSpareCarriers(1).build())) {
                CountDownLatch hogging = new CountDownLatch(1);
                Thread hog = scheduler.start(() -> {
                    hogging.countDown();
                    spinUntilReleased(release);
                });
                hogging.await();
                CountDownLatch others = startOthers(scheduler);
                boolean progressed = others.await(PROGRESS_BOUND_MILLIS, TimeUnit.MILLISECONDS);
                boolean hogStillRunning = hog.isAlive();
                release.set(true);
                hog.join();
                assertTrue(progressed, "1,000 fibers did not complete within the bound while one fiber hogged the only carrier");
                assertTrue(hogStillRunning, "the hog ended early; the test proves nothing");
                SchedulerStats stats = scheduler.stats();
                assertEquals(1, stats.carrierStalls(), "one stall, reported once");
                assertTrue(stats.spareActivations() >= 1);
                SchedulingPolicyTest.waitUntil(() -> scheduler.stats().activeSpareCarriers() == 0); // spare retires
                SchedulingPolicyTest.waitUntil(() -> scheduler.pool().monitor.reportsDone() == 1);  // logged, committed
            }
            recording.stop();
            Path file = Files.createTempFile("bobbin-stall", ".jfr");
            try {
                recording.dump(file);
                List<RecordedEvent> events = RecordingFile.readAllEvents(file);
                assertEquals(1, events.size(), "one CarrierStall event");
                RecordedEvent e = events.getFirst();
                assertEquals("hog", e.getString("scheduler"));
                assertTrue(e.getString("fiberStack").contains("spinUntilReleased"), e.getString("fiberStack"));
                assertTrue(e.getLong("stalledFor") >= 50);
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    @Test
    void withoutStallProtectionTheSameHogStallsEveryone() throws Exception {
        // The twin of the test above: same hog, protection off: nothing else runs while it spins.
        AtomicBoolean release = new AtomicBoolean();
        SchedulerConfig off = config("hog-off", 1).stallThreshold(Duration.ZERO).maxSpareCarriers(1).build();
        try (FiberScheduler scheduler = FiberScheduler.create(off)) {
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = scheduler.start(() -> {
                hogging.countDown();
                spinUntilReleased(release);
            });
            hogging.await();
            CountDownLatch others = startOthers(scheduler);
            assertFalse(others.await(300, TimeUnit.MILLISECONDS), "fibers ran although the only carrier was hogged");
            assertEquals(OTHERS, others.getCount());
            release.set(true);
            hog.join();
            assertTrue(others.await(10, TimeUnit.SECONDS));
            assertEquals(0, scheduler.stats().carrierStalls());
        }
    }

    @Test
    void aFiberBlockedInAFileReadDoesNotStallOthers(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor(), "mkfifo failed");
        try (FiberScheduler scheduler = FiberScheduler.create(config("fileread", 1).maxSpareCarriers(1).build())) {
            int[] read = {-2};
            Thread reader = scheduler.start(() -> {
                try (FileInputStream in = new FileInputStream(fifo.toFile())) {   // blocks its carrier until a writer opens
                    read[0] = in.read();                                       // then until it writes
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            SchedulingPolicyTest.waitUntil(() -> scheduler.stats().carrierStalls() == 1); // reported once the reader is stuck
            CountDownLatch others = startOthers(scheduler);
            boolean progressed = others.await(PROGRESS_BOUND_MILLIS, TimeUnit.MILLISECONDS);
            boolean readerStillBlocked = reader.isAlive();
            try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                out.write(7);
            }
            reader.join();
            assertTrue(progressed, "1,000 fibers did not complete within the bound while one fiber blocked in a file read");
            assertTrue(readerStillBlocked, "the read returned early; the test proves nothing");
            assertEquals(7, read[0]);
            assertEquals(1, scheduler.stats().carrierStalls());
        }
    }

    @Test
    void queuedFibersOfAStalledCarrierRunElsewhere() throws Exception {
        // Two carriers; a hog on carrier 0 starts fibers that land in carrier 0's own queue (next slot and
        // ring). They must run on carrier 1 (by stealing, and by the monitor's hand-off once stalled).
        AtomicBoolean release = new AtomicBoolean();
        try (FiberScheduler scheduler = FiberScheduler.create(config("handoff", 2).maxSpareCarriers(0).build())) {
            CountDownLatch done = new CountDownLatch(100);
            AtomicInteger onHogCarrier = new AtomicInteger();
            Thread hog = scheduler.startOn(0, () -> {
                for (int i = 0; i < 100; i++) {
                    Thread.ofVirtual().start(() -> {
                        if (FiberScheduler.currentCarrierIndex() == 0) onHogCarrier.incrementAndGet();
                        done.countDown();
                    });
                }
                spinUntilReleased(release);
            });
            boolean progressed = done.await(PROGRESS_BOUND_MILLIS, TimeUnit.MILLISECONDS);
            boolean hogStillRunning = hog.isAlive();
            release.set(true);
            hog.join();
            assertTrue(progressed, "fibers queued behind a hog did not run elsewhere");
            assertTrue(hogStillRunning);
            assertEquals(0, onHogCarrier.get());
        }
    }

    @Test
    void boundFibersAreNeverHandedOff() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        try (FiberScheduler scheduler = FiberScheduler.create(config("bound-stall", 2).build())) {
            AtomicInteger wrongCarrier = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(1);
            List<Thread> bound = new ArrayList<>();
            Thread hog = scheduler.startOn(0, () -> {
                for (int i = 0; i < 50; i++) {
                    bound.add(scheduler.startLocal(() -> {
                        if (FiberScheduler.currentCarrierIndex() != 0) wrongCarrier.incrementAndGet();
                    }));
                }
                started.countDown();
                spinUntilReleased(release);
            });
            started.await();
            SchedulingPolicyTest.waitUntil(() -> scheduler.stats().carrierStalls() == 1);
            Thread.sleep(100);                      // several monitor samples while stalled
            assertTrue(bound.stream().allMatch(Thread::isAlive), "a bound fiber ran while its carrier was stalled");
            release.set(true);
            hog.join();
            for (Thread t : bound) t.join();
            assertEquals(0, wrongCarrier.get());
        }
    }

    @Test
    void threadPerCoreRedealsOnlyFibersThatNeverRan() throws Exception {
        SchedulerConfig cfg = config("tpc-stall", 2).policy(SchedulingPolicy.THREAD_PER_CORE).build();
        try (FiberScheduler scheduler = FiberScheduler.create(cfg)) {
            // fibers that have run on carrier 0 and wait there
            int waiting = 10;
            CountDownLatch parked = new CountDownLatch(waiting);
            List<Thread> started = new ArrayList<>();
            AtomicInteger startedMoved = new AtomicInteger();
            for (int i = 0; i < waiting; i++) {
                started.add(scheduler.startOn(0, () -> {
                    parked.countDown();
                    LockSupport.park();
                    if (FiberScheduler.currentCarrierIndex() != 0) startedMoved.incrementAndGet();
                }));
            }
            parked.await();
            AtomicBoolean release = new AtomicBoolean();
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = scheduler.startOn(0, () -> {
                hogging.countDown();
                spinUntilReleased(release);
            });
            hogging.await();
            // fibers bound to carrier 0 by the caller, queued behind the hog: promised that carrier, never re-dealt
            AtomicInteger pinnedMoved = new AtomicInteger();
            List<Thread> pinned = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                pinned.add(scheduler.startOn(0, () -> {
                    if (FiberScheduler.currentCarrierIndex() != 0) pinnedMoved.incrementAndGet();
                }));
            }
            for (Thread t : started) LockSupport.unpark(t);      // runnable again, but only on carrier 0
            CountDownLatch fresh = new CountDownLatch(100);       // dealt round robin: half to the hogged carrier
            AtomicInteger ranOnHogCarrier = new AtomicInteger();
            for (int i = 0; i < 100; i++) {
                scheduler.start(() -> {
                    if (FiberScheduler.currentCarrierIndex() == 0) ranOnHogCarrier.incrementAndGet();
                    fresh.countDown();
                });
            }
            boolean progressed = fresh.await(PROGRESS_BOUND_MILLIS, TimeUnit.MILLISECONDS);
            boolean startedStillWaiting = started.stream().allMatch(Thread::isAlive);
            boolean hogStillRunning = hog.isAlive();
            release.set(true);
            hog.join();
            for (Thread t : started) t.join();
            for (Thread t : pinned) t.join();
            assertTrue(progressed, "fibers dealt to a stalled carrier before they ran were not dealt again");
            assertEquals(0, pinnedMoved.get(), "a fiber started with startOn(0, ...) ran on another carrier");
            assertTrue(hogStillRunning);
            assertEquals(0, ranOnHogCarrier.get());
            assertTrue(startedStillWaiting, "a started THREAD_PER_CORE fiber ran while its carrier was stalled");
            assertEquals(0, startedMoved.get(), "a started THREAD_PER_CORE fiber moved");
            assertEquals(1, scheduler.stats().carrierStalls());
        }
    }

    @Test
    void sparesStartAndRetireUnderRepeatedStalls() throws Exception {
        // Stress for the spare/retire path: every round stalls both carriers, floods the injection queue
        // and from-fiber spawns, then releases; nothing may be lost, and spares must retire in between.
        SchedulerConfig cfg = config("spares", 2).stallThreshold(Duration.ofMillis(20)).maxSpareCarriers(2).build();
        FiberScheduler scheduler = FiberScheduler.create(cfg);
        try {
            for (int round = 0; round < 8; round++) {
                AtomicBoolean release = new AtomicBoolean();
                CountDownLatch hogging = new CountDownLatch(2);
                Thread[] hogs = new Thread[2];
                for (int c = 0; c < 2; c++) {
                    hogs[c] = scheduler.startOn(c, () -> {
                        hogging.countDown();
                        spinUntilReleased(release);
                    });
                }
                hogging.await();
                int n = 300;
                CountDownLatch done = new CountDownLatch(2 * n);
                for (int i = 0; i < n; i++) {
                    scheduler.start(() -> {
                        LockSupport.parkNanos(20_000);
                        Thread.ofVirtual().start(() -> {       // spawned on whichever carrier (often a spare)
                            Thread.yield();
                            done.countDown();
                        });
                        done.countDown();
                    });
                }
                assertTrue(done.await(PROGRESS_BOUND_MILLIS, TimeUnit.MILLISECONDS),
                        "round " + round + ": fibers stuck behind stalled carriers, " + done.getCount() + " left");
                release.set(true);
                for (Thread h : hogs) h.join();
                if (round % 2 == 0) {
                    SchedulingPolicyTest.waitUntil(() -> scheduler.stats().activeSpareCarriers() == 0);
                }
            }
            SchedulerStats stats = scheduler.stats();
            assertTrue(stats.spareActivations() >= 1, "no spare ever started");
            assertTrue(stats.carrierStalls() >= 2);
            assertTrue(stats.activeSpareCarriers() <= 2);
            SchedulingPolicyTest.waitUntil(() -> scheduler.stats().liveFibers() == 0);
        } finally {
            scheduler.shutdown();
            assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)), "scheduler with spares did not terminate");
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().startsWith("spares-") && t.getName().contains("-carrier-") && t.isAlive(),
                    "carrier thread left running: " + t);
        }
    }

    @Test
    void configValidation() {
        SchedulerConfig.Builder b = SchedulerConfig.builder();
        assertThrows(NullPointerException.class, () -> b.stallThreshold(null));
        assertThrows(IllegalArgumentException.class, () -> b.stallThreshold(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.stallThreshold(Duration.ofNanos(10)));
        assertThrows(IllegalArgumentException.class, () -> b.stallThreshold(Duration.ofDays(2)));
        assertThrows(IllegalArgumentException.class, () -> b.maxSpareCarriers(-1));
        assertThrows(NullPointerException.class, () -> b.policy(null));
        assertThrows(NullPointerException.class, () -> b.placement(null));
        SchedulerConfig d = SchedulerConfig.builder().parallelism(3).build();
        assertEquals(SchedulingPolicy.WORK_STEALING, d.policy());
        assertEquals(3, d.maxSpareCarriers());
        assertEquals(Duration.ofMillis(100), d.stallThreshold());
        assertTrue(d.stallProtection());
        assertEquals(d, d.toBuilder().build());
        assertEquals(0, SchedulerConfig.builder().policy(SchedulingPolicy.THREAD_PER_CORE).build().maxSpareCarriers());
        assertFalse(SchedulerConfig.builder().stallThreshold(Duration.ZERO).build().stallProtection());
    }
}
