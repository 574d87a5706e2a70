package dev.bobbin.scheduler;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.spi.CarrierContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber woken by a fiber goes to its waker's next slot. When the waker keeps running instead of parking
 * (the JDK's {@code Phaser} spins 256 times before it parks), a parked peer carrier must be woken to take
 * the woken fiber, so the pair ends up on two carriers where the spin meets its partner
 * ({@link Carrier}'s {@code wakePeerForNext}). The broken twin switches those wake-ups off: the pair
 * then stays on one carrier for the whole run.
 */
class NextSlotPlacementTest {
    private static final int ROUNDS = 4_000;

    @Test
    void aPhaserPairStartedOnOneCarrierSpreadsToTwo() throws Exception {
        Result r = phaserPair("spread");
        assertEquals(2 * ROUNDS, r.arrivals, "every arrival of both parties");
        assertTrue(r.roundsOnTwoCarriers >= ROUNDS / 20, "the parties rarely ran on two carriers at once: " + r);
        assertTrue(r.lateSamples > 0, "no woken fiber was seen waiting behind a running waker: " + r);
        assertTrue(r.nextSlotSteals > 0, "no peer took a woken fiber from its waker's next slot: " + r);
    }

    @Test
    void brokenTwinWithoutPeerWakesKeepsThePairOnOneCarrier() throws Exception {
        Carrier.peerWakesForNextSlot = false;
        try {
            Result r = phaserPair("twin");
            assertEquals(2 * ROUNDS, r.arrivals, "every arrival of both parties");
            // a rare steal after the long grace (the owner descheduled by the OS) may spread one round
            assertTrue(r.roundsOnTwoCarriers < ROUNDS / 100, "without peer wake-ups the pair stays on one carrier: " + r);
            assertEquals(0, r.lateSamples, "the twin never samples: " + r);
        } finally {
            Carrier.peerWakesForNextSlot = true;
        }
    }

    /**
     * Starts are not woken fibers: an acceptor-like fiber that starts a fiber and keeps running for a
     * while before it yields leaves each new fiber waiting in its next slot longer than the lateness
     * limit, and that must not switch on peer wake-ups (they would spread an I/O server's fibers away
     * from the loop their sockets live on). Every started fiber still runs. Without the exclusion of
     * starts, the sampled ones are judged late (this test then fails on {@code lateSamples}).
     */
    @Test
    void aStarterThatKeepsRunningSwitchesOnNoPeerWakes() throws Exception {
        int starts = 4 * Tunables.NEXT_SLOT_SAMPLE_EVERY;
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("starts").parallelism(2).build())) {
            AtomicInteger ran = new AtomicInteger();
            AtomicReference<CarrierPool> pool = new AtomicReference<>();
            Thread starter = s.start(() -> {
                pool.set(((Carrier) JdkVirtualThreads.currentCarrier()).pool);
                for (int i = 0; i < starts; i++) {
                    Thread.ofVirtual().start(ran::incrementAndGet);   // to this carrier's next slot
                    long until = System.nanoTime() + 4 * Tunables.NEXT_SLOT_LATE_NANOS;
                    while (System.nanoTime() < until) Thread.onSpinWait();   // keeps running past the lateness limit
                    Thread.yield();                                   // then lets the started fiber run
                }
            });
            assertTrue(starter.join(Duration.ofSeconds(60)), "the starter did not finish");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ran.get() < starts && System.nanoTime() < deadline) Thread.sleep(1);
            assertEquals(starts, ran.get(), "every started fiber ran");
            long late = 0;
            for (Carrier c : pool.get().carriers) late += c.counters.get(CarrierCounters.LATE_NEXT_SLOTS);
            assertEquals(0, late, "a start judged late would switch on peer wake-ups");
        }
    }

    /** Stress: many spinning pairs, pairs that park at once and next-slot steals interleaved; all finish. */
    @Test
    void manyPairsOfEachKindAllFinish() throws Exception {
        int pairs = 8, rounds = 2_000;
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("pairs").parallelism(2).build())) {
            AtomicInteger done = new AtomicInteger();
            java.util.List<Thread> all = new java.util.ArrayList<>();
            for (int p = 0; p < pairs; p++) {
                Phaser phaser = new Phaser(2);
                java.util.concurrent.SynchronousQueue<Integer> q = new java.util.concurrent.SynchronousQueue<>();
                all.add(s.start(() -> {
                    for (int i = 0; i < rounds; i++) phaser.arriveAndAwaitAdvance();
                    done.incrementAndGet();
                }));
                all.add(s.start(() -> {
                    Thread peer = Thread.ofVirtual().start(() -> {  // started from a fiber: the next slot
                        for (int i = 0; i < rounds; i++) phaser.arriveAndAwaitAdvance();
                        try {
                            for (int i = 0; i < rounds; i++) q.put(i);
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        done.incrementAndGet();
                    });
                    try {
                        for (int i = 0; i < rounds; i++) assertEquals(i, q.take());
                        peer.join();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    done.incrementAndGet();
                }));
            }
            for (Thread t : all) assertTrue(t.join(Duration.ofSeconds(60)), "a pair did not finish");
            assertEquals(3 * pairs, done.get());
            assertEquals(0, s.stats().fibers().failed(), "no fiber failed");
        }
    }

    private record Result(int arrivals, int roundsOnTwoCarriers, long lateSamples, long nextSlotSteals) { }

    /**
     * Two fibers pass a {@code Phaser} of two parties {@link #ROUNDS} times. The first starts the second
     * once the other carrier is parked, so the second begins in the first's next slot on the same carrier.
     */
    private static Result phaserPair(String name) throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(2).build())) {
            Phaser phaser = new Phaser(2);
            AtomicReferenceArray<Integer> first = new AtomicReferenceArray<>(ROUNDS), second = new AtomicReferenceArray<>(ROUNDS);
            AtomicInteger arrivals = new AtomicInteger();
            AtomicReference<CarrierPool> pool = new AtomicReference<>();
            Thread a = s.start(() -> {
                pool.set(((Carrier) JdkVirtualThreads.currentCarrier()).pool);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (s.stats().idle().parked() < 1) {      // the other carrier sleeps: nothing spreads by chance
                    if (System.nanoTime() > deadline) throw new AssertionError("the other carrier never parked");
                    Thread.onSpinWait();
                }
                Thread b = Thread.ofVirtual().unstarted(() -> party(phaser, second, arrivals));
                b.start();                                     // to this carrier's next slot
                party(phaser, first, arrivals);
                try {
                    b.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            assertTrue(a.join(Duration.ofSeconds(60)), "the pair did not finish");
            int two = 0;
            for (int i = 0; i < ROUNDS; i++) {
                if (!first.get(i).equals(second.get(i))) two++;
            }
            long late = 0, steals = 0;
            for (Carrier c : pool.get().carriers) {
                late += c.counters.get(CarrierCounters.LATE_NEXT_SLOTS);
                steals += c.counters.get(CarrierCounters.NEXT_SLOT_STEALS);
            }
            return new Result(arrivals.get(), two, late, steals);
        }
    }

    /** Arrives {@code ROUNDS} times, recording the carrier each round's advance was seen on. */
    private static void party(Phaser phaser, AtomicReferenceArray<Integer> carriers, AtomicInteger arrivals) {
        for (int i = 0; i < ROUNDS; i++) {
            phaser.arriveAndAwaitAdvance();
            arrivals.incrementAndGet();
            carriers.set(i, CarrierContext.current().carrierIndex());
        }
    }
}
