package dev.bobbin;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber bound to a carrier (startOn) keeps running while that carrier's ring never empties and outside
 * submissions keep the injection queue full: the carrier's periodic turn does not always go to the
 * injection queue first.
 */
@Timeout(120)
class BoundFiberFairnessTest {

    @ParameterizedTest
    @EnumSource(SchedulingPolicy.class)
    void aBoundFiberRunsBesideAFullRingAndAStreamOfOutsideSubmissions(SchedulingPolicy policy) throws Exception {
        SchedulerConfig.Builder b = SchedulerConfig.builder().name("bound-fairness").policy(policy).parallelism(1);
        if (policy == SchedulingPolicy.WORK_STEALING) b.maxSpareCarriers(0);
        try (FiberScheduler s = FiberScheduler.create(b.build())) {
            AtomicBoolean run = new AtomicBoolean(true);
            for (int i = 0; i < 16; i++) {
                s.start(() -> {                               // the ring never empties
                    while (run.get()) Thread.yield();
                });
            }
            AtomicInteger pending = new AtomicInteger();
            AtomicInteger outsideDone = new AtomicInteger();
            Thread producer = Thread.ofPlatform().start(() -> {   // nor does the injection queue
                while (run.get()) {
                    if (pending.get() < 2_000) {
                        pending.incrementAndGet();
                        s.start(() -> {
                            pending.decrementAndGet();
                            outsideDone.incrementAndGet();
                        });
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
            AtomicInteger boundTurns = new AtomicInteger();
            s.startOn(0, () -> {
                while (run.get()) {
                    boundTurns.incrementAndGet();
                    Thread.yield();
                }
            });
            // counted in turns, not time: by the time 5,000 outside submissions ran, the bound fiber had as
            // many chances; with the injection queue always first it gets none while that queue is full
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (outsideDone.get() < 5_000 && System.nanoTime() < deadline) Thread.sleep(5);
            int outside = outsideDone.get(), bound = boundTurns.get();
            run.set(false);
            producer.join();
            assertTrue(outside >= 5_000, policy + ": only " + outside + " outside submissions ran in 60 s");
            assertTrue(bound >= outside / 100, policy + ": the bound fiber took " + bound + " turns while "
                    + outside + " outside submissions ran");
        }
    }
}
