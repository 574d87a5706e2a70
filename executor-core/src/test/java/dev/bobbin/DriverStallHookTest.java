package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CarrierDriver#carrierStalled()}: the monitor tells the driver of a carrier that has run one fiber
 * for a time slice, repeatedly while it lasts, and tells no other driver; only under WORK_STEALING with
 * stall protection on.
 */
class DriverStallHookTest {
    private static final long HOG_MILLIS = 300;

    /** Runs a hog on carrier 0 of a two-carrier scheduler; returns how often each driver was told. */
    private static long[] hog(SchedulingPolicy policy, Duration stallThreshold) throws Exception {
        AtomicLongArray told = new AtomicLongArray(4);
        CarrierDriverFactory parking = CarrierDriverFactory.parking();
        CarrierDriverFactory counting = carrier -> {
            CarrierDriver d = parking.open(carrier);
            int index = carrier.carrierIndex();
            return new CarrierDriver() {
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public boolean spinsWhenIdle() { return d.spinsWhenIdle(); }
                @Override public void close() { d.close(); }
                @Override public void carrierStalled() { told.incrementAndGet(index); }
            };
        };
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("stall-hook-" + policy)
                .parallelism(2).policy(policy).stallThreshold(stallThreshold).maxSpareCarriers(0)
                .driverFactory(counting).build())) {
            CountDownLatch done = new CountDownLatch(1);
            AtomicBoolean release = new AtomicBoolean();
            scheduler.startOn(0, () -> {
                StallProtectionTest.spinUntilReleased(release, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOG_MILLIS));
                done.countDown();
            });
            assertTrue(done.await(30, TimeUnit.SECONDS));
        }
        return new long[] {told.get(0), told.get(1)};
    }

    @Test
    void theStalledCarriersDriverIsToldWhileTheStallLasts() throws Exception {
        long[] told = hog(SchedulingPolicy.WORK_STEALING, Duration.ofMillis(100));
        assertTrue(told[0] >= 2, () -> "carrier 0's driver told " + told[0] + " times");
        assertEquals(0, told[1], "carrier 1 was not stalled");
    }

    @Test
    void noDriverIsToldWithStallProtectionOffOrUnderThreadPerCore() throws Exception {
        assertArrayEquals(new long[] {0, 0}, hog(SchedulingPolicy.WORK_STEALING, Duration.ZERO));
        assertArrayEquals(new long[] {0, 0}, hog(SchedulingPolicy.THREAD_PER_CORE, Duration.ofMillis(100)));
    }
}
