package dev.bobbin;

import dev.bobbin.base.VarHandles;
import dev.bobbin.scheduler.FiberRegistry;
import dev.bobbin.scheduler.JdkVirtualThreads;
import dev.bobbin.scheduler.Tunables;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;

/**
 * The lifecycle of one {@link FiberExecutor}: its state, the fibers of its jobs, and shutdown,
 * termination and close.
 *
 * <p>Implementation overview.
 *
 * <p>State. {@code state} moves RUNNING -> SHUTDOWN -> TERMINATED (table above the constants), each step
 * one named CAS. A new job is refused unless the state is RUNNING ({@link #ensureRunning}, and again
 * by {@link #track} after the fiber is counted).
 *
 * <p>The fibers. The executor keeps no set of its own: the scheduler's live-fiber registry
 * ({@code FiberRegistry}) is the one set, and this executor is the {@link FiberRegistry.Owner} of its
 * jobs' fibers there. {@link Admission} calls {@link #track} or {@link #trackAccepted} just before a
 * job's fiber starts, which enrols the fiber in the registry with this executor as owner and counts it
 * in its {@link JobCount}; the carrier that sees the fiber terminate removes it and calls {@link #exited},
 * which counts it out. A start that fails withdraws the fiber ({@link #withdraw}). So a fiber counts
 * from before its start until it has exited; shutdownNow interrupts the fibers the registry lists for
 * this owner ({@link FiberRegistry#owned}); termination waits until every enrolled fiber has left.
 *
 * <p>The count. {@link JobCount}: enrols and exits (a withdrawal counts as an exit) in two monotonic
 * striped counters, whose "none left" sums exits first and enrols second; its overview says why that
 * order, and only that order, never reads "none" while a fiber runs.
 *
 * <p>Termination. It needs SHUTDOWN, none left and, when bounded, no slot held and nothing queued
 * ({@link Slots#idle}). Whoever sees all of it (shutdown, the last fiber to exit, or a failed start)
 * takes the tryTerminate CAS and opens the {@code terminated} latch; an executor with its own scheduler
 * then shuts the scheduler down. The last exit and a shutdown are a Dekker pair like a start's below: an
 * exit counts (then a full fence, in {@code JobCount.left}) and reads {@code state}; a shutdown CASes
 * {@code state} and sums; at least one of them sees the other and terminates.
 *
 * <p>The waiters' re-check. A thread waiting in close() or awaitTermination wakes at least every
 * {@code TERMINATION_RECHECK_NANOS} and checks what the protocol should guarantee: shut down with none
 * left means terminated, and a fiber counted is one the registry holds. A termination missed is taken
 * by a waiter once it has been missing for a whole interval since first seen (a last exit about to
 * take it is not overtaken). Fibers counted that the registry no longer holds (an exit nobody counted)
 * are looked for by scanning the registry, which waiters do one at a time, only after
 * {@code TERMINATION_SCAN_FIRST_NANOS} without an exit and then at doubling gaps, and report when two
 * scans an interval apart find none; they cannot be repaired, and close() keeps waiting. Either is a
 * bug in Bobbin: said once per executor, with the counts, instead of a silent hang, at WARNING unless
 * another executor of the JVM said one within {@code EXECUTOR_REPORT_INTERVAL_NANOS} (then at DEBUG;
 * {@link AccountingReports}).
 *
 * <p>Start against shutdown, a Dekker pair. A start counts its enrol (a CAS on the counter's base or on
 * one of its cells, then a full fence: either CAS is release-only) and then reads {@code state}
 * (volatile); a shutdown CASes {@code state} and then sums the counters (volatile reads of their cells).
 * Either the start sees SHUTDOWN and withdraws (the caller gets a RejectedExecutionException), or the
 * shutdown sees the enrol and leaves termination to the last exit.
 * Accepted jobs (a queued job handed a slot, a fan-out chunk built while running) skip the state check:
 * their caller's own fiber is enrolled and exits only after the start, so "none left" cannot be read
 * in between.
 *
 * <p>Accepted jobs against shutdownNow. A job accepted before a shutdown (a queued job handed a slot, a
 * task of an invokeAll chunk whose starter fiber runs late) may start after shutdownNow's sweep has
 * interrupted the fibers it found. So shutdownNow sets {@code stopping} before its sweep, and
 * {@code Admission.startAccepted} reads it after enrolling and starting the fiber, and interrupts the
 * fiber if it is set. The fiber's stripe lock decides: if the sweep held it first, its unlock (release)
 * and the enrol's lock (acquire) order the flag's write before the read, which sees it; otherwise the
 * sweep finds the fiber enrolled and interrupts it (or it has exited). Every job handed over before
 * shutdownNow is interrupted, as the JDK's executor, whose tasks had all started, interrupts them.
 *
 * <p>invokeAll's starters. A fan-out's starter fibers ({@code InvokeAll}) are jobs for the count and
 * termination, but not tasks: they are enrolled with {@link #starters} as owner, whose exits are counted
 * apart, so {@link #completed} counts tasks only; they are listed with the tasks in thread dumps, not
 * interrupted by shutdownNow (they never block).
 *
 * <p>Cost. A job's fiber is one registry entry, which every fiber has anyway (the registry decides
 * which carrier counts a completion); the owner is one more reference in that entry, written by the
 * enrol. The start adds nothing more: the executor's thread container is opened as one whose fibers
 * are enrolled before their start, which the scheduler checks instead of adding the fiber again. A
 * finished job costs the carrier one counter increment, the exit: jobs completed are exits less
 * withdrawals, which are rare and counted apart, and less the starters' exits, one per
 * {@code FANOUT_CHUNK} tasks.
 */
