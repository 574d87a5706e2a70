package dev.bobbin;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.bobbin.scheduler.Tunables;

/**
 * The future of a task submitted to a {@link FiberExecutor} ({@code submit}, {@code invokeAll},
 * {@code invokeAny}); it is also the job its fiber runs, and cancel(true) interrupts that fiber.
 *
 * <p>Implementation overview. Everything but waiting is {@link FutureTask}'s. A platform thread that
 * waits for it first spin-waits briefly ({@link Tunables#GET_SPIN_NANOS}): a short task finishes within
 * that time, and then neither its fiber pays an unpark nor the waiter a park and wake-up (two system
 * calls and a context switch, more than the task itself costs). A fiber waiter parks at once: spinning
 * would hold its carrier. The spin reads only {@code isDone()} (FutureTask's volatile state), which
 * pairs with the completing fiber's state write; {@code super.get} then returns the outcome.
 */
class TaskFuture<T> extends FutureTask<T> {
    /**
     * A future of invokeAll or invokeAny: its caller waits for it and never sees the list shutdownNow
     * returns, so a shutdownNow that drains it from the queue cancels it.
     */
    final boolean inBatch;

    TaskFuture(Callable<T> task) { this(task, false); }

    TaskFuture(Callable<T> task, boolean inBatch) {
        super(task);
        this.inBatch = inBatch;
    }

    /** Completes a job that can never start (a queued job whose scheduler is gone) with {@code e}. */
    void fail(Throwable e) { setException(e); }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        spinUntilDone(Tunables.GET_SPIN_NANOS);
        return super.get();
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        spinUntilDone(Math.min(Tunables.GET_SPIN_NANOS, unit.toNanos(timeout)));
        return super.get(timeout, unit);
    }

    private void spinUntilDone(long nanos) {
        if (nanos <= 0 || isDone() || Thread.currentThread().isVirtual()) return;
        long start = System.nanoTime();
        do {
            Thread.onSpinWait();
        } while (!isDone() && System.nanoTime() - start < nanos);
    }
}
