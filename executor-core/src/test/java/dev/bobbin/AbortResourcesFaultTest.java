package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shutdownNow()} with a driver whose {@code abortResources()} fails, with an exception or an error:
 * the other drivers still close their resources, {@code shutdownNow()} returns normally, and the failure
 * goes to the scheduler's error handler instead of vanishing.
 */
@Tag("reliability")
class AbortResourcesFaultTest {

    private static void check(String name, Throwable failure) throws Exception {
        AtomicInteger aborted = new AtomicInteger();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CarrierDriverFactory factory = ctx -> {
            CarrierDriver d = CarrierDriverFactory.parking().open(ctx);
            boolean faulty = ctx.carrierIndex() == 0;
            return new CarrierDriver() {
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { d.close(); }
                @Override public void abortResources() {
                    if (faulty) {
                        if (failure instanceof Error e) throw e;
                        throw (RuntimeException) failure;
                    }
                    aborted.incrementAndGet();
                }
            };
        };
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(2).maxSpareCarriers(0)
                .driverFactory(factory).errorHandler((t, e) -> errors.add(e)).build());
        try {
            assertDoesNotThrow(s::shutdownNow, "shutdownNow failed with a driver's error");
            assertEquals(1, aborted.get(), "the other carrier's driver closed its resources");
            assertEquals(List.of(failure), errors, "the failure reached the error handler");
        } finally {
            try {
                s.shutdownNow();
            } catch (Throwable ignored) {
                // the failure above says it
            }
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)));
        }
    }

    @Test
    void anAbortThatThrowsAnExceptionIsReported() throws Exception {
        check("abort-exception", new IllegalStateException("abort failed"));
    }

    @Test
    void anAbortThatThrowsAnErrorNeitherEscapesShutdownNowNorSkipsTheOtherDrivers() throws Exception {
        check("abort-error", new AssertionError("abort failed"));
    }
}
