package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * No lost wakeup: millions of handoffs between fibers and between outside threads and fibers, each of
 * which would hang forever if one wakeup were lost (the test then fails on its deadline).
 */
class WakeupTest {

    @Test
    void twoMillionFiberToFiberHandoffs() throws Exception {
        // Two fibers take turns; each turn is one unpark of a parked fiber. A lost unpark hangs both.
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("pingpong").parallelism(2).build())) {
            int turnsEach = 1_000_000;
            AtomicLong turn = new AtomicLong();
            Thread[] fibers = new Thread[2];
            for (int k = 0; k < 2; k++) {
                int me = k;
                fibers[k] = scheduler.ofVirtual().unstarted(() -> {
                    for (int i = 0; i < turnsEach; i++) {
                        while (turn.get() % 2 != me) LockSupport.park();
                        turn.incrementAndGet();
                        LockSupport.unpark(fibers[1 - me]);
                    }
                });
            }
            fibers[0].start();
            fibers[1].start();
            assertTrue(fibers[0].join(java.time.Duration.ofMinutes(2)), "ping-pong stalled at turn " + turn.get());
            assertTrue(fibers[1].join(java.time.Duration.ofSeconds(10)), "ping-pong stalled at turn " + turn.get());
            assertEquals(2L * turnsEach, turn.get());
        }
    }

    @Test
    void synchronousQueueHandoffsBetweenFibers() throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("handoff").parallelism(2).build())) {
            int rounds = 50_000;
            SynchronousQueue<Integer> ping = new SynchronousQueue<>(), pong = new SynchronousQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong sum = new AtomicLong();
            Thread a = scheduler.start(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        ping.put(i);
                        sum.addAndGet(pong.take());
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            Thread b = scheduler.start(() -> {
                try {
                    for (int i = 0; i < rounds; i++) pong.put(ping.take() + 1);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            assertTrue(a.join(java.time.Duration.ofMinutes(1)), "handoff stalled: a wakeup was lost");
            assertTrue(b.join(java.time.Duration.ofSeconds(10)));
            assertNull(failure.get());
            assertEquals((long) rounds * (rounds + 1) / 2, sum.get());
        }
    }

    @Test
    void outsideThreadWakesParkedFibersWhileCarriersGoIdle() throws Exception {
        // Each round: the fiber parks, carriers run out of work and park, then a platform thread unparks
        // the fiber through the injection queue and waits for its answer. Exercises the idle protocol.
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("outside").parallelism(2).build())) {
            int rounds = 200_000;
            AtomicLong token = new AtomicLong();
            Thread main = Thread.currentThread();
            Thread fiber = scheduler.start(() -> {
                for (int i = 1; i <= rounds; i++) {
                    while (token.get() != 2L * i - 1) LockSupport.park();
                    token.set(2L * i);
                    LockSupport.unpark(main);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            for (int i = 1; i <= rounds; i++) {
                token.set(2L * i - 1);
                LockSupport.unpark(fiber);
                while (token.get() != 2L * i) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                    if (System.nanoTime() > deadline) fail("lost wakeup at round " + i);
                }
            }
            assertTrue(fiber.join(java.time.Duration.ofSeconds(10)));
        }
    }

    @Test
    void manyProducersWakingIdleCarriers() throws Exception {
        // Bursts from several platform threads while carriers are parked: every fiber must run.
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("bursts").parallelism(2).build())) {
            int producers = 4, perProducer = 50_000;
            AtomicLong ran = new AtomicLong();
            Thread[] threads = new Thread[producers];
            for (int p = 0; p < producers; p++) {
                threads[p] = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        scheduler.start(ran::incrementAndGet);
                        if (i % 1000 == 0) LockSupport.parkNanos(200_000); // let carriers go idle
                    }
                });
            }
            for (Thread t : threads) t.join();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (ran.get() < (long) producers * perProducer && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals((long) producers * perProducer, ran.get(), "fibers were left in a queue");
        }
    }
}
