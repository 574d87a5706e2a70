package dev.bobbin;

import dev.bobbin.scheduler.Carrier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * THREAD_PER_CORE stall protection re-deals the unstarted fibers queued on a stalled carrier: it takes
 * every task out of the carrier's inbox and ring, moves the unstarted ones, and puts the others (fibers
 * pinned there with startOn) back. If the stall ends while the monitor holds those tasks, the carrier
 * finds nothing, parks, and the put-back must wake it: otherwise the pinned fibers wait in the inbox of a
 * sleeping carrier that nothing else will ever wake.
 */
@Timeout(120)
class ThreadPerCoreRedealWakeTest {
    private final Logger logger = Logger.getLogger("dev.bobbin");   // held: the JDK keeps loggers weakly
    private boolean previousUseParent;

    @BeforeEach
    void quiet() {                                   // a stall on a loaded machine may pass the WARNING threshold
        previousUseParent = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);
    }

    @AfterEach
    void restore() {
        logger.setUseParentHandlers(previousUseParent);
    }

    @Test
    void tasksPutBackAfterARedealWakeTheirCarrierWhenItParkedMeanwhile() throws Exception {
        int rounds = 10, unpinned = 4_000, pinned = 3;
        int lost = 0;
        for (int round = 0; round < rounds && lost == 0; round++) {
            SchedulerConfig cfg = SchedulerConfig.builder().name("tpc-redeal").parallelism(2)
                    .policy(SchedulingPolicy.THREAD_PER_CORE).stallThreshold(Duration.ofMillis(200)).build();
            FiberScheduler scheduler = FiberScheduler.create(cfg);
            try {
                Carrier c0 = scheduler.pool().carriers[0];
                AtomicBoolean armed = new AtomicBoolean();
                CountDownLatch hogging = new CountDownLatch(1);
                // hogs carrier 0 until the monitor has emptied its inbox (the re-deal began), then returns at once
                Thread hog = scheduler.startOn(0, () -> {
                    hogging.countDown();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while ((!armed.get() || !c0.inbox.isEmpty()) && System.nanoTime() < deadline) Thread.onSpinWait();
                });
                hogging.await();
                AtomicInteger ran = new AtomicInteger();
                for (int i = 0; i < 2 * unpinned; i++) scheduler.start(ran::incrementAndGet);  // half dealt to carrier 0
                CountDownLatch pinnedRan = new CountDownLatch(pinned);
                for (int i = 0; i < pinned; i++) scheduler.startOn(0, pinnedRan::countDown);  // never re-dealt
                armed.set(true);
                hog.join();
                if (!pinnedRan.await(5, TimeUnit.SECONDS)) {
                    lost = round + 1;
                    fail("round " + round + ": " + pinnedRan.getCount() + " fibers pinned to carrier 0 never ran after"
                            + " the stall ended; carrier 0 sleeping=" + c0.isSleeping() + ", its inbox holds "
                            + c0.inbox.size());
                }
            } finally {
                scheduler.shutdownNow();
                scheduler.close();
            }
        }
    }
}
