package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A scheduler whose carriers cannot run their duty cycle (their driver's {@code runCarrier} fails before
 * running it) never started: its creation throws, as for a driver that fails to open, instead of returning
 * a scheduler that accepts fibers no carrier will ever run.
 */
@Tag("reliability")
class StoppedCarriersTest {

    @Test
    void aSchedulerWhoseCarriersAllStopBeforeTheirDutyCycleIsNotCreated() throws Exception {
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
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FiberScheduler.create(
                SchedulerConfig.builder().name("all-stopped").parallelism(1).maxSpareCarriers(0).driverFactory(failing)
                        .errorHandler((t, x) -> errors.add(x)).build()));
        assertEquals("no context", e.getCause().getMessage());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("all-stopped-carrier")),
                "no thread of the failed scheduler is left");
        assertEquals(List.of(), errors, "the failure goes to the caller of create");
    }
}
