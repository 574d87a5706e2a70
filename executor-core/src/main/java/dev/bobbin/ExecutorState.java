package dev.bobbin;

import dev.bobbin.scheduler.FiberRegistry;
import dev.bobbin.scheduler.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The lifecycle of one {@link FiberExecutor}: its state, the count of its unfinished jobs, and
 * shutdown, termination and close.
 *
 * <p>Implementation overview.
 *
 * <p>State. {@code state} moves RUNNING -> SHUTDOWN -> TERMINATED (table above the constants), each step
 * one named CAS. A new job is refused unless the state is RUNNING ({@link #ensureRunning}, and again
 * by {@link #track} after the job is counted).
 *
 * <p>Jobs and their fibers. {@code live} counts the jobs whose fiber is about to start or runs and whose
 * job is not done: {@link Admission} calls {@link #track} or {@link #trackAccepted} just before it starts
 * a job's fiber, and {@link #untrack} from the job's last {@code finally}, or when the start failed.
 * Termination waits for the count to reach zero. The fibers themselves live in the scheduler's one
 * live-fiber registry ({@link dev.bobbin.scheduler.FiberRegistry}): {@code track} enrolls each with this
 * object as its owner before the start, and shutdownNow interrupts exactly the fibers the registry lists
 * for this owner, so neither a shared scheduler's other executors, nor fibers of the executor's views,
 * nor fibers its tasks start themselves are touched. The registry keeps a fiber until it terminated,
 * a little past its job's end (when {@code live} already dropped it): an interrupt that lands there
 * finds the job done and is lost with the fiber.
 *
 * <p>Termination. It needs SHUTDOWN, {@code live == 0} and, when bounded, no slot held and nothing
 * queued ({@link Slots#idle}). Whoever sees all of it (shutdown, the last job to finish, or a failed
 * start) takes the tryTerminate CAS and opens the {@code terminated} latch; an executor with its own
 * scheduler then shuts the scheduler down.
 *
 * <p>Start against shutdown, a Dekker pair. A start increments {@code live} (a volatile getAndAdd) and
 * then reads {@code state} (volatile); a shutdown CASes {@code state} and then reads {@code live}
 * (volatile). Either the start sees SHUTDOWN and withdraws (the caller gets a
 * RejectedExecutionException), or the shutdown sees the count and leaves termination to the job.
 * Accepted jobs (a queued job handed a slot, a fan-out chunk built while running) skip the state check:
 * their caller's own job is counted, so the count cannot reach zero in between. The count is one
 * field, not striped: a striped sum read while a withdrawing start's increment and decrement land on
 * different stripes can read zero while another job runs. shutdownNow against a start: the start
 * enrolls its fiber, then increments {@code live}, then reads {@code state}; shutdownNow CASes
 * {@code state}, reads {@code live} (volatile), then lists the owner's fibers under each registry
 * stripe's lock. A start that saw RUNNING incremented before that read, so its enrollment happens
 * before the listing, which finds the fiber (still NEW perhaps: an interrupt before the start stays
 * set). A fiber enrolled after the listing is either refused by its start's state check or, as an
 * accepted job, runs like any job accepted before shutdownNow was called.
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
    private static final VarHandle LIVE = VarHandles.field(MethodHandles.lookup(), ExecutorState.class, "live", int.class);

    private final String name;                     // the executor's, for messages
    private final FiberScheduler scheduler;        // the tasks' scheduler
    private final boolean ownsScheduler;           // shut the scheduler down on termination, wait for it in close
    private final Slots slots;                     // null when unbounded; termination waits for it to be idle
    private final FiberRegistry registry;          // the scheduler's; holds this executor's fibers as owned
    private final CountDownLatch terminated = new CountDownLatch(1);  // opened by tryTerminate
    @SuppressWarnings("unused") private volatile int state;          // RUNNING, SHUTDOWN or TERMINATED
    @SuppressWarnings("unused") private volatile int live;           // jobs tracked and not yet done

    ExecutorState(String name, FiberScheduler scheduler, boolean ownsScheduler, Slots slots) {
        this.name = name;
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
        this.slots = slots;
        this.registry = scheduler.registry();
    }

    String name() {
        return name;
    }

    // ---- admission checks and the job count --------------------------------------------------------

    /** Throws RejectedExecutionException unless running. Volatile read. */
    void ensureRunning() {
        if ((int) STATE.getVolatile(this) != RUNNING) throw rejectShutdown();
    }

    private RejectedExecutionException rejectShutdown() {
        return new RejectedExecutionException("executor '" + name + "' is shut down");
    }

    /**
     * Counts a new job and enrolls its fiber, about to start, or throws RejectedExecutionException
     * (having undone both) if the executor is no longer running. The increment, then the volatile state
     * read: one half of the Dekker pair with {@link #shutdown}.
     */
    void track(Thread fiber) {
        registry.enroll(fiber, this);                             // before the check: shutdownNow may list it
        LIVE.getAndAdd(this, 1);                                  // Dekker: count, then read the state
        if ((int) STATE.getVolatile(this) != RUNNING) {
            withdraw(fiber);
            throw rejectShutdown();
        }
    }

    /** Counts a job accepted before a shutdown and enrolls its fiber; the caller's own job is counted. */
    void trackAccepted(Thread fiber) {
        registry.enroll(fiber, this);
        LIVE.getAndAdd(this, 1);                                  // volatile; read by tryTerminate
    }

    /** Undoes {@link #track} for a fiber whose start failed: it never ran. */
    void withdraw(Thread fiber) {
        registry.withdraw(fiber);
        untrack();
    }

    /**
     * Uncounts a job that is done (the registry drops its fiber when a carrier sees it terminate), and
     * terminates if that was the last.
     */
    void untrack() {
        LIVE.getAndAdd(this, -1);                                 // volatile; read by tryTerminate
        terminateIfShutdown();
    }

    /** Tries to terminate if shut down: after a job was uncounted or a slot was given back. */
    void terminateIfShutdown() {
        if ((int) STATE.getVolatile(this) == SHUTDOWN) tryTerminate();
    }

    /** The number of unfinished jobs. Racy. */
    int liveCount() {
        return (int) LIVE.getVolatile(this);
    }

    // ---- lifecycle ---------------------------------------------------------------------------------

    void shutdown() {
        if (STATE.compareAndSet(this, RUNNING, SHUTDOWN)) {       // beginShutdown
            if (slots != null) slots.wakeWaiters();
            tryTerminate();                                       // Dekker: state CAS, then read the count
        }
    }

    /** Shuts down, drains the queue of never-started jobs and interrupts the fibers of running ones. */
    List<Runnable> shutdownNow() {
        shutdown();
        List<Runnable> never = slots != null ? slots.drain() : List.of();
        // the volatile read of live after the state CAS: every start that saw RUNNING counted its job
        // (and enrolled its fiber) before, so the listing below finds that fiber
        if (!isTerminated() && liveCount() > 0) {
            List<Thread> fibers = new ArrayList<>();
            registry.owned(this, fibers);
            for (Thread t : fibers) t.interrupt();
        }
        terminateIfShutdown();
        return never;
    }

    private void tryTerminate() {
        if ((int) LIVE.getVolatile(this) == 0 && (slots == null || slots.idle())
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