final class ExecutorState implements FiberRegistry.Owner {
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
    private final FiberRegistry registry;          // the scheduler's live fibers; ours are enrolled with this as owner
    private final JobCount count = new JobCount();  // our fibers enrolled in the registry, and those that left
    private final AtomicLong withdrawals = new AtomicLong(); // fibers whose start failed; completed = exits - withdrawals - starter exits
    private final AtomicLong starterExits = new AtomicLong(); // invokeAll's starter fibers that exited: jobs, not tasks
    private final AtomicLong completedSeen = new AtomicLong(); // the most completed() returned: it never goes back
    private final FiberRegistry.Owner starters = new Starters(); // the owner of invokeAll's starter fibers
    private volatile boolean stopping;             // shutdownNow began: accepted jobs start interrupted
    private final CountDownLatch terminated = new CountDownLatch(1);  // opened by tryTerminate
    private volatile Thread terminator;            // the thread that took tryTerminate and runs the actions
    final CompletableFuture<Void> termination = new CompletableFuture<>(); // completed by tryTerminate, before the latch
    @SuppressWarnings("unused") private volatile int state;          // RUNNING, SHUTDOWN or TERMINATED
    private final Object container;                // the JDK thread container its jobs' fibers start in, or null
    // recheckTermination's findings and scan schedule; all guarded by this
    private boolean missedSeen;                    // shut down, none left, not terminated: seen since missedSince
    private long missedSince;
    private long scanExits = -1;                   // the exits' sum the scan schedule started at
    private long scanAt;                           // nanoTime of the next registry scan
    private long scanGap;                          // the current gap between scans
    private boolean scanning;                      // a waiter is scanning: the others skip
    private boolean suspect;                       // the last scan found none of ours, at suspectSince
    private long suspectSince;
    private boolean reported;                      // recheckTermination warned already

    ExecutorState(String name, FiberScheduler scheduler, boolean ownsScheduler, Slots slots) {
        this.name = name;
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
        this.slots = slots;
        this.registry = scheduler.registry();
        this.container = JdkVirtualThreads.openContainer("FiberExecutor[" + name + "]", scheduler.pool().container(),
                fibers -> {                               // a dump skips an idle executor's scan
                    if (liveCount() > 0) {
                        registry.ownedForDump(this, fibers);
                        registry.ownedForDump(starters, fibers);
                    }
                },
                true);                                    // track and trackAccepted enrol every job before its start
    }

