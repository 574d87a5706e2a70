package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A scheduler whose every carrier stopped on an error (its driver's {@code runCarrier} failed) reports
 * itself terminated; like any terminated executor it then refuses new fibers with a
 * {@link RejectedExecutionException} instead of accepting fibers that no carrier will ever run.
 */
@Tag("reliability")
class StoppedCarriersTest {

    @Test
    void aSchedulerWhoseCarriersAllStoppedRefusesNewFibers() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CarrierDriverFactory failing = carrier -> {
            CarrierDriver d = CarrierDriverFactory.parking().open(carrier);
            return new CarrierDriver() {
                @Override public void runCarrier(Runnable dutyCycle) { throw new IllegalStateException("no context"); }
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { d.close(); }
            };
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("all-stopped").parallelism(1)
                .maxSpareCarriers(0).driverFactory(failing).errorHandler((t, e) -> errors.add(e)).build());
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "its only carrier stopped");
        Thread accepted = null;
        try {
            accepted = s.start(() -> { });
        } catch (RejectedExecutionException expected) {
            // refused: nothing is lost
        }
        if (accepted != null) {
            assertTrue(accepted.join(Duration.ofSeconds(5)), "a terminated scheduler accepted a fiber that never runs");
        }
        assertTrue(s.isShutdown(), "terminated implies shut down, as for any ExecutorService");
        assertEquals(1, errors.size(), () -> "reported: " + errors);
    }
}
