package dev.bobbin;

import dev.bobbin.scheduler.JdkVirtualThreads;

import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;

/**
 * Turns a {@link FiberExecutor}'s accepted tasks into running fibers and sees each one out: admission
 * against the bound, fiber creation, start or withdrawal, and the job's end.
 *
 * <p>Implementation overview.
 *
 * <p>Jobs. Each accepted task becomes a "job": the user's Runnable ({@code execute}) or a
 * {@link TaskFuture} ({@code submit}, invokeAll, invokeAny). A job runs on a new fiber made by
 * {@code factory} and wrapped in a {@link Worker}, whose {@code finally} calls {@link #jobDone}: the
 * last thing the fiber does for the executor.
 *
 * <p>Admission. {@link #admit} checks the executor runs, then either starts the job at once
 * (unbounded: no lock) or asks {@link Slots} for a slot, which may wait, refuse or queue the job. A
 * start counts the fiber and enrols it in the scheduler's registry before {@code Thread.start}
 * ({@link ExecutorState#track}: the Dekker pair with shutdown); a start that fails (shut down meanwhile,
 * or the scheduler refused it) withdraws the fiber and gives its slot back, and the caller gets the
 * RejectedExecutionException.
 *
 * <p>The end of a job. {@link #jobDone} (when bounded) passes its slot to the head of
 * the queue and starts that job before the finishing fiber exits (and is counted out), so the count
 * never reaches zero while queued work remains; queued jobs therefore also run after shutdown(), and shutdownNow()
 * drains and returns them. A queued job whose start the scheduler refuses (a shared scheduler shut
 * down) fails: its future completes exceptionally, or the handler hears of a plain task; the slot
 * moves on to the next one.
 */
final class Admission {
    private final ExecutorState lifecycle;         // the fiber count and the state every start checks
    private final Slots slots;                     // null when unbounded
    private final ThreadFactory factory;           // named <name>-<n>, with the configured handler
    private final FiberScheduler scheduler;        // for messages and the fan-out factory
    private final Thread.UncaughtExceptionHandler handler; // hears of failed queued tasks; null for the JDK's
    private volatile ThreadFactory fanOutFactory;  // invokeAll's starters, made at the first fan-out

    Admission(ExecutorState lifecycle, Slots slots, ThreadFactory factory, FiberScheduler scheduler,
              Thread.UncaughtExceptionHandler handler) {
        this.lifecycle = lifecycle;
        this.slots = slots;
        this.factory = factory;
        this.scheduler = scheduler;
        this.handler = handler;
    }

    ExecutorState lifecycle() {
        return lifecycle;
    }

    boolean isBounded() {
        return slots != null;
    }

    /** Jobs waiting for a slot under QUEUE; 0 when unbounded. Racy. */
    int queued() {
        return slots != null ? slots.queued() : 0;
    }

    /** Submits {@code task} as a job and returns its future, or throws RejectedExecutionException. */
    <T> TaskFuture<T> submit(Callable<T> task) {
        TaskFuture<T> future = new TaskFuture<>(task);
        admit(future);
        return future;
    }

    /** Accepts a job or throws RejectedExecutionException. */
    void admit(Runnable job) {
        admit(job, false, 0, null);
    }

    /** Wakes the submitters waiting for a slot, to re-check their abandon condition; none when unbounded. */
    void wakeSlotWaiters() {
        if (slots != null) slots.wakeWaiters();
    }

    /**
     * Accepts a task of invokeAll or invokeAny, or throws RejectedExecutionException; with {@code timed},
     * returns false if a WAIT executor had no free slot before {@code deadline} (a
     * {@code System.nanoTime()} value), the task then not accepted. A WAIT caller interrupted meanwhile
     * gets InterruptedException, as from the JDK's bulk operations.
     */
    boolean admitInBatch(TaskFuture<?> task, boolean timed, long deadline) throws InterruptedException {
        return admitInBatch(task, timed, deadline, null);
    }

    /**
     * {@link #admitInBatch}, where a WAIT caller also stops waiting for a slot, and returns false, once
     * {@code abandon} holds (invokeAny, once a task has succeeded); whoever makes it true calls
     * {@link #wakeSlotWaiters}.
     */
    boolean admitInBatch(TaskFuture<?> task, boolean timed, long deadline, java.util.function.BooleanSupplier abandon)
            throws InterruptedException {
        try {
            return admit(task, timed, deadline, abandon);
        } catch (RejectedExecutionException e) {
            if (e.getCause() instanceof InterruptedException && Thread.interrupted()) throw new InterruptedException();
            throw e;
        }
    }

