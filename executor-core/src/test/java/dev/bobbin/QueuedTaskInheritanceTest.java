package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A task's fiber inherits the InheritableThreadLocals of the thread that submitted the task, as in the
 * JDK's thread-per-task executor; a task that waited in the QUEUE of a bounded executor must not inherit
 * instead those of whichever task happened to finish and hand it its slot (another request's user, trace
 * id, tenant...).
 */
@Timeout(60)
class QueuedTaskInheritanceTest {
    private static final InheritableThreadLocal<String> WHO = new InheritableThreadLocal<>();

    private static String runQueuedBehindAnotherTask(ExecutorService executor) throws Exception {
        CountDownLatch running = new CountDownLatch(1), release = new CountDownLatch(1);
        WHO.set("submitter-of-first");
        Future<?> first = executor.submit(() -> {
            WHO.set("secret-of-first-task");          // the first task's own value, e.g. its request's user
            running.countDown();
            release.await();
            return null;
        });
        running.await();
        WHO.set("submitter-of-second");
        Future<String> second = executor.submit(WHO::get);  // queued behind the first (maxConcurrency 1)
        WHO.remove();
        release.countDown();
        first.get(10, TimeUnit.SECONDS);
        return second.get(10, TimeUnit.SECONDS);
    }

    @Test
    void jdkControlTaskSeesItsSubmittersValue() throws Exception {
        try (ExecutorService jdk = Executors.newVirtualThreadPerTaskExecutor()) {
            assertEquals("submitter-of-second", runQueuedBehindAnotherTask(jdk));
        }
    }

    @Test
    void aQueuedTaskSeesItsSubmittersValueNotThoseOfTheTaskThatFreedItsSlot() throws Exception {
        try (FiberExecutor executor = FiberExecutor.builder().name("queued-itl").maxConcurrency(1)
                .whenSaturated(FiberExecutor.Saturation.QUEUE)
                .ownScheduler(SchedulerConfig.builder().name("queued-itl").parallelism(2).build()).build()) {
            assertEquals("submitter-of-second", runQueuedBehindAnotherTask(executor));
        }
    }
}
