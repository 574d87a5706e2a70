package dev.bobbin.scheduler;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Tells the JDK's hand-off primitives that a Bobbin carrier has queued work, so that a fiber waiting in
 * them parks at once instead of spinning.
 *
 * <p>Why. {@code SynchronousQueue}, {@code LinkedTransferQueue} (and so a cached thread pool) and
 * {@code Exchanger} spin for a while before they park, unless the JDK's
 * {@code ForkJoinWorkerThread.hasKnownQueuedWork()} says the waiting virtual thread's carrier has
 * other work queued. On Bobbin a fiber woken by another fiber runs next on the same carrier (the next
 * slot; see {@link Carrier}): the partner a waiter spins for is queued behind the waiter itself, and
 * every spin is wasted (measured: a {@code SynchronousQueue} round trip cost 20 times the JDK's).
 *
 * <p>How. The check looks at the carrier thread: it must be a {@link ForkJoinWorkerThread} whose pool
 * has queued tasks in the submission queue its work queue names as source (index 0 for a queue that never
 * ran a task) or in its own queue. Carriers are {@code ForkJoinWorkerThread}s of {@link #POOL}, a pool
 * that never starts a thread (its factory returns null), and {@link #POOL} holds one task, never run,
 * in submission queue 0. So the check is true on every Bobbin carrier: a waiter parks at once, and its
 * partner, queued on the same carrier, runs right away. The task is submitted by a thread whose
 * {@code ThreadLocalRandom} probe is set so that the pool files it in queue 0.
 *
 * <p>The pool is inert: no thread, no task ever runs, and only carrier-thread code (never fiber code,
 * whose current thread is the fiber) would see it as its {@code ForkJoinPool}. Tests check the signal
 * through the JDK's own method ({@code QueuedWorkSignalTest}), so a JDK change that breaks it fails
 * there, not silently.
 */
public final class QueuedWorkSignal {
    /** The carriers' pool: holds the one queued task the JDK's check finds. */
    static final ForkJoinPool POOL = new ForkJoinPool(1, new NoThreads(), null, false);
    /** A probe whose external-queue index bits are all 0 (and that is not 0, which means "uninitialized"). */
    private static final int QUEUE_ZERO_PROBE = 0x4000;

    static {
        // no lambdas here: a lambda's body is a method of this class, which the submitter thread could not
        // call before this initializer ends, while the initializer waits for the submitter
        Thread submitter = new Thread(new Submitter(POOL), "bobbin-queued-work-signal");
        try {
            VarHandle probe = MethodHandles.privateLookupIn(Thread.class, MethodHandles.lookup())
                    .findVarHandle(Thread.class, "threadLocalRandomProbe", int.class);
            probe.set(submitter, QUEUE_ZERO_PROBE);
            submitter.start();
            submitter.join();
        } catch (ReflectiveOperationException | RuntimeException e) {
            // without the signal the primitives spin as before: slower, never wrong
            System.getLogger("dev.bobbin").log(System.Logger.Level.DEBUG, "queued-work signal unavailable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private QueuedWorkSignal() { }

    /** The pool every carrier is a worker thread of. */
    static ForkJoinPool pool() {
        return POOL;
    }

    /** The pool's thread factory: it never makes a thread. */
    private static final class NoThreads implements ForkJoinPool.ForkJoinWorkerThreadFactory {
        @Override
        public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
            return null;
        }
    }

    /** Files the task; runs on a thread whose probe selects submission queue 0. */
    private record Submitter(ForkJoinPool pool) implements Runnable {
        @Override
        public void run() {
            pool.execute(new NeverRun());
        }
    }

    /** A task that stays queued; nothing ever takes it (the pool has no thread). */
    private static final class NeverRun implements Runnable {
        @Override
        public void run() {
            throw new AssertionError("the queued-work signal's task must never run");
        }
    }
}
