package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** A scheduler whose creation fails part-way (one carrier's driver cannot open) closes what it opened. */
@Tag("reliability")
class PartialStartTest {

    @Test
    void driversOpenedBeforeAFailureAreClosedAndCreationThrows() throws Exception {
        AtomicInteger opened = new AtomicInteger(), closed = new AtomicInteger(), attempts = new AtomicInteger();
        CarrierDriverFactory parking = CarrierDriverFactory.parking();
        CarrierDriverFactory failingOnThird = carrier -> {
            if (attempts.incrementAndGet() == 3) throw new IllegalStateException("no ring for this carrier");
            CarrierDriver d = parking.open(carrier);
            opened.incrementAndGet();
            return new CarrierDriver() {
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() {
                    d.close();
                    closed.incrementAndGet();
                }
            };
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FiberScheduler.create(
                SchedulerConfig.builder().name("partial").parallelism(4).driverFactory(failingOnThird).build()));
        assertTrue(e.getMessage().contains("failed to start a carrier driver"), e.getMessage());
        assertEquals(3, opened.get(), "the other three carriers opened theirs");
        assertEquals(opened.get(), closed.get(), "every driver opened is closed by the time create() throws");
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("partial-carrier")),
                "no thread of the failed scheduler is left");
    }
}
