package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** A scheduler whose creation fails part-way closes the io_uring rings its other carriers opened. */
@Tag("reliability")
class PartialSchedulerStartTest {

    @Test
    void ringsOpenedBeforeAFailedCarrierAreClosed() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        // warm up: the transport's first ring loads native code and keeps nothing open afterwards
        try (FiberScheduler warm = io.newScheduler("warm-rings", 1)) {
            warm.start(() -> { }).join();
        }
        long before = FiberSocketContract.openRings();
        AtomicInteger attempts = new AtomicInteger();
        CarrierDriverFactory real = io.driverFactory();
        CarrierDriverFactory failingOnThird = carrier -> {
            if (attempts.incrementAndGet() == 3) throw new IllegalStateException("no ring for this carrier");
            return real.open(carrier);
        };
        assertThrows(IllegalStateException.class,
                () -> FiberScheduler.create(io.schedulerConfig().name("partial-rings").parallelism(4)
                        .driverFactory(failingOnThird).build()));
        assertEquals(4, attempts.get());
        assertEquals(before, FiberSocketContract.openRings(), "io_uring rings left open by the failed scheduler");
    }
}