    /** The JDK thread container its jobs' fibers start in (see {@code JdkVirtualThreads}), or null. */
    Object container() {
        return container;
    }

    String name() {
        return name;
    }

    // ---- admission checks and the fiber count ------------------------------------------------------

    /** Throws RejectedExecutionException unless running. Volatile read. */
    void ensureRunning() {
        if ((int) STATE.getVolatile(this) != RUNNING) throw rejectShutdown();
    }

    private RejectedExecutionException rejectShutdown() {
        return new RejectedExecutionException("executor '" + name + "' is shut down");
    }

    /**
     * Counts and enrols a new job's fiber, about to start, or throws RejectedExecutionException (having
     * withdrawn it) if the executor is no longer running. The count, then the volatile state read: one
     * half of the Dekker pair with {@link #shutdown}.
     */
    void track(Thread fiber) {
        track(fiber, this);
    }

    /** {@link #track} for a starter fiber of invokeAll's fan-out: a job, but not a task. */
    void trackStarter(Thread fiber) {
        track(fiber, starters);
    }

    private void track(Thread fiber, FiberRegistry.Owner owner) {
        registry.enrol(fiber, owner);                             // first: a failed enrol leaves no count
        count.enrolledThenFence();                                // Dekker: count, fence, then read the state
        if ((int) STATE.getVolatile(this) != RUNNING) {
            withdraw(fiber);
            throw rejectShutdown();
        }
    }

    /** Counts and enrols the fiber of a job accepted before a shutdown; the caller's own fiber is counted. */
    void trackAccepted(Thread fiber) {
        registry.enrol(fiber, this);
        count.enrolled();
    }

    /** A tracked fiber's start failed: takes it out, unless it already ran and exited (then it was counted out). */
    void withdraw(Thread fiber) {
        if (registry.withdraw(fiber)) {
            withdrawals.incrementAndGet();                        // before the exit, which may terminate: then completed() is exact
            countOut();
        }
    }

    /**
     * One of our fibers exited (the registry removed it), having run its job: counts it out, which counts
     * the job completed; terminates if that was the last. Carrier thread.
     */
    @Override
    public void exited(Thread fiber) {
        countOut();
    }

    private void countOut() {
        count.left();                                             // Dekker: count, fence (in left), then read the state
        terminateIfShutdown();
    }

    /**
     * Tasks finished, normally or not: job fibers that exited, less withdrawn ones and starters. Racy, and
     * never less than an earlier answer. A withdrawal or a starter's exit is counted apart before its exit
     * is, and the exits are read first: an exit seen brings its prior count along (volatile), so the
     * difference never overcounts; it may undercount while one is in flight, which the maximum hides.
     */
    long completed() {
        long exits = count.exitsSum();
        long now = Math.max(0, exits - withdrawals.get() - starterExits.get());
        return completedSeen.accumulateAndGet(now, Math::max);    // volatile CAS; racing readers keep the larger
    }

    /**
     * Whether shutdownNow has begun; read after enrolling a fiber that starts anyway (volatile; pairs with
     * the write in {@link #shutdownNow} through the fiber's stripe lock, see "Accepted jobs against
     * shutdownNow").
     */
    boolean stopping() {
        return stopping;
    }

    /** Tries to terminate if shut down: after a fiber exited or a slot was given back. */
    void terminateIfShutdown() {
        if ((int) STATE.getVolatile(this) == SHUTDOWN) tryTerminate();
    }

    /** The number of our fibers started and not yet exited. Racy. */
    int liveCount() {
        return count.live();
    }

    // ---- lifecycle ---------------------------------------------------------------------------------

    void shutdown() {
        if (STATE.compareAndSet(this, RUNNING, SHUTDOWN)) {       // beginShutdown
            if (slots != null) slots.wakeWaiters();
            tryTerminate();                                       // Dekker: state CAS, then sum the counters
        }
    }

    /**
     * Shuts down, drains the queue of never-started jobs and interrupts the fibers of running ones; returns
     * every drained job, as ThreadPoolExecutor does. The drained futures of invokeAll and invokeAny are
     * cancelled first (their callers wait for them and never see the list), the others left as they are.
     */
    List<Runnable> shutdownNow() {
        return shutdownNow(false);
    }

