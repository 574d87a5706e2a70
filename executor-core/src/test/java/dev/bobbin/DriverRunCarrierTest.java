package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CarrierDriver#runCarrier}: a carrier runs its whole duty cycle (every poll and park, then the
 * driver's close) inside its driver's {@code runCarrier}, once, on the carrier thread; the default runs
 * the cycle as it is.
 */
class DriverRunCarrierTest {
    /** Set on a carrier thread while its driver's runCarrier runs the duty cycle. */
    private static final ThreadLocal<Boolean> IN_CONTEXT = ThreadLocal.withInitial(() -> false);

    @Test
    void everyPollParkAndTheCloseRunInsideTheDriversContextOnTheCarrierThread() throws Exception {
        CarrierDriverFactory parking = CarrierDriverFactory.parking();
        AtomicInteger wrapped = new AtomicInteger(), calls = new AtomicInteger(), closes = new AtomicInteger();
        List<String> outside = new CopyOnWriteArrayList<>();
        CarrierDriverFactory contextual = carrier -> {
            CarrierDriver d = parking.open(carrier);
            Thread owner = Thread.currentThread();
            return new CarrierDriver() {
                private void check(String what) {
                    calls.incrementAndGet();
                    if (!IN_CONTEXT.get() || Thread.currentThread() != owner) outside.add(what + " on " + Thread.currentThread());
                }
                @Override public void runCarrier(Runnable dutyCycle) {
                    wrapped.incrementAndGet();
                    IN_CONTEXT.set(true);
                    try {
                        dutyCycle.run();
                    } finally {
                        IN_CONTEXT.remove();
                    }
                }
                @Override public int poll() { check("poll"); return d.poll(); }
                @Override public void park(long timeoutNanos) { check("park"); d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { check("close"); closes.incrementAndGet(); d.close(); }
            };
        };
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("run-carrier")
                .parallelism(2).maxSpareCarriers(0).driverFactory(contextual).build())) {
            for (int i = 0; i < 100; i++) {
                scheduler.start(() -> Thread.yield()).join();
            }
        }
        assertEquals(2, wrapped.get(), "one runCarrier per carrier");
        assertEquals(2, closes.get(), "each driver closed once");
        assertTrue(calls.get() > 2, "the carriers polled or parked: " + calls.get());
        assertEquals(List.of(), outside, "driver calls outside its runCarrier or off its carrier");
    }

    @Test
    void aRunCarrierThatFailsBeforeRunningTheCycleFailsTheStartAndStillHasItsDriverClosed() throws Exception {
        CarrierDriverFactory parking = CarrierDriverFactory.parking();
        AtomicInteger closes = new AtomicInteger();
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        CarrierDriverFactory failing = carrier -> {
            CarrierDriver d = parking.open(carrier);
            return new CarrierDriver() {
                @Override public void runCarrier(Runnable dutyCycle) { throw new IllegalStateException("no context"); }
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { closes.incrementAndGet(); d.close(); }
            };
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FiberScheduler.create(
                SchedulerConfig.builder().name("run-carrier-failing").parallelism(1).maxSpareCarriers(0)
                        .driverFactory(failing).errorHandler((t, x) -> reported.add(x)).build()));
        assertTrue(e.getMessage().contains("failed to start a carrier driver"), e.getMessage());
        assertEquals("no context", e.getCause().getMessage());
        assertEquals(1, closes.get(), "the driver was closed once");
        assertEquals(List.of(), reported, "the failure goes to the caller of create, not to the handler");
    }

    @Test
    void theDefaultRunsTheDutyCycleAsItIs() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        CarrierDriver plain = new CarrierDriver() {
            @Override public int poll() { return 0; }
            @Override public void park(long timeoutNanos) { }
            @Override public void wakeup() { }
            @Override public void close() { }
        };
        plain.runCarrier(ran::incrementAndGet);
        assertEquals(1, ran.get());
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("run-carrier-default")
                .parallelism(1).build())) {
            AtomicInteger seen = new AtomicInteger();
            scheduler.start(() -> seen.set(42)).join();
            assertEquals(42, seen.get());
        }
    }
}
