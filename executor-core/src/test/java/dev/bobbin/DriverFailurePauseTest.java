package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Carrier 0's driver keeps failing in park() (a broken I/O backend); its park and wakeup work as an
 * I/O driver's do (an eventfd, not LockSupport). Carrier 1 is healthy. A fiber started from outside must
 * not wait for carrier 0's failure pause while carrier 1 sleeps.
 */
@Timeout(120)
class DriverFailurePauseTest {

    private static CarrierDriverFactory failingParkOn0(List<Throwable> errors) {
        return ctx -> {
            if (ctx.carrierIndex() != 0) return CarrierDriverFactory.parking().open(ctx);
            Semaphore wake = new Semaphore(0);
            return new CarrierDriver() {
                @Override public int poll() { return 0; }
                @Override public void park(long timeoutNanos) {
                    wake.drainPermits();                             // an eventfd read, say, that then fails
                    throw new IllegalStateException("park failed");
                }
                @Override public void wakeup() { wake.release(); }
                @Override public void close() { }
            };
        };
    }

    @Test
    void aCarrierPausedAfterADriverFailureDoesNotDelayOtherCarriersWork() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("pause-searching").parallelism(2)
                .maxSpareCarriers(0).driverFactory(failingParkOn0(errors)).errorHandler((t, e) -> errors.add(e)).build());
        try {
            long worst = 0;
            for (int i = 0; i < 200 && worst < TimeUnit.MILLISECONDS.toNanos(200); i++) {
                Thread.sleep(i % 7);                                 // carriers go back to park, at varying moments
                long t0 = System.nanoTime();
                long[] ranAt = new long[2];
                Thread a = s.start(() -> ranAt[0] = System.nanoTime());
                Thread b = s.start(() -> ranAt[1] = System.nanoTime());
                assertTrue(a.join(Duration.ofSeconds(10)) && b.join(Duration.ofSeconds(10)), "never ran: " + s.stats());
                worst = Math.max(worst, Math.max(ranAt[0], ranAt[1]) - t0);
            }
            assertFalse(errors.isEmpty(), "carrier 0's driver failed");
            assertTrue(worst < TimeUnit.MILLISECONDS.toNanos(200), "a fiber started while carrier 1 slept waited "
                    + TimeUnit.NANOSECONDS.toMillis(worst) + " ms for carrier 0's failure pause (" + errors.size() + " failures)");
        } finally {
            s.shutdownNow();
            assertTrue(s.awaitTermination(Duration.ofSeconds(20)));
        }
    }
}
