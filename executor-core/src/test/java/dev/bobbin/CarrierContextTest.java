package dev.bobbin;

import dev.bobbin.spi.CarrierContext;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The SPI seam: what a backend can learn about the carrier it runs on, with no FiberScheduler call. */
class CarrierContextTest {

    @Test
    void aFiberSeesItsCarrierAndAPlatformThreadSeesNone() throws Exception {
        assertNull(CarrierContext.current(), "a platform thread is on no carrier");
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("ctx").parallelism(2).build());
             FiberScheduler other = FiberScheduler.create(SchedulerConfig.builder().name("ctx-other").parallelism(1).maxSpareCarriers(0).build())) {
            CompletableFuture<CarrierContext> seen = new CompletableFuture<>();
            CompletableFuture<Boolean> mayMove = new CompletableFuture<>();
            s.start(() -> {
                CarrierContext c = CarrierContext.current();
                seen.complete(c);
                mayMove.complete(c.currentFiberMayMove());
            });
            CarrierContext c = seen.get(10, TimeUnit.SECONDS);
            assertNotNull(c);
            assertEquals("ctx", c.schedulerName());
            assertFalse(c.isSpare());
            assertNotNull(c.driver(), "an open driver");
            assertTrue(mayMove.get(), "an unbound fiber of a 2-carrier work-stealing scheduler may move");

            CompletableFuture<Boolean> boundMayMove = new CompletableFuture<>();
            CompletableFuture<Object> sameScheduler = new CompletableFuture<>();
            s.start(() -> s.startLocal(() -> {
                boundMayMove.complete(CarrierContext.current().currentFiberMayMove());
                sameScheduler.complete(CarrierContext.current().scheduler());
            }));
            assertFalse(boundMayMove.get(10, TimeUnit.SECONDS), "a fiber bound by startLocal never moves");
            assertSame(c.scheduler(), sameScheduler.get(), "every carrier of a scheduler names the same one");

            CompletableFuture<Object> otherScheduler = new CompletableFuture<>();
            CompletableFuture<Boolean> singleMayMove = new CompletableFuture<>();
            other.start(() -> {
                otherScheduler.complete(CarrierContext.current().scheduler());
                singleMayMove.complete(CarrierContext.current().currentFiberMayMove());
            });
            assertNotSame(c.scheduler(), otherScheduler.get(10, TimeUnit.SECONDS));
            assertFalse(singleMayMove.get(), "with one carrier and no spare there is nowhere to move");
        }
    }
}