    /** {@code cancelAll}: cancel every drained future (close(), which drops the list). */
    private List<Runnable> shutdownNow(boolean cancelAll) {
        shutdown();
        List<Runnable> never = slots != null ? slots.drain() : List.of();
        for (Runnable job : never) {
            if (job instanceof TaskFuture<?> f && (cancelAll || f.inBatch)) f.cancel(false);
        }
        stopping = true;                                          // volatile; before the sweep's stripe locks: see stopping()
        if (!isTerminated()) {
            List<Thread> fibers = new ArrayList<>();
            registry.owned(this, fibers);
            for (Thread t : fibers) t.interrupt();
        }
        terminateIfShutdown();
        return never;
    }

    private void tryTerminate() {
        if (count.noneLeft() && (slots == null || slots.idle())
                && STATE.compareAndSet(this, SHUTDOWN, TERMINATED)) {  // tryTerminate
            terminator = Thread.currentThread();                  // an action may await termination: see done()
            JdkVirtualThreads.closeContainer(container);         // every job's fiber has exited
            if (ownsScheduler) scheduler.shutdown();              // before the actions: one that closes us waits for it
            termination.complete(null);                           // runs onTermination actions, then
            terminated.countDown();                               // awaitTermination and close() return
        }
    }

    boolean isShutdown() {
        return (int) STATE.getVolatile(this) >= SHUTDOWN;
    }

    boolean isTerminated() {
        return (int) STATE.getVolatile(this) == TERMINATED;
    }

    boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return awaitDone(unit.toNanos(timeout));
    }

    /**
     * Waits until {@link #done} or {@code nanos} passed (Long.MAX_VALUE: 292 years), re-checking termination
     * whenever a wait of at most {@link Tunables#TERMINATION_RECHECK_NANOS} ends without it (see "The
     * waiters' re-check"); whether done.
     */
    private boolean awaitDone(long nanos) throws InterruptedException {
        if (done()) return true;
        if (Thread.interrupted()) throw new InterruptedException();
        if (nanos <= 0) return false;                             // toNanos saturates: MIN_VALUE must not wrap
        long deadline = System.nanoTime() + nanos;                // wraps for huge nanos; the difference below does not
        while (!done()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            if (!terminated.await(Math.min(left, Tunables.TERMINATION_RECHECK_NANOS), TimeUnit.NANOSECONDS)) {
                recheckTermination();
            }
        }
        return true;
    }

    /**
     * A waiter's check (see "The waiters' re-check"), after any wait that ended without termination, so
     * possibly often and from several waiters at once: each finding must have held for a whole
     * {@link Tunables#TERMINATION_RECHECK_NANOS}, measured from when a waiter first saw it, before anyone
     * acts on it. Takes a termination missed for that long; reports fibers counted that the registry no
     * longer holds when two scans that far apart find none of them while the exits stand still (a fiber
     * between its removal and its count is not one).
     */
    private void recheckTermination() {
        if ((int) STATE.getVolatile(this) != SHUTDOWN) return;
        long now = System.nanoTime();
        if (count.noneLeft()) {
            boolean missed = (slots == null || slots.idle()) && !isTerminated();
            synchronized (this) {
                if (!missed) {
                    missedSeen = false;
                    return;
                }
                if (!missedSeen) {                                // the last exit may be just before its own
                    missedSeen = true;                            // check: leave it a whole interval
                    missedSince = now;
                    return;
                }
                if (now - missedSince < Tunables.TERMINATION_RECHECK_NANOS) return;
            }
            tryTerminate();
            if (isTerminated() && terminator == Thread.currentThread()) {
                report("shut down with no fiber left but not terminated; terminated by a waiter's re-check");
            }
            return;
        }
        // Fibers counted: a lost exit shows as none of ours in the registry while the exits stand still.
        // Scans back off (the first after TERMINATION_SCAN_FIRST_NANOS without an exit, then twice the gap
        // each time) and one waiter scans at a time, so many threads waiting on long tasks cost little.
        long exits = count.exitsSum();
        synchronized (this) {
            missedSeen = false;
            if (exits != scanExits) {                             // progress (or the first re-check): start over
                scanExits = exits;
                scanGap = Tunables.TERMINATION_SCAN_FIRST_NANOS;
                scanAt = now + scanGap;
                suspect = false;
                return;
            }
            if (scanning) return;
            if (suspect ? now - suspectSince < Tunables.TERMINATION_RECHECK_NANOS : now - scanAt < 0) return;
            scanning = true;
        }
        boolean none;
        try {
            none = !registry.holdsAny(this, starters);
        } finally {
            synchronized (this) {
                scanning = false;                                 // also if the scan threw: the next waiter may scan
            }
        }
        String lost = null;
        synchronized (this) {
            if (!none || count.exitsSum() != exits) {             // ours are there, or one just exited
                suspect = false;
                scanGap = Math.min(scanGap * 2, Tunables.TERMINATION_SCAN_MAX_GAP_NANOS);
                scanAt = now + scanGap;
            } else if (!suspect) {
                suspect = true;                                   // confirm an interval later: an exit may be
                suspectSince = now;                               // between its removal and its count
            } else {
                lost = liveCount() + " fiber(s) counted that the registry no longer holds (" + exits
                        + " exits counted); termination waits for them";
                suspect = false;                                  // said once: scans go on at the longest gap
                scanGap = Tunables.TERMINATION_SCAN_MAX_GAP_NANOS;
                scanAt = now + scanGap;
            }
        }
        if (lost != null) report(lost);
    }

    /**
     * Says what {@link #recheckTermination} found, once per executor, at WARNING unless an executor of
     * this JVM said one within the interval ({@link AccountingReports}); never under the monitor.
     */
    private void report(String what) {
        synchronized (this) {
            if (reported) return;
            reported = true;
        }
        AccountingReports.JVM.report("bobbin: executor '" + name + "': " + what
                + " (a bug in Bobbin's executor accounting; please report it)");
    }

    /** For tests: counts out a fiber the way an exit that missed the shutdown would: no termination check. */
    void exitMissingShutdown(Thread fiber) {
        if (registry.withdraw(fiber)) count.left();
    }

    /** For tests: takes a fiber out of the registry without counting its exit, as a lost exit would. */
    void loseExit(Thread fiber) {
        registry.withdraw(fiber);
    }

    /**
     * Terminated and the onTermination actions have run (awaitTermination and close() return only then),
     * or the caller is the thread running them, which must not wait for itself.
     */
    private boolean done() {
        return terminated.getCount() == 0 || (isTerminated() && terminator == Thread.currentThread());
    }

    /** {@link FiberExecutor#close()}: see its documentation. */
    void close() {
        Thread me = Thread.currentThread();
        if (!done() && me.isVirtual() && registry.isOwnedBy(me, this)) {
            throw new IllegalStateException("a task cannot close its own executor '" + name
                    + "': close() would wait for that task; call shutdown()");
        }
        boolean interrupted = false;
        if (!done()) {
            shutdown();
            while (!done()) {
                try {
                    awaitDone(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    if (!interrupted) {
                        shutdownNow(true);                 // nobody gets the list: no future is left waiting
                        interrupted = true;
                    }
                }
            }
        }
        if (ownsScheduler) {
            if (FiberScheduler.current().orElse(null) == scheduler) {
                scheduler.shutdown();                              // cannot wait for our own carrier
            } else {
                boolean stopped = false;                           // the scheduler's fibers were interrupted
                while (!scheduler.isTerminated()) {
                    if (interrupted && !stopped) {
                        scheduler.shutdownNow();                   // as the tasks were: its view fibers too
                        stopped = true;
                    }
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

    /** The owner of invokeAll's starter fibers: counts their exits apart from the tasks'. */
    private final class Starters implements FiberRegistry.Owner {
        @Override
        public void exited(Thread fiber) {
            starterExits.incrementAndGet();                       // before the exit: completed() reads exits first
            countOut();
        }
    }
}
