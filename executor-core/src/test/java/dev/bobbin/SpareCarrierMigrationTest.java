package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A work-stealing scheduler with one regular carrier still has spare carriers: a fiber that ran on a
 * spare while the carrier was stalled moves back at its next blocking point, so it "may move".
 */
@Timeout(60)
class SpareCarrierMigrationTest {

    @Test
    void anUnboundFiberOfAOneCarrierWorkStealingSchedulerMayMoveThroughASpare() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("one-carrier").parallelism(1)
                .stallThreshold(Duration.ofMillis(5)).build())) {
            assertTrue(s.config().maxSpareCarriers() > 0, "the default gives one spare");
            AtomicBoolean release = new AtomicBoolean();
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = s.start(() -> {                       // stalls carrier 0 until released
                hogging.countDown();
                while (!release.get()) Thread.onSpinWait();
            });
            hogging.await();
            CompletableFuture<String> seen = new CompletableFuture<>();
            s.start(() -> {                                    // runs on the spare the stall brings in
                int first = FiberScheduler.currentCarrierIndex();
                boolean mayMove = FiberScheduler.currentFiberMayMove();
                release.set(true);
                int now = first;
                for (int i = 0; i < 200 && now == first; i++) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        break;
                    }
                    now = FiberScheduler.currentCarrierIndex();
                }
                seen.complete("carrier " + first + " -> " + now + ", mayMove=" + mayMove);
            });
            String result = seen.get(30, TimeUnit.SECONDS);
            hog.join();
            assertTrue(result.startsWith("carrier 1 -> 0"), "expected the fiber to start on the spare and move: " + result);
            assertTrue(result.endsWith("mayMove=true"),
                    "currentFiberMayMove() said the fiber could not move, yet it moved: " + result);
        }
    }
}
