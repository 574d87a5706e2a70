package dev.bobbin;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber that has ended, and that nobody references any more, is garbage together with its task: the
 * scheduler keeps nothing of it once its carriers are idle. The JDK's own scheduler is the control.
 * Each fiber's task holds a payload reachable only through the task; after the fibers ended and every
 * reference the test held is dropped, the payloads must be collectable.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@org.junit.jupiter.api.Tag("reliability")
class FinishedFiberRetentionTest {
    private static final int FIBERS = 300;

    /** A task whose payload only it references; it parks and yields, so its resumptions pass through the run queues. */
    private static final class Task implements Runnable {
        private final byte[] payload = new byte[64 * 1024];

        @Override
        public void run() {
            LockSupport.parkNanos(100_000);          // resumed by the timer: from outside the carriers
            Thread.yield();                          // resubmitted by its carrier: through the local queue
            if (payload.length == 0) throw new AssertionError();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"jdk", "bobbin-1", "bobbin-2"})
    void finishedFibersAndTheirTasksAreCollectable(String scheduler) throws Exception {
        FiberScheduler bobbin = scheduler.equals("jdk") ? null : FiberScheduler.create(SchedulerConfig.builder()
                .name("retention").parallelism(scheduler.equals("bobbin-1") ? 1 : 2).build());
        try {
            ThreadFactory factory = bobbin != null ? bobbin.ofVirtual().factory() : Thread.ofVirtual().factory();
            List<WeakReference<byte[]>> payloads = runAndForget(factory);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int alive;
            do {
                System.gc();
                Thread.sleep(50);
                alive = 0;
                for (WeakReference<byte[]> r : payloads) if (r.get() != null) alive++;
            } while (alive > 0 && System.nanoTime() < deadline);
            assertEquals(0, alive, "payloads of ended fibers still reachable on " + scheduler);
        } finally {
            if (bobbin != null) bobbin.close();
        }
    }

    /** Runs the fibers to their end (one starter fiber starts them, so some are stolen) and keeps only weak references. */
    private static List<WeakReference<byte[]>> runAndForget(ThreadFactory factory) throws InterruptedException {
        List<WeakReference<byte[]>> payloads = new ArrayList<>();
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < FIBERS; i++) {
            Task t = new Task();
            tasks.add(t);
            payloads.add(new WeakReference<>(t.payload));
        }
        Thread starter = factory.newThread(() -> {
            List<Thread> fibers = new ArrayList<>();
            for (Task t : tasks) fibers.add(factory.newThread(t));
            for (Thread f : fibers) f.start();
            for (Thread f : fibers) {
                try {
                    f.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        starter.start();
        starter.join();
        tasks.clear();
        return payloads;
    }
}
