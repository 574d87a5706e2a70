package dev.bobbin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What {@link FiberExecutor} adds to the JDK's thread-per-task contract (bounded concurrency, shared
 * schedulers, names, handler, views), which {@link ExecutorConformanceTest} cannot compare with the JDK.
 */
@Timeout(value = 20, unit = SECONDS)
class FiberExecutorTest {
    private static FiberScheduler scheduler;

    @BeforeAll
    static void start() {
        scheduler = FiberScheduler.create(SchedulerConfig.builder().name("fx").parallelism(2).build());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        scheduler.shutdown();
        assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)), () -> "not terminated: " + scheduler.stats());
    }

    private static FiberExecutor bounded(int max, FiberExecutor.Saturation saturation) {
        return FiberExecutor.builder().name("b").scheduler(scheduler).maxConcurrency(max).whenSaturated(saturation).build();
    }

    /** Runs one blocking task and returns the latch that releases it, once it runs. */
    private static CountDownLatch occupy(ExecutorService e) throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1), started = new CountDownLatch(1);
        e.execute(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException ignored) {
                // shutdownNow
            }
        });
        assertTrue(started.await(10, SECONDS));
        return release;
    }

    private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
        long deadline = System.nanoTime() + SECONDS.toNanos(10);
        while (t.getState() != state) {
            assertTrue(System.nanoTime() < deadline, () -> t + " never reached " + state + ", is " + t.getState());
            Thread.sleep(1);
        }
    }

    // ---- configuration -----------------------------------------------------------------------------

    @Test
    void builderValidatesEveryArgument() {
        FiberExecutor.Builder b = FiberExecutor.builder();
        assertThrows(NullPointerException.class, () -> b.name(null));
        assertThrows(IllegalArgumentException.class, () -> b.name(" "));
        assertThrows(NullPointerException.class, () -> b.scheduler(null));
        assertThrows(NullPointerException.class, () -> b.ownScheduler(null));
        assertThrows(IllegalArgumentException.class, () -> b.maxConcurrency(0));
        assertThrows(IllegalArgumentException.class, () -> b.maxConcurrency(-3));
        assertThrows(NullPointerException.class, () -> b.whenSaturated(null));
        assertThrows(NullPointerException.class, () -> b.uncaughtExceptionHandler(null));
        assertThrows(NullPointerException.class, () -> FiberExecutor.create((FiberScheduler) null));
        assertThrows(IllegalStateException.class, () -> FiberExecutor.builder().scheduler(scheduler)
                .ownScheduler(SchedulerConfig.defaults()).build());
        FiberScheduler closed = FiberScheduler.create(SchedulerConfig.builder().name("closed").parallelism(1).build());
        closed.close();
        assertThrows(IllegalStateException.class, () -> FiberExecutor.create(closed));
        FiberExecutor.Config c = FiberExecutor.builder().name("n").scheduler(scheduler).maxConcurrency(3)
                .whenSaturated(FiberExecutor.Saturation.QUEUE).build().config();
        assertEquals(new FiberExecutor.Config("n", scheduler, c.ownSchedulerConfig(), 3,
                FiberExecutor.Saturation.QUEUE, null), c);
        assertTrue(c.isBounded());
        try (FiberExecutor d = FiberExecutor.create(scheduler)) {
            assertFalse(d.config().isBounded());
            assertEquals(FiberExecutor.UNBOUNDED, d.config().maxConcurrency());
            assertEquals(FiberExecutor.Saturation.WAIT, d.config().saturation());
        }
        assertThrows(NullPointerException.class, () -> FiberExecutor.create((FiberExecutor.Config) null));
        assertThrows(NullPointerException.class, () -> new FiberExecutor.Config(null, null, c.ownSchedulerConfig(), 1, FiberExecutor.Saturation.WAIT, null));
        assertThrows(IllegalArgumentException.class, () -> new FiberExecutor.Config("", null, c.ownSchedulerConfig(), 1, FiberExecutor.Saturation.WAIT, null));
        assertThrows(NullPointerException.class, () -> new FiberExecutor.Config("x", null, null, 1, FiberExecutor.Saturation.WAIT, null));
        assertThrows(IllegalArgumentException.class, () -> new FiberExecutor.Config("x", null, c.ownSchedulerConfig(), 0, FiberExecutor.Saturation.WAIT, null));
        assertThrows(NullPointerException.class, () -> new FiberExecutor.Config("x", null, c.ownSchedulerConfig(), 1, null, null));
        try (FiberExecutor copy = FiberExecutor.create(c)) {
            assertEquals(c, copy.config());
            assertSame(scheduler, copy.scheduler());
        }
    }

    @Test
    void fibersAreNamedAfterTheExecutorAndRunOnItsScheduler() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("orders").scheduler(scheduler).build()) {
            String n1 = e.submit(() -> Thread.currentThread().getName()).get();
            String n2 = e.submit(() -> Thread.currentThread().getName()).get();
            assertTrue(n1.matches("orders-\\d+"), n1);
            assertTrue(n2.matches("orders-\\d+"), n2);
            assertNotEquals(n1, n2);
            assertSame(scheduler, e.submit(() -> FiberScheduler.current().orElseThrow()).get());
        }
    }

    @Test
    void anExecutorWithoutANameLeavesItsFibersUnnamedAsTheJdksDoes() throws Exception {
        String jdkName;
        try (ExecutorService jdk = Executors.newVirtualThreadPerTaskExecutor()) {
            jdkName = jdk.submit(() -> Thread.currentThread().getName()).get();
        }
        try (FiberExecutor e = FiberExecutor.create(scheduler)) {
            assertEquals(jdkName, e.submit(() -> Thread.currentThread().getName()).get());
            assertEquals(jdkName, e.threadFactory().newThread(() -> { }).getName());
            assertFalse(e.config().namesFibers());
            try (FiberExecutor copy = FiberExecutor.create(e.config())) {
                assertEquals(jdkName, copy.submit(() -> Thread.currentThread().getName()).get());
            }
        }
        try (FiberExecutor e = FiberExecutor.builder().name("quiet").namesFibers(false).scheduler(scheduler).build()) {
            assertEquals(jdkName, e.submit(() -> Thread.currentThread().getName()).get());
            assertEquals("quiet", e.name());
        }
        try (FiberExecutor e = FiberExecutor.builder().namesFibers(true).scheduler(scheduler).build()) {
            String n = e.submit(() -> Thread.currentThread().getName()).get();
            assertTrue(n.matches("fiber-executor-\\d+"), n);
            try (FiberExecutor copy = FiberExecutor.create(e.config())) {
                assertTrue(copy.config().namesFibers());
            }
        }
    }

    @Test
    void theHandlerReceivesExceptionsOfExecutedTasksOnly() throws Exception {
        AtomicReference<Throwable> seen = new AtomicReference<>();
        AtomicReference<Thread> on = new AtomicReference<>();
        CountDownLatch reported = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("boom");
        try (FiberExecutor e = FiberExecutor.builder().name("h").scheduler(scheduler)
                .uncaughtExceptionHandler((t, x) -> { on.set(t); seen.set(x); reported.countDown(); }).build()) {
            Future<?> f = e.submit(() -> { throw new IllegalArgumentException(); });
            assertThrows(Exception.class, f::get);
            assertFalse(reported.await(20, MILLISECONDS), "a submitted task's exception reached the handler");
            e.execute(() -> { throw boom; });
            assertTrue(reported.await(10, SECONDS));
        }
        assertSame(boom, seen.get());
        assertTrue(on.get().getName().startsWith("h-"), on.get().getName());
    }

    // ---- bounded concurrency -----------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(FiberExecutor.Saturation.class)
    void neverMoreThanTheBoundRunAtOnce(FiberExecutor.Saturation saturation) throws Exception {
        int max = 3, tasks = 60;
        AtomicInteger running = new AtomicInteger(), peak = new AtomicInteger(), done = new AtomicInteger();
        List<Thread> submitters = new ArrayList<>();
        AtomicInteger rejected = new AtomicInteger();
        try (FiberExecutor e = bounded(max, saturation)) {
            for (int s = 0; s < 3; s++) {
                submitters.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < tasks / 3; i++) {
                        try {
                            e.execute(() -> {
                                int now = running.incrementAndGet();
                                peak.accumulateAndGet(now, Math::max);
                                try {
                                    Thread.sleep(1);
                                } catch (InterruptedException ignored) {
                                    // not expected
                                }
                                running.decrementAndGet();
                                done.incrementAndGet();
                            });
                        } catch (RejectedExecutionException x) {
                            rejected.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread t : submitters) t.join();
        }
        assertTrue(peak.get() <= max, "peak " + peak.get() + " > " + max);
        assertEquals(tasks, done.get() + rejected.get());
        if (saturation != FiberExecutor.Saturation.REJECT) {
            assertEquals(0, rejected.get());
            assertEquals(max, peak.get(), "the bound was never used in full");
        }
    }

    @Test
    void waitPolicyInvokeAnyStopsWaitingForASlotOnceATaskSucceeded() throws Exception {
        // Bound 2: a gate holds one slot while "fast" wins in the other; invokeAny then waits for a
        // slot for its third task. The success must end that wait: no loser starts, nothing hangs.
        FiberExecutor e = bounded(2, FiberExecutor.Saturation.WAIT);
        CountDownLatch release = new CountDownLatch(1), gateRunning = new CountDownLatch(1);
        AtomicInteger losersStarted = new AtomicInteger();
        Callable<String> gate = () -> { gateRunning.countDown(); release.await(); return "gate"; };
        Callable<String> fast = () -> { gateRunning.await(); return "fast"; };
        Callable<String> loser = () -> { losersStarted.incrementAndGet(); release.await(); return "loser"; };
        try {
            CompletableFuture<String> r = CompletableFuture.supplyAsync(() -> {
                try {
                    return e.invokeAny(List.of(gate, fast, loser, loser, loser));
                } catch (Exception x) {
                    throw new java.util.concurrent.CompletionException(x);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            assertEquals("fast", r.get(5, SECONDS));
            assertEquals(0, losersStarted.get(), "losers started after the winner");
        } finally {
            release.countDown();
            e.close();
        }
    }

    @Test
    void waitPolicyBlocksTheSubmitterUntilASlotFrees() throws Exception {
        try (FiberExecutor e = bounded(1, FiberExecutor.Saturation.WAIT)) {
            CountDownLatch release = occupy(e);
            CountDownLatch ran = new CountDownLatch(1);
            Thread submitter = Thread.ofVirtual().start(() -> e.execute(ran::countDown));
            awaitState(submitter, Thread.State.WAITING);
            assertFalse(ran.await(20, MILLISECONDS));
            release.countDown();
            assertTrue(ran.await(10, SECONDS));
            submitter.join();
        }
    }

    @Test
    void waitingSubmittersAreRejectedAtShutdownAndOnInterrupt() throws Exception {
        FiberExecutor e = bounded(1, FiberExecutor.Saturation.WAIT);
        CountDownLatch release = occupy(e);
        AtomicReference<Throwable> byInterrupt = new AtomicReference<>(), byShutdown = new AtomicReference<>();
        AtomicReference<Boolean> statusKept = new AtomicReference<>();
        Thread a = Thread.ofVirtual().start(() -> {
            try {
                e.execute(() -> { });
            } catch (Throwable x) {
                byInterrupt.set(x);
                statusKept.set(Thread.currentThread().isInterrupted());
            }
        });
        awaitState(a, Thread.State.WAITING);
        a.interrupt();
        a.join();
        assertInstanceOf(RejectedExecutionException.class, byInterrupt.get());
        assertTrue(statusKept.get(), "the interrupt status is kept");
        Thread b = Thread.ofVirtual().start(() -> {
            try {
                e.execute(() -> { });
            } catch (Throwable x) {
                byShutdown.set(x);
            }
        });
        awaitState(b, Thread.State.WAITING);
        e.shutdown();
        b.join();
        assertInstanceOf(RejectedExecutionException.class, byShutdown.get());
        assertFalse(e.isTerminated());
        release.countDown();
        assertTrue(e.awaitTermination(10, SECONDS));
    }

    @Test
    void rejectPolicyRejectsWhenFull() throws Exception {
        try (FiberExecutor e = bounded(1, FiberExecutor.Saturation.REJECT)) {
            CountDownLatch release = occupy(e);
            RejectedExecutionException x = assertThrows(RejectedExecutionException.class, () -> e.submit(() -> 1));
            assertTrue(x.getMessage().contains("maximum of 1"), x.getMessage());
            release.countDown();
            long deadline = System.nanoTime() + SECONDS.toNanos(10);
            for (;;) {                                    // the slot frees once the blocker's fiber is done
                try {
                    assertEquals(2, e.submit(() -> 2).get());
                    break;
                } catch (RejectedExecutionException busy) {
                    assertTrue(System.nanoTime() < deadline);
                    Thread.sleep(1);
                }
            }
        }
    }

    @Test
    void queuePolicyRunsQueuedTasksInOrderEvenAfterShutdown() throws Exception {
        FiberExecutor e = bounded(1, FiberExecutor.Saturation.QUEUE);
        CountDownLatch release = occupy(e);
        List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Future<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            futures.add(e.submit(() -> { order.add(n); return n; }));
        }
        assertEquals(21, e.activeCount());
        e.shutdown();
        assertThrows(RejectedExecutionException.class, () -> e.execute(() -> { }));
        assertFalse(e.awaitTermination(20, MILLISECONDS), "queued tasks are still to run");
        release.countDown();
        assertTrue(e.awaitTermination(10, SECONDS));
        for (int i = 0; i < 20; i++) assertEquals(i, futures.get(i).get());
        assertEquals(java.util.stream.IntStream.range(0, 20).boxed().toList(), order);
        e.close();
    }

    @Test
    void shutdownNowReturnsTheQueuedTasksThatNeverStarted() throws Exception {
        FiberExecutor e = bounded(1, FiberExecutor.Saturation.QUEUE);
        CountDownLatch ran = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        e.execute(() -> {
            started.incrementAndGet();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException interrupted) {
                ran.countDown();
            }
        });
        while (started.get() == 0) Thread.sleep(1);
        Runnable plain = started::incrementAndGet;
        e.execute(plain);
        Future<Integer> submitted = e.submit(() -> started.incrementAndGet());
        List<Runnable> never = e.shutdownNow();
        assertEquals(List.of(plain, (Runnable) submitted), never);
        assertTrue(ran.await(10, SECONDS), "the running task is interrupted");
        assertTrue(e.awaitTermination(10, SECONDS));
        assertEquals(1, started.get(), "queued tasks never ran");
        assertFalse(submitted.isDone());
        e.close();
    }

    @Test
    void noQueuedTaskIsLostWhenSubmissionsRaceShutdown() throws Exception {
        for (int round = 0; round < 10; round++) {
            FiberExecutor e = bounded(2, round % 2 == 0 ? FiberExecutor.Saturation.QUEUE : FiberExecutor.Saturation.WAIT);
            AtomicInteger accepted = new AtomicInteger(), ran = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int s = 0; s < 3; s++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; i < 1_000; i++) {
                            e.execute(ran::incrementAndGet);
                            accepted.incrementAndGet();
                        }
                    } catch (RejectedExecutionException expected) {
                        // shut down
                    }
                }));
            }
            Thread.sleep(round % 3);
            e.shutdown();
            for (Thread t : threads) t.join();
            assertTrue(e.awaitTermination(10, SECONDS));
            assertEquals(accepted.get(), ran.get(), "round " + round);
            e.close();
        }
    }

    // ---- schedulers --------------------------------------------------------------------------------

    @Test
    void closingAnExecutorLeavesASharedSchedulerRunning() throws Exception {
        FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared").parallelism(1).build());
        FiberExecutor a = FiberExecutor.builder().name("a").scheduler(shared).build();
        FiberExecutor b = FiberExecutor.builder().name("b").scheduler(shared).build();
        a.submit(() -> 1).get();
        a.close();
        assertTrue(a.isTerminated());
        assertFalse(shared.isShutdown());
        assertEquals(2, b.submit(() -> 2).get());
        shared.close();
        RejectedExecutionException x = assertThrows(RejectedExecutionException.class, () -> b.execute(() -> { }));
        assertTrue(x.getMessage().contains("scheduler 'shared' is shut down"), x.getMessage());
        assertThrows(RejectedExecutionException.class, () -> b.submit(() -> 3));
        assertThrows(RejectedExecutionException.class, () -> b.invokeAll(List.of(() -> 4)));
        assertFalse(b.isShutdown(), "the executor itself was not shut down");
        b.close();
        assertTrue(b.isTerminated());
    }

    /**
     * A task that closes its own executor would wait for itself: refused with IllegalStateException,
     * leaving the executor as it was. Deliberate difference: the JDK's executors wait for ever (so this
     * cannot run in ExecutorConformanceTest). A fiber of the same scheduler that is not one of the
     * executor's tasks closes it as any thread does.
     */
    @ParameterizedTest
    @ValueSource(strings = {"shared", "own", "bounded"})
    void aTaskClosingItsOwnExecutorIsRefusedInsteadOfWaitingForItself(String kind) throws Exception {
        FiberExecutor e = switch (kind) {
            case "shared" -> FiberExecutor.create(scheduler);
            case "own" -> FiberExecutor.builder().name("self-own")
                    .ownScheduler(SchedulerConfig.builder().name("self-own").parallelism(1).build()).build();
            default -> bounded(4, FiberExecutor.Saturation.QUEUE);
        };
        AtomicReference<Throwable> seen = new AtomicReference<>();
        e.submit(() -> {
            try {
                e.close();
            } catch (Throwable t) {
                seen.set(t);
            }
        }).get(10, SECONDS);
        assertInstanceOf(IllegalStateException.class, seen.get());
        assertFalse(e.isShutdown(), "refused: the executor is as it was");
        assertEquals(42, e.submit(() -> 42).get(10, SECONDS));
        Thread closer = e.scheduler().start(e::close);   // a fiber of the scheduler, not a task
        closer.join(SECONDS.toMillis(10));
        assertFalse(closer.isAlive(), "a non-task fiber's close() returns");
        assertTrue(e.isTerminated());
    }

    @Test
    void anExecutorStopsItsOwnSchedulerWhenItTerminates() throws Exception {
        FiberExecutor e = FiberExecutor.builder().name("solo")
                .ownScheduler(SchedulerConfig.builder().name("solo").parallelism(1).build()).build();
        assertEquals("solo", e.scheduler().name());
        e.submit(() -> 1).get();
        e.close();
        assertTrue(e.scheduler().isTerminated());
    }

    @Test
    void closeInterruptedWhileWaitingForItsOwnSchedulerInterruptsTheViewsFibers() throws Exception {
        // close() of an executor with its own scheduler also waits for the fibers made through its views;
        // if interrupted while waiting, it must stop them as it stops tasks (ExecutorService.close:
        // "if interrupted while waiting, stops all executing tasks as if by shutdownNow"), not wait forever.
        FiberExecutor e = FiberExecutor.builder().name("own-view")
                .ownScheduler(SchedulerConfig.builder().name("own-view").parallelism(1).build()).build();
        CountDownLatch started = new CountDownLatch(1), never = new CountDownLatch(1);
        AtomicInteger interrupted = new AtomicInteger();
        Thread view = e.threadFactory().newThread(() -> {
            started.countDown();
            try {
                never.await();
            } catch (InterruptedException x) {
                interrupted.incrementAndGet();
            }
        });
        view.start();
        assertTrue(started.await(10, SECONDS));
        AtomicReference<Boolean> statusKept = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().daemon().start(() -> {
            e.close();
            statusKept.set(Thread.currentThread().isInterrupted());
        });
        try {
            awaitState(closer, Thread.State.TIMED_WAITING);         // close() waits for the scheduler
            assertTrue(e.isTerminated(), "the executor had no task: close() waits for its scheduler");
            closer.interrupt();
            closer.join(SECONDS.toMillis(5));
            assertFalse(closer.isAlive(), "close() still waits for the view's fiber after its interrupt");
            assertEquals(1, interrupted.get(), "the view's fiber was interrupted");
            assertEquals(Boolean.TRUE, statusKept.get(), "close() returns with the interrupt status set");
            assertTrue(e.scheduler().isTerminated());
        } finally {
            never.countDown();
            closer.join(SECONDS.toMillis(10));
        }
    }

    @Test
    void awaitTerminationAndCloseReturnOnlyOnceTheTerminationActionsRan() throws Exception {
        // onTermination: "runs action ... before awaitTermination and close() return". A thread that
        // asks while the last task's thread is still running the actions must wait for them.
        FiberExecutor e = FiberExecutor.builder().name("actions").scheduler(scheduler).build();
        CountDownLatch taskRelease = new CountDownLatch(1), inAction = new CountDownLatch(1), actionRelease = new CountDownLatch(1);
        AtomicInteger actionsDone = new AtomicInteger();
        e.execute(() -> {
            try {
                taskRelease.await();
            } catch (InterruptedException ignored) {
                // not expected
            }
        });
        e.onTermination(() -> {
            inAction.countDown();
            try {
                actionRelease.await();
            } catch (InterruptedException ignored) {
                // not expected
            }
            actionsDone.incrementAndGet();
        });
        e.shutdown();
        taskRelease.countDown();
        try {
            assertTrue(inAction.await(10, SECONDS), "the last task's end runs the action");
            assertTrue(e.isTerminated());
            boolean awaited = e.awaitTermination(200, MILLISECONDS);
            assertTrue(!awaited || actionsDone.get() == 1, "awaitTermination returned true while the action still ran");
            Thread closer = Thread.ofPlatform().daemon().start(e::close);
            closer.join(200);
            assertTrue(closer.isAlive() || actionsDone.get() == 1, "close() returned while the action still ran");
            actionRelease.countDown();
            closer.join(SECONDS.toMillis(10));
            assertFalse(closer.isAlive());
            assertTrue(e.awaitTermination(0, SECONDS));
            assertEquals(1, actionsDone.get());
        } finally {
            actionRelease.countDown();
        }
    }

    @Test
    void yieldingFibersDoNotBreakSchedulerTermination() throws Exception {
        // A fiber resumed on another carrier after Thread.yield could be counted as terminated twice,
        // which left the live count negative and close() waiting forever.
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("yield").parallelism(2).build());
        try (FiberExecutor e = FiberExecutor.create(s)) {
            List<Callable<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) tasks.add(() -> { Thread.yield(); Thread.yield(); return 1; });
            e.invokeAll(tasks);
        }
        long deadline = System.nanoTime() + SECONDS.toNanos(10);
        while (s.stats().liveFibers() != 0 && System.nanoTime() < deadline) Thread.sleep(1);
        assertEquals(0, s.stats().liveFibers(), () -> s.stats().toString());
        s.shutdown();
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)));
    }

    /**
     * shutdownNow interrupts the executor's own task and nothing else on the shared scheduler (another
     * executor's task, a fiber of its thread-factory view, a fiber its task started), and termination
     * waits for its own task only.
     */
    @Test
    void shutdownNowInterruptsExactlyItsOwnTasksOnASharedScheduler() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch waiting = new CountDownLatch(4);              // own task, other's task, view fiber, child
        AtomicInteger interrupted = new AtomicInteger();            // a bit per fiber: 1 own, 2 other, 4 view, 8 child
        FiberExecutor own = FiberExecutor.builder().name("own").scheduler(scheduler).build();
        try (FiberExecutor other = FiberExecutor.builder().name("other").scheduler(scheduler).build()) {
            List<Thread> extra = new ArrayList<>();
            own.execute(() -> {
                extra.add(Thread.ofVirtual().start(() -> waitFor(release, waiting, interrupted, 8)));
                waitFor(release, waiting, interrupted, 1);
            });
            other.execute(() -> waitFor(release, waiting, interrupted, 2));
            Thread view = own.threadFactory().newThread(() -> waitFor(release, waiting, interrupted, 4));
            view.start();
            assertTrue(waiting.await(10, SECONDS));
            assertEquals(1, own.activeCount());
            assertEquals(List.of(), own.shutdownNow());
            assertTrue(own.awaitTermination(10, SECONDS), "the own task ends on its interrupt");
            assertEquals(1, interrupted.get(), "only the own task was interrupted");
            assertFalse(other.isShutdown());
            release.countDown();
            view.join();
            for (Thread t : extra) t.join();
        } finally {
            release.countDown();
            own.close();
        }
        assertEquals(1, interrupted.get());
    }

    /**
     * Termination waits until the tasks' fibers have exited, not only until their tasks returned: a
     * fiber counts from just before its start until the carrier that saw it terminate removed it from
     * the scheduler's registry. (The JDK's thread-per-task executor counts a thread out as its task
     * returns, so there a thread may still be alive just after termination; Bobbin's answer is the
     * stronger one.)
     */
    @Test
    void terminationWaitsUntilEveryTaskFiberHasExited() throws Exception {
        for (int round = 0; round < 20; round++) {
            FiberExecutor e = FiberExecutor.builder().name("exits").scheduler(scheduler).build();
            List<Thread> fibers = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 200; i++) e.execute(() -> fibers.add(Thread.currentThread()));
            e.shutdown();
            assertTrue(e.awaitTermination(10, SECONDS));
            assertEquals(200, fibers.size());
            for (Thread t : fibers) assertFalse(t.isAlive(), "a task fiber still alive after termination: " + t);
            assertEquals(0, e.activeCount());
        }
    }

    /** Counts down {@code waiting}, then waits for {@code release}; sets {@code bit} if interrupted. */
    private static void waitFor(CountDownLatch release, CountDownLatch waiting, AtomicInteger interrupted, int bit) {
        waiting.countDown();
        try {
            release.await();
        } catch (InterruptedException e) {
            interrupted.getAndAccumulate(bit, (x, y) -> x | y);
        }
    }

    // ---- views -------------------------------------------------------------------------------------

    @Test
    void theThreadFactoryServesTheJdksThreadPerTaskExecutor() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("tf").scheduler(scheduler).build();
             ExecutorService jdk = Executors.newThreadPerTaskExecutor(e.threadFactory())) {
            assertSame(scheduler, jdk.submit(() -> FiberScheduler.current().orElseThrow()).get());
            assertTrue(jdk.submit(() -> Thread.currentThread().getName()).get().startsWith("tf-"));
            Thread t = e.ofVirtual().name("custom").start(() -> { });
            t.join();
            assertEquals("custom", t.getName());
        }
    }

    @Test
    void completableFuturesRunOnTheExecutor() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("cf").scheduler(scheduler).build()) {
            CompletableFuture<FiberScheduler> f = CompletableFuture.supplyAsync(() -> FiberScheduler.current().orElseThrow(), e);
            assertSame(scheduler, f.get(10, SECONDS));
            assertEquals("cf-", CompletableFuture.supplyAsync(() -> Thread.currentThread().getName(), e)
                    .thenApplyAsync(n -> n.substring(0, 3), e).get(10, SECONDS));
        }
    }

    @Test
    @SuppressWarnings("preview")   // StructuredTaskScope is a preview API in JDK 25
    void structuredTaskScopeForksOnTheScheduler() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("sts").scheduler(scheduler).build();
             var scope = StructuredTaskScope.open(StructuredTaskScope.Joiner.<FiberScheduler>allSuccessfulOrThrow(),
                     cfg -> cfg.withThreadFactory(e.threadFactory()))) {
            var a = scope.fork(() -> FiberScheduler.current().orElseThrow());
            var b = scope.fork(() -> FiberScheduler.current().orElseThrow());
            scope.join();
            assertSame(scheduler, a.get());
            assertSame(scheduler, b.get());
        }
    }

    /**
     * invokeAll's fan-out: tasks the caller has handed over before a shutdown all run, as with the JDK's
     * executor, where they would have started before the shutdown; the shutdown must not cancel chunks
     * whose starter fibers had not run yet. The only carrier is held by a task without a blocking point,
     * so every later starter is still queued when the shutdown comes.
     */
    @Test
    void tasksHandedToInvokeAllBeforeAShutdownAllRun() throws Exception {
        FiberExecutor e = FiberExecutor.builder().name("fan")
                .ownScheduler(SchedulerConfig.builder().name("fan").parallelism(1).maxSpareCarriers(0).build()).build();
        java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            int n = i;
            tasks.add(() -> {
                if (n == 0) while (!release.get()) Thread.onSpinWait();   // holds the carrier
                return n;
            });
        }
        CompletableFuture<List<Future<Integer>>> result = new CompletableFuture<>();
        Thread caller = Thread.ofPlatform().start(() -> {
            try {
                result.complete(e.invokeAll(tasks));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        // waiting for a future (its blocker): WAITING alone may be a lock the caller contends while it
        // still hands tasks over, and a shutdown then refuses the rest
        long deadline = System.nanoTime() + SECONDS.toNanos(10);
        while (!ExecutorConformanceTest.InvokeAllAgainstShutdownNow.waitsForAFuture(caller)
                && System.nanoTime() < deadline) Thread.sleep(1);
        assertTrue(ExecutorConformanceTest.InvokeAllAgainstShutdownNow.waitsForAFuture(caller),
                "the caller handed every task over and waits");
        e.shutdown();
        release.set(true);
        List<Future<Integer>> fs = result.get(10, SECONDS);
        for (int i = 0; i < fs.size(); i++) assertEquals(i, fs.get(i).resultNow());
        assertTrue(e.awaitTermination(10, SECONDS));
        e.close();
    }

    /**
     * invokeAll's fan-out and shutdownNow: a task whose chunk's starter had not run when shutdownNow swept
     * the executor's fibers is still interrupted (the JDK's executor would have started it, and
     * interrupted it, by then; {@code ExecutorConformanceTest} checks the same against the JDK), and the
     * starters do not count as completed tasks. The only carrier is held by a task submitted first, which
     * spins until the shutdownNow, so every starter is still queued when it comes.
     */
    @Test
    void shutdownNowInterruptsTasksInvokeAllHadNotStartedAndStartersAreNotTasks() throws Exception {
        FiberExecutor e = FiberExecutor.builder().name("fan-now")
                .ownScheduler(SchedulerConfig.builder().name("fan-now").parallelism(1).maxSpareCarriers(0).build()).build();
        int many = 1_000;
        var run = new ExecutorConformanceTest.InvokeAllAgainstShutdownNow(e, 1, many, 10);
        run.handOverThenShutdownNow();
        List<String> results = run.results();
        for (int i = 0; i < results.size(); i++) assertEquals("interrupted", results.get(i), "task " + i);
        assertTrue(e.awaitTermination(10, SECONDS));
        assertEquals(many + 1, e.completedTaskCount(), "the tasks and the holder, not the starters");
        e.close();
    }

    /** After invokeAll of many tiny tasks from outside, each task counts once as completed, and nothing else does. */
    @Test
    void completedTaskCountCountsInvokeAllsTasksOnly() throws Exception {
        int many = 5_000;
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < many; i++) {
            int n = i;
            tasks.add(() -> n);
        }
        FiberExecutor e = FiberExecutor.create(scheduler);
        long seen = 0;
        for (int round = 1; round <= 3; round++) {
            for (Future<Integer> f : e.invokeAll(tasks)) assertTrue(f.isDone());
            long now = e.completedTaskCount();
            assertTrue(now >= seen && now <= (long) round * many, "round " + round + ": " + now + " after " + seen);
            seen = now;
        }
        e.close();
        assertEquals(3L * many, e.completedTaskCount());
    }

    /**
     * Stress for the race between shutdownNow's sweep and invokeAll's starters: shutdownNow at a random
     * moment of a large invokeAll from a platform thread. Whatever it meets (the caller still handing
     * tasks over, starters running, tasks running), every task handed over ends interrupted or cancelled,
     * so the executor terminates; a task the sweep missed and no starter interrupted would wait a minute.
     */
    @Test
    @Timeout(value = 120, unit = SECONDS)
    void shutdownNowAtARandomMomentOfAnInvokeAllLeavesNoTaskWaiting() throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        for (int round = 0; round < 40; round++) {
            FiberExecutor e = FiberExecutor.create(scheduler);
            CountDownLatch never = new CountDownLatch(1);
            List<Callable<String>> tasks = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                tasks.add(() -> never.await(60, SECONDS) ? "released" : "not interrupted");
            }
            CompletableFuture<List<Future<String>>> result = new CompletableFuture<>();
            Thread caller = Thread.ofPlatform().start(() -> {
                try {
                    result.complete(e.invokeAll(tasks));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
            long until = System.nanoTime() + random.nextLong(0, 2_000_000);
            while (System.nanoTime() < until) Thread.onSpinWait();
            e.shutdownNow();
            try {
                boolean terminated = e.awaitTermination(10, SECONDS);
                assertTrue(terminated, "round " + round + ": a task was left waiting, " + e);
                try {
                    for (Future<String> f : result.get(10, SECONDS)) {
                        assertTrue(f.isCancelled() || f.state() == Future.State.FAILED, "round " + round + ": " + f.state());
                    }
                } catch (ExecutionException x) {
                    assertInstanceOf(RejectedExecutionException.class, x.getCause(), "round " + round);
                }
            } finally {
                never.countDown();
                caller.join();
            }
        }
    }

    /**
     * Stress for the race between shutdownNow and a bounded executor's queue: a task that finishes hands
     * its slot to the head of the queue, which may leave the queue just before shutdownNow drains it and
     * start just after its sweep. Tasks churn through one slot until shutdownNow comes at a random moment;
     * a task that starts once the executor is shut down waits for an interrupt, which must come. The
     * window is narrow (a slot hand-off takes a few hundred nanoseconds against the sweep's microseconds),
     * so this stress seldom meets it; the invokeAll tests above check the same start-interrupted path
     * ({@code Admission.startAccepted}) deterministically.
     */
    @Test
    @Timeout(value = 120, unit = SECONDS)
    void shutdownNowAtARandomMomentOfAQueueLeavesNoTaskWaiting() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 40; round++) {
            FiberExecutor e = bounded(1, FiberExecutor.Saturation.QUEUE);
            CountDownLatch never = new CountDownLatch(1);
            Runnable task = () -> {
                if (!e.isShutdown()) return;
                try {
                    never.await(60, SECONDS);
                } catch (InterruptedException expected) {
                    // shutdownNow's, which this task must get
                }
            };
            for (int i = 0; i < 5_000; i++) e.execute(task);
            long until = System.nanoTime() + random.nextLong(0, 2_000_000);
            while (System.nanoTime() < until) Thread.onSpinWait();
            List<Runnable> drained = e.shutdownNow();
            try {
                assertTrue(e.awaitTermination(10, SECONDS),
                        "round " + round + ": a task was left waiting, " + e + ", " + drained.size() + " drained");
            } finally {
                never.countDown();
            }
        }
    }
}
