package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A WAIT submitter that passed the executor's running check just before a shutdown, and only then takes
 * the slots' lock to wait, must not miss that shutdown (its wake-up went out before it waited): it is
 * refused at once, not left waiting until some task finishes (a task that waits for it would then keep
 * close() waiting for ever).
 */
class SlotsShutdownRaceTest {

    @Test
    void aWaitSubmitterArrivingAfterTheShutdownsWakeUpIsRefusedAtOnce() throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("slots-race").parallelism(1).build())) {
            Slots slots = new Slots(1, FiberExecutor.Saturation.WAIT);
            ExecutorState state = new ExecutorState("slots-race", scheduler, false, slots);
            assertEquals(Slots.Outcome.SLOT, slots.acquire(state, () -> { }, null, false, 0, null), "the one slot, held");
            state.shutdown();                                  // wakes nobody: nobody waits yet
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            Thread late = Thread.ofPlatform().start(() -> {    // as a submitter whose own check preceded the shutdown
                try {
                    outcome.complete(slots.acquire(state, () -> { }, null, false, 0, null));
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            try {
                Object o = outcome.get(10, TimeUnit.SECONDS);
                assertInstanceOf(RejectedExecutionException.class, o, "the shut-down executor refuses the job: " + o);
            } catch (java.util.concurrent.TimeoutException e) {
                fail("a WAIT submitter missed the shutdown and waits for a slot");
            } finally {
                slots.release();                               // frees the slot: a waiter (the broken case) goes on
                late.join(10_000);
            }
        }
    }
}
