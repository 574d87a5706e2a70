package dev.bobbin;

import dev.bobbin.scheduler.Tunables;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * {@link FiberExecutor#invokeAll}, timed and untimed: submit every task, wait for each future (the last
 * first), and cancel what is left if the wait ends early (interrupt, timeout, refusal).
 *
 * <p>Implementation overview. A batch from a fiber of the scheduler, a small batch and any batch of a
 * bounded executor are submitted one by one, exactly as {@code submit} does. A large unbounded batch
 * from a thread outside the scheduler fans out: the caller creates each chunk's fibers
 * ({@link Tunables#FANOUT_CHUNK} of them, so they inherit its thread-locals and context class loader as
 * submitted ones do) and starts one {@link FanOut} fiber per chunk that starts them. A start made on a
 * carrier goes to its local queue and spreads by stealing; a start from outside crosses the injection
 * queue and may wake a carrier each time. The caller builds the next chunk meanwhile, so a chunk's
 * tasks start only once the caller has read the whole chunk from the collection.
 *
 * <p>Lifecycle. The starter is itself a job (it is in the live set while it runs, though not counted as
 * a completed task), and its chunk was accepted while the executor ran, so the chunk starts even if
 * shutdown() came meanwhile ({@link Admission#startAccepted}), and after shutdownNow() each starts
 * interrupted, as shutdownNow() would have interrupted it had it started before
 * ({@code ExecutorState.stopping}). A start the scheduler refuses (it was shut down) is recorded in the
 * batch's {@link FanOutFailure} and cancels the chunk's rest, so nobody waits for it; the caller
 * rethrows the refusal once it has waited for every future. The record is a volatile CAS that happens
 * before the cancels, whose completion the caller's {@code get} observes, so the caller's later read
 * sees it.
 */
final class InvokeAll {
    private InvokeAll() { }

    /**
     * Submits every task, waits for each (until {@code deadline}, a {@code System.nanoTime()} value, when
     * {@code timed}), and returns the futures; on timeout, the futures with the unfinished ones
     * cancelled, as are those of tasks a bounded WAIT executor had no slot for in time. Whatever was
     * submitted and not waited for is cancelled if this throws.
     */
    static <T> List<Future<T>> invokeAll(Admission admission, Collection<? extends Callable<T>> tasks,
                                         boolean timed, long deadline) throws InterruptedException {
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        int unwaited = -1;                       // futures below this index are not waited for yet; -1: the wait has not begun
        try {
            FanOutFailure fanOut = submitAll(admission, tasks, futures, timed, deadline);
            // From the last future down: tasks finish about in the order they started, so the caller
            // parks about once, for the last, and then finds the others done. Waiting in order, it kept
            // catching up with the running tasks, each time spinning, parking and costing the carrier
            // that finished the task an unpark of a platform thread.
            for (unwaited = futures.size(); unwaited > 0; unwaited--) {
                Future<T> f = futures.get(unwaited - 1);
                if (!f.isDone()) {
                    try {
                        if (timed) f.get(deadline - System.nanoTime(), NANOSECONDS);
                        else f.get();
                    } catch (TimeoutException e) {
                        return futures;                         // the rest is cancelled below
                    } catch (ExecutionException | CancellationException ignored) {
                        // reported through the future
                    }
                }
            }
            if (fanOut != null) fanOut.rethrow(admission.lifecycle().name());
            return futures;
        } finally {
            cancelBelow(futures, unwaited < 0 ? futures.size() : unwaited);
        }
    }

    /**
     * Submits the tasks in order, adding each future to {@code futures} as it goes (so the caller can
     * cancel what was submitted when this throws). A timed batch that a bounded WAIT executor has no
     * slot for by {@code deadline} gets its remaining futures cancelled, never submitted, as the JDK's
     * timed invokeAll does when its time runs out while it submits. Returns where the fan-out records a
     * refused start, which the caller must rethrow once it has waited, or null without a fan-out.
     */
    private static <T> FanOutFailure submitAll(Admission admission, Collection<? extends Callable<T>> tasks,
                                               List<Future<T>> futures, boolean timed, long deadline)
            throws InterruptedException {
        if (admission.isBounded() || tasks.size() < Tunables.FANOUT_MIN_TASKS || FiberScheduler.current().isPresent()) {
            boolean late = false;
            for (Callable<T> t : tasks) {
                TaskFuture<T> f = new TaskFuture<>(Objects.requireNonNull(t, "task"), true);
                futures.add(f);
                if (late || !admission.admitInBatch(f, timed, deadline)) {
                    late = true;
                    f.cancel(false);
                }
            }
            return null;
        }
        FanOutFailure failure = new FanOutFailure();
        Iterator<? extends Callable<T>> it = tasks.iterator();
        while (it.hasNext()) {
            Thread[] chunk = new Thread[Tunables.FANOUT_CHUNK];
            TaskFuture<?>[] chunkFutures = new TaskFuture<?>[Tunables.FANOUT_CHUNK];
            int n = 0;
            while (n < chunk.length && it.hasNext()) {
                TaskFuture<T> f = new TaskFuture<>(Objects.requireNonNull(it.next(), "task"), true);
                if (n == 0) admission.lifecycle().ensureRunning();   // as submit does: the null check first
                chunk[n] = admission.newFiber(f);
                chunkFutures[n++] = f;
                futures.add(f);
            }
            admission.startStarter(admission.newFanOutFiber(new FanOut(admission, chunk, chunkFutures, n, failure)));
        }
        return failure;
    }

    private static <T> void cancelBelow(List<Future<T>> futures, int end) {
        for (int i = 0; i < end; i++) futures.get(i).cancel(true);
    }

    /**
     * A fiber that starts one chunk of invokeAll's fibers. If the scheduler refuses a start, it records
     * the exception and cancels the chunk's futures that did not start.
     */
    private static final class FanOut implements Runnable {
        private final Admission admission;
        private final Thread[] fibers;                  // created by the caller, not started
        private final TaskFuture<?>[] futures;          // fibers[i] runs futures[i]
        private final int count;                        // used length of both arrays
        private final FanOutFailure failure;            // shared by the chunks of one invokeAll

        FanOut(Admission admission, Thread[] fibers, TaskFuture<?>[] futures, int count, FanOutFailure failure) {
            this.admission = admission;
            this.fibers = fibers;
            this.futures = futures;
            this.count = count;
            this.failure = failure;
        }

        @Override
        public void run() {
            for (int i = 0; i < count; i++) {
                if (futures[i].isDone()) continue;      // cancelled by an interrupted or timed-out caller
                try {
                    admission.startAccepted(fibers[i]);       // interrupted if shutdownNow() came
                    fibers[i] = null;                   // the batch's caller keeps only the futures
                } catch (Throwable e) {
                    failure.record(e);                  // before the cancels below, which wake the caller
                    for (int j = i; j < count; j++) futures[j].cancel(false);
                    return;
                }
            }
        }
    }

    /** The first start refused during one invokeAll's fan-out; its caller rethrows it. */
    private static final class FanOutFailure {
        private final AtomicReference<Throwable> first = new AtomicReference<>();

        void record(Throwable e) {
            first.compareAndSet(null, e);               // volatile; read by the caller after its futures completed
        }

        /** Throws the recorded refusal, if any; the caller has waited for every future. */
        void rethrow(String executorName) {
            Throwable e = first.get();                  // volatile; pairs with the CAS in record
            if (e instanceof RuntimeException r) throw r;
            if (e instanceof Error r) throw r;
            if (e != null) throw new RejectedExecutionException("executor '" + executorName + "'", e);
        }
    }
}
