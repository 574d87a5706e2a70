package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** An onTermination action runs "once the scheduler is terminated": the scheduler must say so. */
@Timeout(60)
class TerminationActionTest {

    @Test
    void aTerminationActionSeesTheSchedulerTerminated() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("term-action").parallelism(2).build());
        CompletableFuture<String> seen = new CompletableFuture<>();
        s.onTermination(() -> seen.complete("isTerminated=" + s.isTerminated() + " " + s));
        s.shutdown();
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)));
        assertEquals("isTerminated=true FiberScheduler[term-action, parallelism=2, terminated]",
                seen.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aTerminationActionThatAwaitsTerminationDoesNotHoldTerminationUp() throws Exception {
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("term-await").parallelism(2).build());
        CompletableFuture<Boolean> awaited = new CompletableFuture<>();
        s.onTermination(() -> {
            try {
                awaited.complete(s.awaitTermination(Duration.ofSeconds(3)));
            } catch (InterruptedException e) {
                awaited.completeExceptionally(e);
            }
        });
        long t0 = System.nanoTime();
        s.close();
        long closeMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(awaited.get(10, TimeUnit.SECONDS), "awaitTermination inside the action timed out");
        assertTrue(closeMillis < 2_000, "close() waited " + closeMillis + " ms for an action waiting for termination");
    }
}
