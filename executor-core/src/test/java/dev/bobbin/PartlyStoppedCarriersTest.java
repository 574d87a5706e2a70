package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One carrier of two stops on an error before it ran its duty cycle (its driver's runCarrier failed): the
 * scheduler must not accept fibers that only that carrier may run (THREAD_PER_CORE deals them to it, startOn
 * binds them to it) and then never run them.
 */
@Tag("reliability")
class PartlyStoppedCarriersTest {

    @Test
    void noFiberIsDealtToACarrierThatStoppedBeforeItsDutyCycle() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CarrierDriverFactory secondFails = carrier -> {
            CarrierDriver d = CarrierDriverFactory.parking().open(carrier);
            if (carrier.carrierIndex() == 0) return d;
            return new CarrierDriver() {
                @Override public void runCarrier(Runnable dutyCycle) { throw new IllegalStateException("no context"); }
                @Override public int poll() { return d.poll(); }
                @Override public void park(long timeoutNanos) { d.park(timeoutNanos); }
                @Override public void wakeup() { d.wakeup(); }
                @Override public void close() { d.close(); }
            };
        };
        FiberScheduler s;
        try {
            s = FiberScheduler.create(SchedulerConfig.builder().name("partly-stopped").parallelism(2)
                    .policy(SchedulingPolicy.THREAD_PER_CORE).driverFactory(secondFails)
                    .errorHandler((t, e) -> errors.add(e)).build());
        } catch (IllegalStateException refused) {
            return;                                           // refused at creation: nothing is lost
        }
        List<Thread> accepted = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            try {
                accepted.add(s.start(() -> { }));
            } catch (RejectedExecutionException refused) {
                // refused: nothing is lost
            }
        }
        for (Thread f : accepted) {
            assertTrue(f.join(Duration.ofSeconds(10)), "an accepted fiber never ran: " + s.stats());
        }
        s.shutdown();
        assertTrue(s.awaitTermination(10, TimeUnit.SECONDS), "did not terminate: " + s.stats());
    }
}