    /**
     * Accepts a job or throws RejectedExecutionException (also for a WAIT caller interrupted while it
     * waits); with {@code timed}, returns false if a WAIT executor had no free slot before {@code deadline}.
     */
    private boolean admit(Runnable job, boolean timed, long deadline, java.util.function.BooleanSupplier abandon) {
        lifecycle.ensureRunning();
        if (slots == null) {
            start(job);
            return true;
        }
        // a job that may be queued gets its fiber now, on the submitter: what it inherits is the submitter's
        Thread fiber = slots.queues() ? newFiber(factory, job) : null;
        switch (slots.acquire(lifecycle, job, fiber, timed, deadline, abandon)) {
            case SLOT -> {
                try {
                    if (fiber != null) startCreated(fiber);
                    else start(job);
                } catch (Throwable t) {
                    releaseSlot();
                    lifecycle.terminateIfShutdown();
                    throw t;
                }
            }
            case QUEUED -> { }                   // a finishing job starts it
            case TIMED_OUT -> {
                return false;
            }
        }
        return true;
    }

    /** Starts a new job's fiber, refusing it if the executor is no longer running. */
    private void start(Runnable job) {
        startCreated(newFiber(factory, job));
    }

    /** Starts a fiber made by {@link #newFiber}, refusing it if the executor is no longer running. */
    void startCreated(Thread fiber) {
        lifecycle.track(fiber);
        startOrWithdraw(fiber);
    }

    /** Starts a fan-out starter made by {@link #newFanOutFiber}, refusing it if the executor is no longer running. */
    void startStarter(Thread starter) {
        lifecycle.trackStarter(starter);
        startOrWithdraw(starter);
    }

    /**
     * Starts the fiber of a job accepted before a shutdown (a queued job handed a slot, or a fan-out chunk
     * the caller built while the executor was running): shutdown() lets accepted work run, so only a
     * scheduler that refuses it stops it. The caller's own fiber is counted, so termination waits. After
     * shutdownNow() the fiber is interrupted as it starts, as its sweep would have interrupted it.
     */
    void startAccepted(Thread fiber) {
        lifecycle.trackAccepted(fiber);
        startOrWithdraw(fiber);
        if (lifecycle.stopping()) fiber.interrupt();   // enrolled first: the sweep listed it, or this sees the flag
    }

    /** A new, unstarted fiber of this executor that runs {@code job}. */
    Thread newFiber(Runnable job) {
        return newFiber(factory, job);
    }

    /** A new, unstarted fiber that starts invokeAll chunks ({@link InvokeAll}); it is a job too. */
    Thread newFanOutFiber(Runnable starter) {
        ThreadFactory f = fanOutFactory;                          // volatile; racy init is benign
        if (f == null) {
            // inherit nothing from the caller: the starter runs no user code
            fanOutFactory = f = scheduler.ofVirtual().name(lifecycle.name() + "-fan-out")
                    .inheritInheritableThreadLocals(false).factory();
        }
        return newFiber(f, starter);
    }

    private Thread newFiber(ThreadFactory from, Runnable job) {
        Thread fiber = from.newThread(new Worker(this, job));
        if (fiber == null) {
            throw new RejectedExecutionException("executor '" + lifecycle.name() + "' could not create a fiber");
        }
        return fiber;
    }

    private void startOrWithdraw(Thread fiber) {
        try {
            JdkVirtualThreads.start(fiber, lifecycle.container());
        } catch (RejectedExecutionException e) {
            lifecycle.withdraw(fiber);
            throw new RejectedExecutionException("executor '" + lifecycle.name() + "' cannot start a task: scheduler '"
                    + scheduler.name() + "' is shut down", e);
        } catch (Throwable t) {
            lifecycle.withdraw(fiber);
            throw t;
        }
    }

    /** Runs a job on its fiber; the last thing the fiber does is report the job done. */
    private record Worker(Admission admission, Runnable job) implements Runnable {
        @Override
        public void run() {
            try {
                job.run();
            } finally {
                admission.jobDone();
            }
        }
    }

    /**
     * Called on a job's fiber when the job has finished, normally or not. The fiber is counted out when
     * it exits (ExecutorState.exited), after any queued job this starts.
     */
    private void jobDone() {
        if (slots != null) releaseSlot();
    }

    /** Passes the slot to queued jobs until one starts, or frees it. */
    private void releaseSlot() {
        Slots.Queued next;
        while ((next = slots.release()) != null) {
            try {
                startAccepted(next.fiber());            // accepted earlier: it starts even after shutdown()
                return;
            } catch (RejectedExecutionException e) {
                failQueued(next.job(), e);              // the shared scheduler is gone; try the next one
            }
        }
    }

    /** A queued job that can never start: its future fails, or the handler hears of a plain task. */
    private void failQueued(Runnable job, RejectedExecutionException e) {
        if (job instanceof TaskFuture<?> f) {
            f.fail(e);
        } else {
            Thread.UncaughtExceptionHandler h = handler != null
                    ? handler : Thread.currentThread().getUncaughtExceptionHandler();
            try {
                h.uncaughtException(Thread.currentThread(), e);
            } catch (Throwable ignored) {
                // a failing handler must not stop the hand-off
            }
        }
    }
}
