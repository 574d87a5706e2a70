package dev.bobbin;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounded concurrency for a {@link FiberExecutor} with {@link FiberExecutor.Config#maxConcurrency()} K:
 * counts running jobs against K and holds the FIFO queue of {@link FiberExecutor.Saturation#QUEUE}. An
 * unbounded executor has none, so its path touches no lock.
 *
 * <p>Implementation overview. Everything is guarded by one short {@code lock}. A job that finds K
 * running waits on {@code freed} (WAIT), is refused (REJECT) or joins the queue (QUEUE); each path
 * checks the executor is still running under the lock, so a job cannot enter the queue after
 * shutdownNow drained it. Slots are only ever released by a finishing job or a failed start
 * ({@link #release}), and a release hands the slot straight to the head of the queue instead of freeing
 * it: the slot stays held while the queued job moves to its fiber, so {@link #idle} never reports an
 * empty executor between the queue and the fiber. shutdown wakes every WAIT waiter, which then sees the
 * executor shut down and is refused; a waiter checks the state under the lock before each wait, so a
 * shutdown between a submitter's check outside the lock and its wait is never missed.
 *
 * <p>{@code running} and {@code queued} are written under the lock and are volatile only for the racy
 * readers outside it: {@link #idle} (termination, which re-checks after every release) and the
 * statistics.
 */
final class Slots {
    private final int max;                                     // K
    private final FiberExecutor.Saturation saturation;         // what a job does when K run
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();       // signalled when a slot is freed or at shutdown
    private final ArrayDeque<Queued> queue = new ArrayDeque<>(); // QUEUE's waiting jobs; guarded by lock
    private volatile int running;              // slots held, written under lock; racy reads by idle()
    private volatile int queued;               // queue.size(), written under lock; racy reads

    Slots(int max, FiberExecutor.Saturation saturation) {
        this.max = max;
        this.saturation = saturation;
    }

    /**
     * A job waiting in the QUEUE, with the fiber that will run it, made on the submitting thread: it
     * inherits the submitter's inheritable thread-locals and context class loader, as a job that found a
     * slot does, and not those of whichever job's fiber frees the slot and starts it.
     */
    record Queued(Runnable job, Thread fiber) { }

    /** Whether a job that finds every slot taken joins the queue (QUEUE): it then needs its fiber made up front. */
    boolean queues() {
        return saturation == FiberExecutor.Saturation.QUEUE;
    }

    /** What {@link #acquire} did with a job. */
    enum Outcome {
        /** The caller holds a slot and must start the job. */
        SLOT,
        /** The job was queued; a finishing job starts it. */
        QUEUED,
        /** WAIT found no slot before the caller's deadline, or its caller gave up; the job was not accepted. */
        TIMED_OUT
    }

    /**
     * Takes a slot for {@code job}, queues it (with its {@code fiber}, made on the submitter) or times out
     * (WAIT with {@code timed}, at {@code deadline}, a {@code System.nanoTime()} value). Throws
     * RejectedExecutionException if the executor is shut down, if REJECT finds no slot, or if a WAIT caller
     * is interrupted (its interrupt status then stays set, and the exception's cause is the
     * InterruptedException). A WAIT caller also gives up (TIMED_OUT) once {@code abandon} (if not null)
     * holds: it is read under the lock before each wait and before a slot is taken, and whoever makes it
     * true calls {@link #wakeWaiters}.
     */
    Outcome acquire(ExecutorState lifecycle, Runnable job, Thread fiber, boolean timed, long deadline,
                    java.util.function.BooleanSupplier abandon) {
        lock.lock();
        try {
            while (running >= max) {
                switch (saturation) {
                    case REJECT -> throw new RejectedExecutionException("executor '" + lifecycle.name()
                            + "' is running its maximum of " + max + " tasks");
                    case QUEUE -> {
                        lifecycle.ensureRunning();
                        queue.addLast(new Queued(job, fiber));
                        queued = queue.size();
                        return Outcome.QUEUED;
                    }
                    case WAIT -> {
                        if (abandon != null && abandon.getAsBoolean()) return Outcome.TIMED_OUT;
                        // under the lock before each wait: a shutdown after the caller's own check outside
                        // it either shows here or finds this caller waiting when it signals (wakeWaiters)
                        lifecycle.ensureRunning();
                        try {
                            if (!timed) {
                                freed.await();
                            } else {
                                long left = deadline - System.nanoTime();   // a difference: safe across wrap-around
                                if (left <= 0) return Outcome.TIMED_OUT;
                                freed.awaitNanos(left);
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new RejectedExecutionException("executor '" + lifecycle.name()
                                    + "': interrupted while waiting for a free slot", e);
                        }
                        lifecycle.ensureRunning();
                    }
                }
            }
            lifecycle.ensureRunning();
            // a caller that waited gives up even when it is woken by a freed slot: its task is no longer wanted
            if (abandon != null && abandon.getAsBoolean()) return Outcome.TIMED_OUT;
            running = running + 1;
            return Outcome.SLOT;
        } finally {
            lock.unlock();
        }
    }

    /** Frees the caller's slot, or hands it to the next queued job and returns that job. */
    Queued release() {
        lock.lock();
        try {
            Queued next = queue.pollFirst();
            if (next != null) {
                queued = queue.size();
                return next;
            }
            running = running - 1;
            freed.signal();
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Empties the queue and returns its jobs, in order (shutdownNow). */
    List<Runnable> drain() {
        lock.lock();
        try {
            List<Runnable> all = new ArrayList<>(queue.size());
            for (Queued q : queue) all.add(q.job());
            queue.clear();
            queued = 0;
            return all;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every WAIT waiter, which then sees the executor shut down (shutdown). */
    void wakeWaiters() {
        lock.lock();
        try {
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The number of queued jobs. Racy. */
    int queued() {
        return queued;
    }

    /**
     * No slot held and nothing queued. A slot being handed to a queued job stays held, so a
     * terminating executor never misses a job between the queue and its fiber.
     */
    boolean idle() {
        return running == 0 && queued == 0;
    }
}
