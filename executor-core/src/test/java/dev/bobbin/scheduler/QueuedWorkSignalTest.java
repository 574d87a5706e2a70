package dev.bobbin.scheduler;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JDK's hand-off primitives decide whether to spin with {@code ForkJoinWorkerThread.hasKnownQueuedWork()};
 * on a Bobbin carrier it must say yes (see {@link QueuedWorkSignal}), on the JDK's idle default scheduler it
 * says no (the control), and a worker of an inert pool without the queued task says no (the broken twin).
 */
class QueuedWorkSignalTest {
    private static boolean hasKnownQueuedWork() {
        try {
            Method m = ForkJoinWorkerThread.class.getDeclaredMethod("hasKnownQueuedWork");
            m.setAccessible(true);                   // surefire opens java.util.concurrent to the tests
            return (boolean) m.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("the JDK's check is gone; QueuedWorkSignal needs a new design", e);
        }
    }

    private static boolean inFiber(FiberScheduler s) throws InterruptedException {
        AtomicBoolean seen = new AtomicBoolean();
        s.start(() -> seen.set(hasKnownQueuedWork())).join();
        return seen.get();
    }

    @Test
    void aFiberOnABobbinCarrierIsToldItsCarrierHasQueuedWork() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("signal").parallelism(2).build())) {
            assertTrue(inFiber(s));
            AtomicReference<Thread> carrier = new AtomicReference<>();
            s.start(() -> carrier.set(JdkVirtualThreads.currentCarrier())).join();
            assertInstanceOf(ForkJoinWorkerThread.class, carrier.get());
            assertTrue(carrier.get().getName().startsWith("signal-carrier-"), carrier.get().getName());
            assertTrue(carrier.get().isDaemon());
        }
    }

    @Test
    void theJdksIdleDefaultSchedulerSaysNo() throws Exception {
        AtomicBoolean seen = new AtomicBoolean(true);
        Thread.ofVirtual().start(() -> seen.set(hasKnownQueuedWork())).join();
        assertFalse(seen.get(), "control: nothing is queued on the JDK's scheduler");
    }

    @Test
    void aWorkerOfAnInertPoolWithoutTheQueuedTaskSaysNo() throws Exception {
        ForkJoinPool empty = new ForkJoinPool(1, p -> null, null, false);
        AtomicBoolean broken = new AtomicBoolean(true), signalled = new AtomicBoolean();
        Thread twin = new ForkJoinWorkerThread(null, empty, true) {
            @Override public void run() { broken.set(hasKnownQueuedWork()); }
        };
        twin.start();
        twin.join();
        Thread real = new ForkJoinWorkerThread(null, QueuedWorkSignal.pool(), true) {
            @Override public void run() { signalled.set(hasKnownQueuedWork()); }
        };
        real.start();
        real.join();
        assertFalse(broken.get(), "without the queued task the check fails");
        assertTrue(signalled.get(), "the signal's pool holds its task");
        assertEquals(1, QueuedWorkSignal.pool().getQueuedSubmissionCount(), "the task is never taken");
        assertEquals(0, QueuedWorkSignal.pool().getPoolSize(), "the pool never starts a thread");
    }

    @Test
    void handOffsThroughASynchronousQueueStillWork() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("sq").parallelism(1).build())) {
            SynchronousQueue<Integer> ping = new SynchronousQueue<>(), pong = new SynchronousQueue<>();
            Thread echo = s.start(() -> {
                try {
                    for (int i = 0; i < 10_000; i++) pong.put(ping.take() + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            AtomicReference<Integer> last = new AtomicReference<>();
            s.start(() -> {
                try {
                    int v = 0;
                    for (int i = 0; i < 10_000; i++) {
                        ping.put(v);
                        v = pong.take();
                    }
                    last.set(v);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).join();
            echo.join();
            assertEquals(10_000, last.get());
        }
    }
}
