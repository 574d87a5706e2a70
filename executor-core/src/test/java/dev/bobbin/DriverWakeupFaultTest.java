package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A carrier driver whose {@code wakeup()} throws once: the error goes to the scheduler's error handler,
 * not to the thread that happened to wake the carrier (a {@code start()}, an {@code unpark}), and the
 * carrier that was taken off the sleeper stack for that wake-up still wakes, so no fiber is left waiting.
 */
@Tag("reliability")
class DriverWakeupFaultTest {

    @Test
    void aWakeupThatThrowsOnceNeitherReachesTheStarterNorStrandsTheScheduler() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CarrierDriverFactory factory = ctx -> {
            CarrierDriver d = CarrierDriverFactory.parking().open(ctx);
            return new CarrierDriver() {
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() {
                    if (armed.compareAndSet(true, false)) throw new IllegalStateException("wakeup failed once");
                    d.wakeup();
                }
                @Override public void close() { d.close(); }
            };
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("wakeup-throws").parallelism(2)
                .maxSpareCarriers(0).driverFactory(factory).errorHandler((t, e) -> errors.add(e)).build());
        try {
            Thread.sleep(50);                                    // both carriers park
            armed.set(true);
            for (int i = 0; i < 20; i++) {
                int n = i;
                Thread f = assertDoesNotThrow(() -> s.start(() -> { }), "start " + n + " failed with the driver's error");
                assertTrue(f.join(Duration.ofSeconds(5)), "fiber " + i + " never ran: " + s.stats());
                Thread.sleep(5);                                 // the carriers park again between starts
            }
            assertFalse(armed.get(), "a wake-up went through the driver");
            assertEquals(1, errors.size(), () -> "reported: " + errors);
            assertEquals("wakeup failed once", errors.getFirst().getMessage());
            s.shutdown();
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "the scheduler did not terminate: " + s.stats());
        } finally {
            s.shutdownNow();
            s.awaitTermination(Duration.ofSeconds(10));
        }
    }
}
