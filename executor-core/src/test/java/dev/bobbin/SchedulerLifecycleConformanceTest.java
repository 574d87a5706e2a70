package dev.bobbin;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link FiberScheduler}'s lifecycle (shutdown, shutdownNow, awaitTermination, close) against the JDK's
 * thread-per-task {@link ExecutorService} as the control. One deliberate difference, not compared here:
 * {@code shutdownNow()} returns the fibers it interrupted, where the JDK returns the tasks that never
 * started (always none for a thread-per-task executor).
 */
@Tag("reliability")
class SchedulerLifecycleConformanceTest {

    /** The lifecycle operations both share. */
    interface Lifecycle extends AutoCloseable {
        void start(Runnable task);
        void shutdown();
        void shutdownNow();
        boolean isShutdown();
        boolean isTerminated();
        boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException;
        @Override void close();
    }

    enum Kind {
        JDK {
            @Override Lifecycle create() {
                ExecutorService e = Executors.newVirtualThreadPerTaskExecutor();
                return new Lifecycle() {
                    public void start(Runnable task) { e.execute(task); }
                    public void shutdown() { e.shutdown(); }
                    public void shutdownNow() { e.shutdownNow(); }
                    public boolean isShutdown() { return e.isShutdown(); }
                    public boolean isTerminated() { return e.isTerminated(); }
                    public boolean awaitTermination(long t, TimeUnit u) throws InterruptedException { return e.awaitTermination(t, u); }
                    public void close() { e.close(); }
                };
            }
        },
        BOBBIN {
            @Override Lifecycle create() {
                FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("lifecycle").parallelism(2).build());
                return new Lifecycle() {
                    public void start(Runnable task) { s.start(task); }
                    public void shutdown() { s.shutdown(); }
                    public void shutdownNow() { s.shutdownNow(); }
                    public boolean isShutdown() { return s.isShutdown(); }
                    public boolean isTerminated() { return s.isTerminated(); }
                    public boolean awaitTermination(long t, TimeUnit u) throws InterruptedException { return s.awaitTermination(t, u); }
                    public void close() { s.close(); }
                };
            }
        };

        abstract Lifecycle create();
    }

    /** awaitTermination of a terminated executor returns true at once, even with the interrupt status set, which it keeps. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void awaitingATerminatedOneReturnsTrueEvenWhenInterrupted(Kind kind) throws Exception {
        Lifecycle l = kind.create();
        l.close();
        assertTrue(l.isTerminated());
        Thread.currentThread().interrupt();
        try {
            assertTrue(l.awaitTermination(1, TimeUnit.SECONDS));
            assertTrue(l.awaitTermination(0, TimeUnit.SECONDS));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
        } finally {
            Thread.interrupted();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aStartAfterShutdownIsRejected(Kind kind) {
        try (Lifecycle l = kind.create()) {
            l.shutdown();
            assertTrue(l.isShutdown());
            assertThrows(RejectedExecutionException.class, () -> l.start(() -> { }));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shutdownLetsStartedTasksFinish(Kind kind) throws Exception {
        try (Lifecycle l = kind.create()) {
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean finished = new AtomicBoolean();
            l.start(() -> {
                try {
                    release.await();
                    finished.set(true);
                } catch (InterruptedException e) {
                    throw new AssertionError("shutdown() must not interrupt", e);
                }
            });
            l.shutdown();
            assertFalse(l.awaitTermination(50, TimeUnit.MILLISECONDS), "a task is still running");
            assertFalse(l.isTerminated());
            release.countDown();
            assertTrue(l.awaitTermination(10, TimeUnit.SECONDS));
            assertTrue(finished.get());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shutdownNowInterruptsParkedTasks(Kind kind) throws Exception {
        try (Lifecycle l = kind.create()) {
            CountDownLatch parked = new CountDownLatch(1);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            l.start(() -> {
                parked.countDown();
                try {
                    new CountDownLatch(1).await();           // never counted down
                } catch (InterruptedException e) {
                    outcome.set(e);
                }
            });
            parked.await();
            l.shutdownNow();
            assertTrue(l.isShutdown());
            assertTrue(l.awaitTermination(10, TimeUnit.SECONDS), "the parked task ended after the interrupt");
            assertInstanceOf(InterruptedException.class, outcome.get());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeWaitsForRunningTasks(Kind kind) {
        AtomicBoolean finished = new AtomicBoolean();
        Lifecycle l = kind.create();
        l.start(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            finished.set(true);
        });
        l.close();
        assertTrue(finished.get(), "close() returned before the task finished");
        assertTrue(l.isTerminated());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptedCloseTurnsIntoShutdownNowAndRestoresTheInterrupt(Kind kind) throws Exception {
        Lifecycle l = kind.create();
        CountDownLatch parked = new CountDownLatch(1);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        l.start(() -> {
            parked.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                outcome.set(e);
            }
        });
        parked.await();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Thread closer = Thread.ofPlatform().start(() -> {
            l.close();
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (closer.getState() != Thread.State.WAITING && closer.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < deadline, "close() never blocked");
            Thread.sleep(5);
        }
        assertFalse(l.isTerminated());
        closer.interrupt();
        closer.join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(closer.isAlive(), "close() did not return after its caller was interrupted");
        assertTrue(interruptedAfter.get(), "close() restores the interrupt status");
        assertTrue(l.isTerminated());
        assertInstanceOf(InterruptedException.class, outcome.get());
    }
}
