package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class SpareExitStateTest {

    @Test
    void aSpareThatExitsAtShutdownIsNoLongerCountedInService() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare-exit").parallelism(1)
                .maxSpareCarriers(1).stallThreshold(Duration.ofMillis(5)).build());
        AtomicBoolean release = new AtomicBoolean();
        CountDownLatch hogging = new CountDownLatch(1);
        s.start(() -> {
            hogging.countDown();
            while (!release.get()) Thread.onSpinWait();
        });
        hogging.await();
        CountDownLatch onSpare = new CountDownLatch(1);
        s.start(() -> { if (FiberScheduler.currentCarrierIndex() == 1) onSpare.countDown(); });
        assertTrue(onSpare.await(30, TimeUnit.SECONDS), "no spare ran the fiber");
        assertEquals(1, s.stats().activeSpareCarriers());
        s.shutdown();
        release.set(true);
        assertTrue(s.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(0, s.stats().activeSpareCarriers(), "a terminated scheduler has no spare in service: " + s.stats());
    }

    @Test
    void aSpareWhoseRunCarrierFailsDoesNotKeepTheNextSpareFromStarting() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CarrierDriverFactory parking = CarrierDriverFactory.parking();
        CarrierDriverFactory firstSpareDies = ctx -> {
            CarrierDriver d = parking.open(ctx);
            if (ctx.carrierIndex() != 1) return d;
            return new CarrierDriver() {
                @Override public void runCarrier(Runnable dutyCycle) { throw new IllegalStateException("spare 1 dies"); }
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { d.close(); }
            };
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("spare-dies").parallelism(1)
                .maxSpareCarriers(2).stallThreshold(Duration.ofMillis(50)).driverFactory(firstSpareDies)
                .errorHandler((t, e) -> errors.add(e)).build());
        AtomicBoolean release = new AtomicBoolean();
        try {
            CountDownLatch hogging = new CountDownLatch(1);
            Thread hog = s.start(() -> {
                hogging.countDown();
                StallProtectionTest.spinUntilReleased(release, System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            });
            hogging.await();
            Thread behind = s.start(() -> { });              // waits in the injection queue: a spare must run it
            boolean ran = behind.join(Duration.ofSeconds(5));
            boolean hogStillRunning = hog.isAlive();
            release.set(true);
            hog.join();
            assertTrue(hogStillRunning, "the hog ended early; the test proves nothing");
            assertEquals(1, errors.size(), () -> "the dead spare is reported: " + errors);
            assertTrue(ran, "no spare ran the fiber waiting behind the stalled carrier: " + s.stats());
        } finally {
            release.set(true);
            s.shutdownNow();
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "did not terminate: " + s.stats());
        }
    }
}
