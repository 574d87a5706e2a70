package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.bobbin.SchedulingPolicyTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A carrier driver whose {@code poll()} or {@code park()} throws once (a faulty I/O backend, an
 * OutOfMemoryError inside it): the error goes to the scheduler's error handler, and the carrier goes on
 * serving its fibers. Neither the carrier's queued or bound fibers nor the wake protocol are lost with it.
 */
@Tag("reliability")
class DriverFaultsTest {

    /** A parking driver for carrier {@code failing} whose poll or park throws once {@code armed} is set. */
    private static CarrierDriverFactory throwingOnce(int failing, boolean inPark, AtomicBoolean armed) {
        return ctx -> {
            CarrierDriver d = CarrierDriverFactory.parking().open(ctx);
            boolean mine = ctx.carrierIndex() == failing;
            return new CarrierDriver() {
                private void maybeThrow() {
                    if (mine && armed.compareAndSet(true, false)) throw new IllegalStateException("driver failed once");
                }
                @Override public int poll() { if (!inPark) maybeThrow(); return d.poll(); }
                @Override public void park(long timeoutNanos) { if (inPark) maybeThrow(); d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { d.close(); }
            };
        };
    }

    private static FiberScheduler scheduler(String name, int parallelism, CarrierDriverFactory factory, List<Throwable> errors) {
        return FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(parallelism).maxSpareCarriers(0)
                .driverFactory(factory).errorHandler((t, e) -> errors.add(e)).build());
    }

    /** Shuts down and checks the scheduler terminates: a broken one must fail the test, not hang it. */
    private static void shutDownAndAwait(FiberScheduler s) throws InterruptedException {
        s.shutdown();
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "the scheduler did not terminate: " + s.stats());
    }

    /** Cleanup that never hangs: a test that failed may leave a fiber waiting. */
    private static void stop(FiberScheduler s) throws InterruptedException {
        s.shutdownNow();
        s.awaitTermination(Duration.ofSeconds(10));
    }

    @Test
    void aParkThatThrowsOnceLeavesNoLaterFiberWaiting() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        FiberScheduler s = scheduler("park-throws", 2, throwingOnce(0, true, armed), errors);
        try {
            Thread.sleep(50);                                    // both carriers park
            armed.set(true);
            s.startOn(0, () -> { }).join();                      // carrier 0 runs it, then parks last: its park throws
            waitUntil(() -> errors.size() == 1);
            for (int i = 0; i < 20; i++) {
                Thread f = s.start(() -> { });
                assertTrue(f.join(Duration.ofSeconds(5)), "fiber " + i + " never ran: " + s.stats());
            }
            assertFalse(s.isTerminated());
            shutDownAndAwait(s);
        } finally {
            stop(s);
        }
        assertEquals("driver failed once", errors.getFirst().getMessage(), "the failure reached the error handler");
    }

    @Test
    void aPollThatThrowsOnceDoesNotStopTheOnlyCarrier() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        FiberScheduler s = scheduler("poll-throws", 1, throwingOnce(0, false, armed), errors);
        try {
            armed.set(true);
            s.start(() -> { }).join();                       // wakes the carrier, which polls after running it
            waitUntil(() -> errors.size() == 1);
            Thread.sleep(50);
            assertFalse(s.isTerminated(), "a scheduler nobody shut down reports itself terminated");
            Thread f = s.start(() -> { });                   // accepted: it must run
            assertTrue(f.join(Duration.ofSeconds(5)), "an accepted fiber never ran: " + s.stats());
            shutDownAndAwait(s);
        } finally {
            stop(s);
        }
    }

    @Test
    void aPollThatThrowsOnceLosesNoFiberBoundToThatCarrier() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        FiberScheduler s = scheduler("poll-throws-bound", 2, throwingOnce(0, false, armed), errors);
        try {
            armed.set(true);
            s.startOn(0, () -> { }).join(Duration.ofSeconds(5));  // makes carrier 0 poll
            waitUntil(() -> errors.size() == 1);
            Thread f = s.startOn(0, () -> { });
            assertTrue(f.join(Duration.ofSeconds(5)), "a fiber bound to carrier 0 never ran: " + s.stats());
            shutDownAndAwait(s);
        } finally {
            stop(s);
        }
    }
}
