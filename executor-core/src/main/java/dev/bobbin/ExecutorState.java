package dev.bobbin;

import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The lifecycle of one {@link FiberExecutor}: its state, the fibers of its unfinished jobs, and
 * shutdown, termination and close.
 *
 * <p>Implementation overview.
 *
 * <p>State. {@code state} moves RUNNING -> SHUTDOWN -> TERMINATED (table above the constants), each step
 * one named CAS. A new job is refused unless the state is RUNNING ({@link #ensureRunning}, and again
 * by {@link #track} after the fiber is in the set).
 *
 * <p>The live set. {@code fibers} holds the fiber of every job from just before its start until the job
 * is done ({@link Admission} calls {@link #track} or {@link #trackAccepted}, then {@link #untrack} from
 * the job's last {@code finally}, or when the start failed). shutdownNow interrupts exactly this set;
 * termination waits for it to empty.
 *
 * <p>Termination. It needs SHUTDOWN, an empty set and, when bounded, no slot held and nothing queued
 * ({@link Slots#idle}). Whoever sees all of it (shutdown, the last job to finish, or a failed start)
 * takes the tryTerminate CAS and opens the {@code terminated} latch; an executor with its own scheduler
 * then shuts the scheduler down.
 *
 * <p>Start against shutdown, a Dekker pair. A start adds its fiber to the set (a CAS on the set's
 * counter) and then reads {@code state} (volatile); a shutdown CASes {@code state} and then reads the
 * set's counter (volatile, in {@code isEmpty}). Either the start sees SHUTDOWN and withdraws (the caller
 * gets a RejectedExecutionException), or the shutdown sees the fiber and leaves termination to it.
 * Accepted jobs (a queued job handed a slot, a fan-out chunk built while running) skip the state check:
 * their caller's own fiber is in the set, so the set cannot be empty in between.
 *
 * <p>Why the executor keeps its own set beside the scheduler's {@code FiberRegistry}. The registry is the
 * scheduler's: on a shared scheduler it also holds other executors' fibers, and on any scheduler the
 * fibers of {@link FiberExecutor#threadFactory()}/{@link FiberExecutor#ofVirtual()} views and fibers the
 * tasks start themselves, none of which this executor may interrupt or wait for. A registry entry
 * carries no owner, and a {@code Thread} does not expose the task it runs, so the executor cannot pick
 * its fibers out of a registry snapshot. The two also span different intervals: the registry holds a
 * fiber from inside {@code Thread.start} until a carrier sees it terminated, while the executor must
 * hold a job from before its start (the Dekker pair above) until the job is done, which is before its
 * fiber exits, since a finishing job may start a queued one first.
 *
 * <p>Dropping the set was built and measured: each task fiber enrolled in the registry with its
 * executor as owner just before its start (a parallel owner array per registry stripe, kept by the
 * start's own add), shutdownNow listing that owner's fibers, and termination waiting for a per-executor
 * job count in one volatile int. It was correct (the suite, and a shutdownNow test on a shared
 * scheduler with another executor, a view fiber and a task's child fiber, caught a twin that
 * interrupted every registry fiber), but {@code ExecutorBench.invokeAll10k} (bobbin, 2 carriers) fell
 * from 1.53-1.55M to 1.27-1.37M tasks/s in three alternating runs: a second registry lock and probe per
 * start, and one job counter that every carrier and the starter write, cost more than the concurrent
 * set's insert and remove (its node allocation included), whose counter is striped. So the set stays.
 */
final class ExecutorState {
    // Lifecycle states.
    //
    //   from       to          by                                   named CAS
    //   RUNNING    SHUTDOWN    shutdown(), shutdownNow(), close()    beginShutdown
    //   SHUTDOWN   TERMINATED  last job done, or shutdown with none  tryTerminate
    private static final int RUNNING = 0;
    private static final int SHUTDOWN = 1;
    private static final int TERMINATED = 2;
    private static final VarHandle STATE = VarHandles.field(MethodHandles.lookup(), ExecutorState.class, "state", int.class);

    private final String name;                     // the executor's, for messages
    private final FiberScheduler scheduler;        // the tasks' scheduler
    private final boolean ownsScheduler;           // shut the scheduler down on termination, wait for it in close
    private final Slots slots;                     // null when unbounded; termination waits for it to be idle
    private final Set<Thread> fibers = ConcurrentHashMap.newKeySet(); // fibers of jobs not yet done
    private final CountDownLatch terminated = new CountDownLatch(1);  // opened by tryTerminate
    @SuppressWarnings("unused") private volatile int state;          // RUNNING, SHUTDOWN or TERMINATED

    ExecutorState(String name, FiberScheduler scheduler, boolean ownsScheduler, Slots slots) {
        this.name = name;
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
        this.slots = slots;
    }

    String name() {
        return name;
    }

    // ---- admission checks and the live set --------------------------------------------------------

    /** Throws RejectedExecutionException unless running. Volatile read. */
    void ensureRunning() {
        if ((int) STATE.getVolatile(this) != RUNNING) throw rejectShutdown();
    }

    private RejectedExecutionException rejectShutdown() {
        return new RejectedExecutionException("executor '" + name + "' is shut down");
    }

    /**
     * Adds a new job's fiber, about to start, or throws RejectedExecutionException (having removed it)
     * if the executor is no longer running. The add, then the volatile state read: one half of the
     * Dekker pair with {@link #shutdown}.
     */
    void track(Thread fiber) {
        fibers.add(fiber);                                        // Dekker: add, then read the state
        if ((int) STATE.getVolatile(this) != RUNNING) {
            untrack(fiber);
            throw rejectShutdown();
        }
    }

    /** Adds the fiber of a job accepted before a shutdown; the caller's own fiber is in the set. */
    void trackAccepted(Thread fiber) {
        fibers.add(fiber);
    }

    /** Removes a fiber whose job is done or whose start failed, and terminates if that was the last. */
    void untrack(Thread fiber) {
        fibers.remove(fiber);
        terminateIfShutdown();
    }

    /** Tries to terminate if shut down: after a fiber left the set or a slot was given back. */
    void terminateIfShutdown() {
        if ((int) STATE.getVolatile(this) == SHUTDOWN) tryTerminate();
    }

    /** The number of fibers of unfinished jobs. Racy. */
    int liveCount() {
        return fibers.size();
    }

    // ---- lifecycle ---------------------------------------------------------------------------------

    void shutdown() {
        if (STATE.compareAndSet(this, RUNNING, SHUTDOWN)) {       // beginShutdown
            if (slots != null) slots.wakeWaiters();
            tryTerminate();                                       // Dekker: state CAS, then read the set
        }
    }

    /** Shuts down, drains the queue of never-started jobs and interrupts the fibers of running ones. */
    List<Runnable> shutdownNow() {
        shutdown();
        List<Runnable> never = slots != null ? slots.drain() : List.of();
        if (!isTerminated()) {
            for (Thread t : fibers) t.interrupt();
        }
        terminateIfShutdown();
        return never;
    }

    private void tryTerminate() {
        if (fibers.isEmpty() && (slots == null || slots.idle())
                && STATE.compareAndSet(this, SHUTDOWN, TERMINATED)) {  // tryTerminate
            terminated.countDown();
            if (ownsScheduler) scheduler.shutdown();
        }
    }

    boolean isShutdown() {
        return (int) STATE.getVolatile(this) >= SHUTDOWN;
    }

    boolean isTerminated() {
        return (int) STATE.getVolatile(this) == TERMINATED;
    }

    boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return isTerminated() || terminated.await(timeout, unit);
    }

    /** {@link FiberExecutor#close()}: see its documentation. */
    void close() {
        boolean interrupted = false;
        if (!isTerminated()) {
            shutdown();
            while (!isTerminated()) {
                try {
                    terminated.await(1, TimeUnit.DAYS);
                } catch (InterruptedException e) {
                    if (!interrupted) {
                        shutdownNow();
                        interrupted = true;
                    }
                }
            }
        }
        if (ownsScheduler) {
            if (FiberScheduler.current().orElse(null) == scheduler) {
                scheduler.shutdown();                              // cannot wait for our own carrier
            } else {
                while (!scheduler.isTerminated()) {
                    try {
                        scheduler.awaitTermination(Duration.ofDays(1));
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
