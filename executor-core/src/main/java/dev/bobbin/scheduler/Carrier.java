package dev.bobbin.scheduler;

import dev.bobbin.base.VarHandles;
import dev.bobbin.scheduler.EngineConfig.TaskModel;
import dev.bobbin.scheduler.EngineStats.CarrierSnapshot;
import dev.bobbin.scheduler.queue.InjectionQueue;
import dev.bobbin.scheduler.queue.RunQueue;
import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.PinnedSection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A carrier: one platform thread of a {@link CarrierPool} that runs fiber continuations.
 *
 * <p>Implementation overview. The duty cycle ({@link #runLoop}) is:
 * <ol>
 *   <li>find a task: every {@link Tunables#INJECTION_POLL_INTERVAL}th time the injection queue first
 *       (fairness for outside submissions); then the next slot, at most
 *       {@link Tunables#NEXT_SLOT_MAX_CONSECUTIVE} times in a row; then what the driver's completions
 *       made it spill, if any is left; then the local ring; then a batch from the injection queue;</li>
 *   <li>if none: poll the driver (it may resume fibers here), then search: steal half of another
 *       carrier's ring, re-check the injection queue, and as a last resort take another carrier's next
 *       slot if that carrier has been running the same fiber throughout a grace period;</li>
 *   <li>run the task; every {@link Tunables#DRIVER_POLL_INTERVAL} tasks poll the driver;</li>
 *   <li>if there is still nothing: park through the driver, following the protocol in
 *       {@link IdleCarriers}.</li>
 * </ol>
 * A fiber woken by a fiber running on this carrier goes to the next slot (a request/response pair runs
 * back to back here), and a woken (not a newly started) fiber there wakes a parked peer only while this
 * carrier's sampled next-slot fibers are seen waiting behind a waker that keeps running
 * ({@link #wakePeerForNext}); a fiber made runnable by the
 * carrier itself (after a yield, or by the driver) goes to the tail, and one resumed by the driver wakes
 * no other carrier (its I/O lives here; see {@link #scheduleLocal}). A full ring spills half of itself
 * plus the new task to the injection queue. When the driver's completions overflowed it, the spilled
 * tasks, the oldest, are taken back before the ring's (a ring kept full by completions would otherwise
 * leave them to the injection queue's one-in-{@link Tunables#INJECTION_POLL_INTERVAL} turn, for tens of
 * milliseconds); a ring overflowed by fibers starting fibers keeps its order (taking the spilled first
 * would turn a spawning tree's depth-first run into a breadth-first one, with far more fibers alive).
 * Thieves leave alone a ring that holds only fibers its own driver resumed since it was last empty,
 * while it holds fewer than half its capacity ({@link #keepsUpWithOwnCompletions}): their I/O lives on
 * this carrier's loop, which keeps up with them; the stall monitor opens such a ring to thieves once
 * its carrier has run one fiber for a time slice.
 *
 * <p>Bound fibers (see {@link CarrierPool}) wait in the {@code inbox}, which only this carrier polls: in
 * step 1 after the local ring, and also every {@link Tunables#INJECTION_POLL_INTERVAL}th task, where
 * the inbox and the injection queue take turns going first (so that neither starves the other). A
 * submitter from elsewhere pushes there and then wakes this carrier specifically ({@link #scheduleBound});
 * before parking, the carrier re-checks its inbox after registering as a sleeper and un-parks itself if it
 * is not empty, so a bound task is never left while its home carrier sleeps. Under THREAD_PER_CORE no
 * carrier steals, so the ring and next slot hold only this carrier's own fibers and a full ring spills to
 * the inbox instead of the shared injection queue.
 *
 * <p>A spare carrier (index {@code >= parallelism}) runs the same loop. Its life cycle:
 * <pre>
 *   NEW      --activate (monitor)-----------------------&gt; ACTIVE   thread started
 *   ACTIVE   --retire (spare, out of work, none bound)--&gt; RETIRED  parks in its driver, outside the idle protocol
 *   RETIRED  --activate (monitor) | reactivate (own I/O, or a task of a fiber bound here)-&gt; ACTIVE
 *   ACTIVE, RETIRED --exit (spare, at shutdown)----------&gt; EXITED
 *   ACTIVE   --its driver fails to open, or its runCarrier ends--&gt; EXITED
 * </pre>
 * A spare out of work retires at once if the monitor sees no stalled carrier any more; otherwise it parks
 * in the idle protocol like a regular carrier (so a burst behind a still-stalled carrier finds it) and
 * retires when {@link Tunables#SPARE_KEEP_ALIVE_NANOS} pass without a wake-up. A spare with fibers bound
 * to it (a fiber inside {@code CarrierLocal.with}) never retires.
 *
 * <p>A carrier is a {@link ForkJoinWorkerThread} only so that the JDK's hand-off primitives, which ask
 * the carrier whether it has queued work before they spin, are told yes ({@link QueuedWorkSignal}); it
 * never runs a {@code ForkJoinTask}.
 *
 * <p>Fields marked "owner" are touched only by this carrier thread or by a fiber mounted on it, which
 * is the same sequential flow of control.
 */
public final class Carrier extends ForkJoinWorkerThread implements CarrierContext, IdleCarriers.Sleeper {
    private static final VarHandle CURRENT_FIBER = VarHandles.field(MethodHandles.lookup(), Carrier.class, "currentFiber", Thread.class);
    private static final VarHandle RUN_COUNT = VarHandles.field(MethodHandles.lookup(), Carrier.class, "runCount", long.class);
    private static final VarHandle SPARE_STATE = VarHandles.field(MethodHandles.lookup(), Carrier.class, "spareState", int.class);
    private static final VarHandle PREEMPT_AT = VarHandles.field(MethodHandles.lookup(), Carrier.class, "preemptAt", long.class);
    private static final VarHandle NEXT_SLOT_WAKES = VarHandles.field(MethodHandles.lookup(), Carrier.class, "nextSlotWakes", int.class);
    private static final VarHandle OWN_COMPLETIONS_ONLY = VarHandles.field(MethodHandles.lookup(), Carrier.class, "ownCompletionsOnly", boolean.class);

    public final CarrierPool pool;                  // the pool this carrier belongs to
    public final int index;                         // position in pool.carriers
    public final RunQueue queue;                    // this carrier's run queue (ring + next slot)
    private final RunQueue.Local local;      // owner: the owner handle of queue
    public final CarrierCounters counters = new CarrierCounters(this); // owner writes, anyone reads
    private CarrierDriver driver;            // owner: set at start of run(); wakeDriver reads it after start
    private final WakeHandshake wake = new WakeHandshake(); // asleep / may block in the driver; see WakeHandshake
    private IdleSpin idleSpin;               // owner: how long to spin before blocking in the driver (see park)
    @SuppressWarnings("unused") private volatile Thread currentFiber; // fiber mounted now, or null; opaque
    @SuppressWarnings("unused") private volatile long runCount;       // tasks run; opaque; thieves sample it
    private boolean searching;               // owner: counted as searching in IdleCarriers
    private boolean inDriver;                // owner: inside driver.poll/park, whose completions resume fibers here
    private boolean dutyCycleRan;            // owner: the driver's runCarrier ran dutyCycle (which closes the driver)
    private int tick;                        // owner: task counter for periodic polls
    private int nextRunsInRow;               // owner: consecutive tasks from the next slot
    private int nextSlotPuts;                // owner: fibers put in the next slot (sampling; see wakePeerForNext)
    @SuppressWarnings("unused") private int nextSlotWakes; // next-slot puts that still wake a parked peer; owner writes, opaque; thieves read it (stealNextSlot)
    @SuppressWarnings("unused") private boolean ownCompletionsOnly; // the ring holds only this driver's completions since it was last empty; owner writes (the monitor clears it), opaque; thieves read it (keepsUpWithOwnCompletions)
    private Runnable sampledNext;            // owner: the sampled next-slot task, until this carrier takes it
    private long sampledNextAt;              // owner: when it was put
    private int sinceDriverPoll;             // owner: tasks since the last driver poll
    private int spillBacklog;                // owner: spilled tasks not yet taken back (see spill)
    private long lastDriverFailure;          // owner: when the driver's poll or park last threw (driverFailed)
    private long driverFailurePause;         // owner: the pause after that failure; doubles while they repeat
    private int seed;                        // owner: xorshift state for victim selection
    private final int[] stolenCount = new int[1]; // owner: out-parameter of stealInto
    public final boolean spare;                     // a spare carrier, started only while carriers are stalled
    public final InjectionQueue inbox = new InjectionQueue(); // tasks of fibers bound here; this carrier polls (the monitor too, if it stalls)
    final AtomicInteger boundFibers = new AtomicInteger(); // fibers bound here (permanently or inside with)
    private Object[] locals = new Object[0]; // owner: CarrierLocal values by CarrierLocal id

    /** Off only in the broken twin of {@code NextSlotPlacementTest}; set before the scheduler starts. */
    static boolean peerWakesForNextSlot = true;

    /** Off only in the broken twin of {@code OwnCompletionsTest}; set before the scheduler starts. */
    static boolean leaveOwnCompletionsAlone = true;

    // spare life cycle, see the table above
    static final int NEW = 0, ACTIVE = 1, RETIRED = 2, EXITED = 3;
    @SuppressWarnings("unused") private volatile int spareState; // NEW; regular carriers stay NEW
    @SuppressWarnings("unused") private volatile long preemptAt = -1; // runCount at which the monitor asked for a yield; opaque

    Carrier(CarrierPool pool, int index) {
        this(pool, index, false);
    }

    Carrier(CarrierPool pool, int index, boolean spare) {
        super(null, QueuedWorkSignal.pool(), false);   // a worker of the inert pool: see QueuedWorkSignal
        setName(pool.name() + (spare ? "-spare-carrier-" : "-carrier-") + index);
        this.pool = pool;
        this.index = index;
        this.spare = spare;
        this.queue = new RunQueue(Tunables.LOCAL_QUEUE_CAPACITY);
        this.queue.assertOwnerWith(this::isCurrentCarrier);
        this.local = queue.local();
        this.seed = 0x9E3779B9 * (index + 1);
        setDaemon(true);
    }

    // ---- CarrierContext -------------------------------------------------------------------------

    static {
        // CarrierContext.current(): the carrier the caller's fiber is mounted on, or the carrier thread itself
        CarrierContext.installLookup(() -> JdkVirtualThreads.isAvailable()
                && JdkVirtualThreads.currentCarrier() instanceof Carrier c ? c : null);
        PinnedSection.install(JdkVirtualThreads::runPinned);
    }

    @Override public String schedulerName() { return pool.name(); }
    @Override public boolean isSpare() { return spare; }
    @Override public Object scheduler() { return pool; }

    @Override
    public boolean currentFiberMayMove() {
        Thread t = Thread.currentThread();
        return t.isVirtual() && JdkVirtualThreads.currentCarrier() == this
                // spares count: with one regular carrier a fiber still moves to a spare and back
                && pool.model == TaskModel.WORK_STEALING && pool.carriers.length > 1 && pool.homeOf(t) == null;
    }
    @Override public int carrierIndex() { return index; }
    @Override public Thread carrierThread() { return this; }
    @Override public boolean isCurrentCarrier() { return JdkVirtualThreads.currentCarrier() == this; }

    // ---- scheduling from this carrier --------------------------------------------------------------

    /**
     * Schedules a task on this carrier. Owner only (the carrier thread, or a fiber mounted on it).
     * {@code wokenByFiber}: the running fiber made it runnable, so it goes to the next slot;
     * {@code isStart}: it is the first run of a new fiber (see {@link #wakePeerForNext}). Otherwise
     * the carrier itself resubmits: the task goes to the tail. After a yield another carrier is woken
     * only if there is more than that one task to share. A fiber resumed by this carrier's driver (an
     * I/O completion) wakes no one, as the JDK's {@code lazySubmit} of poller-woken threads: its I/O
     * lives on this carrier's loop, so a thief would route its next operation straight back here, and a
     * woken peer that finds little to steal parks again (two context switches per wake). Such fibers
     * still spread: a full ring spills and wakes a peer, a carrier about to park re-checks every queue,
     * a peer woken by its own I/O steals before it parks, and stall protection hands them off.
     */
    void scheduleLocal(Runnable task, boolean wokenByFiber, boolean isStart) {
        assert isCurrentCarrier() : "schedule on carrier " + getName() + " from elsewhere: owner only";
        counters.increment(CarrierCounters.LOCAL_SCHEDULES);
        if (wokenByFiber) {
            Runnable displaced = local.swapNext(task);
            if (displaced == sampledNext) sampledNext = null; // a displaced sample's wait ends here
            if (displaced == null) {             // runs right after the current fiber (see wakePeerForNext)
                if (pool.stealing && !isStart) wakePeerForNext(task);
                return;
            }
            task = displaced;
        }
        if (wokenByFiber || !inDriver) ringMixed();      // before the offer's release: thieves see both
        if (!local.offer(task)) {
            spill(task);
        } else if (!wokenByFiber && (inDriver || queue.sizeEstimate() <= 1)) {
            return;   // resumed by this carrier's driver, or a yield with nothing else queued: it runs it itself
        }
        if (pool.stealing) pool.idle.notifyOne();   // under THREAD_PER_CORE no one else may run it
    }

    /**
     * Decides whether a fiber just put in the next slot should also wake a parked peer. Usually the waker
     * parks soon and this carrier runs the woken fiber at once (a request/response pair): a wake-up would
     * only cost a system call and a peer that finds nothing. But a waker that keeps running (it spins for
     * the fiber it woke, as the JDK's {@code Phaser} does for 256 spins before parking, or it just goes
     * on working) leaves the woken fiber waiting behind it while a peer sleeps. So the carrier samples
     * how long every {@link Tunables#NEXT_SLOT_SAMPLE_EVERY}th woken fiber waited in the slot
     * ({@link #noteNextTaken}); one that waited longer than {@link Tunables#NEXT_SLOT_LATE_NANOS} switches
     * on peer wake-ups for the next {@link Tunables#NEXT_SLOT_WAKE_PUTS} puts. A woken peer takes the
     * slot only if its owner kept running the same fiber through a grace period ({@link #stealNextSlot}),
     * a short one while this carrier wakes peers (it reads {@code nextSlotWakes}, opaque), else the usual.
     * Once such a pair runs on two carriers, its waits are met by the spinning partner and it stops
     * waking anyone. A new fiber's start is not sampled: a starter that goes on running is what starts
     * are for (an acceptor starting a fiber per connection, a fan-out), each further start it makes
     * displaces the previous one to the ring, which wakes a peer anyway, and a burst of accepts judged
     * late would wake a peer that then steals fibers whose sockets live on this carrier's loop, routing
     * every operation back (echo at 100 connections: 8-10 against 9-13 µs of CPU per round trip).
     * Owner only.
     */
    private void wakePeerForNext(Runnable task) {
        if (!peerWakesForNextSlot) return;
        int wakes = (int) NEXT_SLOT_WAKES.getOpaque(this);
        if (wakes > 0) {
            NEXT_SLOT_WAKES.setOpaque(this, wakes - 1);   // opaque: read by thieves for their grace
            pool.idle.notifyOneHint();
        } else if ((++nextSlotPuts & (Tunables.NEXT_SLOT_SAMPLE_EVERY - 1)) == 0) {
            sampledNext = task;
            sampledNextAt = System.nanoTime();
        }
    }

    /**
     * The owner took {@code t} (null: nothing) from its next slot: if it was the sampled one, judge its
     * wait. Anything else means the sampled one left the slot otherwise (stolen, displaced, handed off).
     * Either way the sample is dropped, so it never keeps an ended fiber reachable (as {@link #park} drops
     * it). Owner only.
     */
    private void noteNextTaken(Runnable t) {
        boolean sampled = t != null && t == sampledNext;
        sampledNext = null;
        if (sampled && System.nanoTime() - sampledNextAt > Tunables.NEXT_SLOT_LATE_NANOS) {
            NEXT_SLOT_WAKES.setOpaque(this, Tunables.NEXT_SLOT_WAKE_PUTS);
            counters.increment(CarrierCounters.LATE_NEXT_SLOTS);
        }
    }

    /** Hands everything queued here (next slot, ring, inbox) to {@code sink}. Owner only, as it exits. */
    void drainQueuesTo(OutlivingFibers sink) {
        for (Runnable t; (t = local.takeNext()) != null || (t = local.poll()) != null || (t = inbox.poll()) != null; ) {
            assert pool.outliving.contains(JdkVirtualThreads.fiberOf(t)) : "a live fiber's task at exit: " + t;
            sink.handOver(t);
        }
    }

    /**
     * Queues the task of a fiber bound to this carrier, from any thread: to the inbox, then wakes this
     * carrier if it sleeps. {@code onHome}: the caller runs on this carrier, which is awake and will poll.
     */
    void scheduleBound(Runnable task, boolean onHome) {
        inbox.push(task);
        if (onHome) return;
        VarHandle.fullFence();                   // Dekker with park: publish, then read sleeping
        if (wake.isAsleep() && pool.idle.cancelPark(this)) wakeDriver();
        else if (spare && isRetired()) unparkDriver();   // a retired spare parks outside the idle protocol
    }

    private void spill(Runnable task) {
        for (;;) {
            Runnable[] half = local.drainHalfForSpill();
            if (half != null) {
                if (pool.stealing) pool.inject.pushAll(half, task);
                else inbox.pushAll(half, task);  // THREAD_PER_CORE: the tasks must stay here
                if (inDriver) {                  // completions overflowed the ring: the oldest go first (findLocalTask)
                    spillBacklog = Math.min(spillBacklog + half.length + 1, Tunables.LOCAL_QUEUE_CAPACITY);
                }
                counters.increment(CarrierCounters.SPILLS);
                return;
            }
            if (local.offer(task)) return;       // a thief made room
        }
    }

    // ---- the duty cycle ----------------------------------------------------------------------------

    @Override
    public void run() {
        try {
            driver = pool.openDriver(this);
        } catch (Throwable t) {
            // a spare stays out of service for good: not counted in service by the monitor, which
            // activates the next spare instead (activate refuses an exited one)
            if (spare) SPARE_STATE.setVolatile(this, EXITED);
            pool.carrierFailedToStart(this, t);
            return;
        }
        idleSpin = driver.spinsWhenIdle() ? new IdleSpin(Tunables.IDLE_SPINS, Tunables.IDLE_SPINS_MAX) : new IdleSpin(0, 0);
        counters.set(CarrierCounters.STARTED_AT, System.nanoTime());
        Throwable notStarted = null;             // runCarrier ended without running the duty cycle
        try {
            driver.runCarrier(this::dutyCycle);  // inside whatever per-thread context the driver needs
            if (!dutyCycleRan) notStarted = new IllegalStateException("the driver's runCarrier returned without running the duty cycle");
        } catch (Throwable t) {
            // a carrier that never ran its cycle never started: like a driver that failed to open, it fails the
            // scheduler's start (or keeps a spare out of service), instead of leaving a pool that deals fibers
            // (THREAD_PER_CORE, startOn) to a carrier that will never run them
            if (dutyCycleRan) pool.reportCarrierError(this, t);   // the carrier stops; its error goes to the handler
            else notStarted = t;
        } finally {
            try {
                if (!dutyCycleRan) driver.close();   // a runCarrier that failed before running it: still close
            } finally {
                locals = new Object[0];          // CarrierLocal values live as long as the carrier, as a thread's ThreadLocals
                // a spare that leaves while ACTIVE (at shutdown through runLoop, or a failed runCarrier) is out of
                // service for good: the monitor must not count it in service, nor stats as active
                if (spare) SPARE_STATE.setVolatile(this, EXITED);
                if (dutyCycleRan) pool.carrierExited(this);
                else pool.carrierFailedToStart(this, notStarted != null ? notStarted
                        : new IllegalStateException("the driver's runCarrier failed before the duty cycle"));
            }
        }
    }

    /**
     * The carrier's life after its driver opened: the loop, the exit hand-over, the driver's close. It counts
     * as started from here (the scheduler's start waits for every regular carrier to get here or fail).
     */
    private void dutyCycle() {
        dutyCycleRan = true;
        pool.carrierStarted(this);
        try {
            runLoop();
            sampledNext = null;                  // an exited carrier keeps no task reachable
            pool.carrierExiting(this);           // normal exit: outliving fibers' tasks go elsewhere from now on
        } finally {
            driver.close();
        }
    }

    private void runLoop() {
        for (;;) {
            Runnable task = findLocalTask();
            if (task == null) {
                int events = pollDriver();
                if (events > 0) continue;        // the driver may have scheduled fibers here
                task = search();
            }
            if (task != null) {
                if (searching) endSearching();
                if (pool.onlyOutlivingLeft()) {  // shut down, no fiber of its own left: exit (run() hands the rest over)
                    pool.outliving.handOver(task);
                    pool.wakeAllForExit();
                    return;
                }
                runTask(task);
                if (++sinceDriverPoll >= Tunables.DRIVER_POLL_INTERVAL) pollDriver();
                continue;
            }
            if (pool.readyToExit()) {
                // an exiting carrier no longer searches (it was woken as a searcher to see the exit); nothing
                // is left to find, so leaving wakes no one (IdleCarriers, step 3)
                if (searching) {
                    searching = false;
                    pool.idle.transitionFromSearching();
                }
                pool.wakeAllForExit();
                return;
            }
            // a spare retires at once when no carrier is stalled any more, else after a keep-alive
            boolean retire = spare && boundFibers.get() == 0 && pool.monitor.stalledCarriers() == 0;
            if ((retire || park()) && retire()) return;
        }
    }

    private Runnable findLocalTask() {
        if (++tick % Tunables.INJECTION_POLL_INTERVAL == 0) {
            // The injection queue and the inbox take turns going first: with one always first, a steady
            // stream of outside submissions would starve the bound fibers (startOn, CarrierLocal.with) for
            // as long as the ring never empties, and the other way round.
            boolean inboxFirst = ((tick / Tunables.INJECTION_POLL_INTERVAL) & 1) != 0;
            Runnable t = inboxFirst ? inbox.poll() : null;
            if (t != null) return t;
            t = pool.inject.poll();
            if (t != null) {
                counters.increment(CarrierCounters.INJECTED_TAKEN);
                return t;
            }
            t = inboxFirst ? null : inbox.poll();
            if (t != null) return t;
        }
        Runnable t = local.takeNext();
        if (sampledNext != null) noteNextTaken(t);
        if (t != null) {
            if (nextRunsInRow < Tunables.NEXT_SLOT_MAX_CONSECUTIVE) {
                nextRunsInRow++;
                counters.increment(CarrierCounters.NEXT_SLOT_RUNS);
                return t;
            }
            ringMixed();
            if (!local.offer(t)) spill(t);       // demote: the queue gets a turn
        }
        nextRunsInRow = 0;
        if (spillBacklog > 0) {                  // spilled tasks are older than the ring's: they go first
            t = pool.stealing ? pool.inject.poll() : inbox.poll();
            if (t != null) {
                spillBacklog--;
                return t;
            }
            spillBacklog = 0;                    // other carriers took the rest
        }
        t = local.poll();
        if (t != null) return t;
        if (!(boolean) OWN_COMPLETIONS_ONLY.getOpaque(this)) {
            OWN_COMPLETIONS_ONLY.setOpaque(this, true);  // empty ring: what the driver queues next is its own
        }
        t = inbox.poll();
        if (t != null) return t;
        return takeInjectedBatch();
    }

    /**
     * Owner (or the monitor, for a stalled owner): the ring may now hold tasks that are not this carrier's
     * own completions, so thieves may take them. Opaque; written before the ring's release of the tasks
     * (except after a steal, see {@link #search}), so a thief that sees them (acquire) sees this too.
     */
    void ringMixed() {
        if ((boolean) OWN_COMPLETIONS_ONLY.getOpaque(this)) OWN_COMPLETIONS_ONLY.setOpaque(this, false);
    }

    /**
     * Thief (any thread): whether this carrier's ring is its own business: it holds only fibers its
     * driver resumed (I/O completions on sockets that live on its loop) since the ring was last empty, and
     * fewer than {@link Tunables#OWN_COMPLETIONS_KEPT}. The carrier is then keeping up with them: it runs
     * them after its poll, while a thief would route each one's next operation back to this loop, and a
     * thief that finds such a ring non-empty again and again never parks, so one stray wake-up would turn
     * a one-loop server into two carriers trading its fibers (bench/README.md, "io_uring echo at 100
     * connections"). A stalled carrier's ring is handed to others by the monitor ({@link #ringMixed}).
     */
    boolean keepsUpWithOwnCompletions() {
        int queued = queue.sizeEstimate();                 // acquire: orders the flag read after it
        return leaveOwnCompletionsAlone && queued < Tunables.OWN_COMPLETIONS_KEPT
                && (boolean) OWN_COMPLETIONS_ONLY.getOpaque(this);
    }

    private Runnable takeInjectedBatch() {
        InjectionQueue inject = pool.inject;
        if (inject.isEmpty()) return null;
        int share = inject.size() / pool.parallelism() + 1;
        int max = Math.min(Math.min(share, Tunables.INJECTION_BATCH_MAX), local.remaining());
        ringMixed();                             // injected tasks join the ring
        Runnable t = inject.pollBatch(local, Math.max(1, max));
        if (t != null) counters.increment(CarrierCounters.INJECTED_TAKEN);
        return t;
    }

    private int pollDriver() {
        sinceDriverPoll = 0;
        int events = driverPoll();
        if (events > 0) counters.add(CarrierCounters.DRIVER_EVENTS, events);
        return events;
    }

    /**
     * {@code driver.poll()}, with fibers it resumes queued lazily (see {@link #scheduleLocal}). A poll that
     * throws handled nothing ({@link #driverFailed}).
     */
    private int driverPoll() {
        Throwable failure;
        inDriver = true;
        try {
            return driver.poll();
        } catch (Throwable t) {
            failure = t;
        } finally {
            inDriver = false;
        }
        driverFailed(failure, wake.wakesSoFar());
        return 0;
    }

    /**
     * {@code driver.park(timeoutNanos)}, with fibers it resumes queued lazily (see {@link #scheduleLocal}). A
     * park that throws returns early, as a spurious return may ({@link #driverFailed}).
     */
    private void driverPark(long timeoutNanos) {
        Throwable failure;
        int seen = wake.wakesSoFar();            // a wakeup from now on ends the pause after a failure
        inDriver = true;
        try {
            driver.park(timeoutNanos);
            return;
        } catch (Throwable t) {
            failure = t;
        } finally {
            inDriver = false;
        }
        driverFailed(failure, seen);
    }

    /**
     * The driver's poll or park threw. The carrier must not die of it: its queues, the fibers bound to it
     * and its place in the idle protocol (it may be on the sleeper stack) would go with it, stranding work
     * that nothing else runs. So the error goes to the scheduler's handler and the carrier goes on, after
     * a pause that doubles while failures repeat ({@link Tunables#DRIVER_FAILURE_PAUSE_MIN_NANOS} to
     * {@link Tunables#DRIVER_FAILURE_PAUSE_MAX_NANOS}), so a driver that keeps failing neither spins the
     * carrier nor floods the handler. Owner only.
     */
    private void driverFailed(Throwable t, int seenWakes) {
        pool.reportCarrierError(this, t);
        long now = System.nanoTime();
        if (now - lastDriverFailure > 2 * Tunables.DRIVER_FAILURE_PAUSE_MAX_NANOS) driverFailurePause = 0;  // failures stopped meanwhile
        lastDriverFailure = now;
        driverFailurePause = driverFailurePause == 0 ? Tunables.DRIVER_FAILURE_PAUSE_MIN_NANOS
                : Math.min(2 * driverFailurePause, Tunables.DRIVER_FAILURE_PAUSE_MAX_NANOS);
        // not as a searcher: submitters wake no other carrier while one searches (IdleCarriers, step 1)
        if (searching) endSearching();
        if (wake.commitToFailurePause(seenWakes)) {   // Dekker with unparkDriver's noteWake (WakeHandshake)
            java.util.concurrent.locks.LockSupport.parkNanos(this, driverFailurePause);
        }
        wake.endFailurePause();
    }

    /** Steals from other carriers; null if nothing was found or too many carriers already search. */
    private Runnable search() {
        if (!searching) {
            if (!pool.idle.transitionToSearching()) return null;
            searching = true;
        }
        Carrier[] all = pool.carriers;
        int n = all.length;
        boolean steal = n > 1 && pool.stealing;  // THREAD_PER_CORE: rings hold bound fibers only
        if (steal) {
            int start = nextRandom(n);
            for (int i = 0; i < n; i++) {
                Carrier victim = all[(start + i) % n];
                if (victim == this || victim.keepsUpWithOwnCompletions()) continue;
                Runnable t = victim.queue.steal().stealInto(local, stolenCount);
                if (t != null) {
                    // stolen tasks joined this ring; marked after they did, so that a failed steal never
                    // marks it: a thief reading the old mark meanwhile only leaves them to this awake carrier
                    ringMixed();
                    counters.increment(CarrierCounters.STEALS);
                    counters.add(CarrierCounters.STOLEN, stolenCount[0]);
                    pool.telemetry.stole(this, victim, stolenCount[0]);
                    return t;
                }
            }
        }
        Runnable t = takeInjectedBatch();
        if (t != null) return t;
        return steal ? stealNextSlot(all) : null;
    }

    /** Last resort: a next slot whose owner kept running the same fiber for a whole grace period. */
    private Runnable stealNextSlot(Carrier[] all) {
        for (Carrier victim : all) {
            if (victim == this || !victim.queue.steal().hasNext()) continue;
            long before = victim.runCount();
            // a short grace where the victim saw woken fibers wait behind running wakers (wakePeerForNext)
            int grace = (int) NEXT_SLOT_WAKES.getOpaque(victim) > 0
                    ? Tunables.NEXT_SLOT_STEAL_GRACE_SPINS_SHORT : Tunables.NEXT_SLOT_STEAL_GRACE_SPINS;
            for (int spin = 0; spin < grace; spin++) Thread.onSpinWait();
            if (victim.runCount() != before) continue;   // the owner moved on and will run it itself
            Runnable t = victim.queue.steal().stealNext();
            if (t != null) {
                counters.increment(CarrierCounters.STEALS);
                counters.increment(CarrierCounters.STOLEN);
                counters.increment(CarrierCounters.NEXT_SLOT_STEALS);
                return t;
            }
        }
        return null;
    }

    private void endSearching() {
        searching = false;
        // the last searcher keeps one carrier looking, but only if there is something to find (IdleCarriers, step 3)
        if (pool.idle.transitionFromSearching() && pool.hasVisibleWork()) pool.idle.notifyOne();
    }

    private void runTask(Runnable task) {
        Thread fiber = JdkVirtualThreads.fiberOf(task);
        CURRENT_FIBER.setOpaque(this, fiber);
        Telemetry telemetry = pool.telemetry;
        if (fiber != null) telemetry.beforeRun(fiber, this);
        try {
            task.run();
        } catch (Throwable t) {
            pool.reportCarrierError(this, t);     // the JDK's continuation runner does not throw normally
        }
        CURRENT_FIBER.setOpaque(this, (Thread) null);
        RUN_COUNT.setOpaque(this, (long) RUN_COUNT.getOpaque(this) + 1); // opaque; sampled by thieves
        // a fiber that parked in this run may already have finished on another carrier: the registry
        // decides which carrier counts the completion (Telemetry.afterRun)
        boolean completed = fiber != null
                && telemetry.afterRun(fiber, JdkVirtualThreads.state(fiber) == JdkVirtualThreads.TERMINATED);
        if (completed) {
            pool.unbind(fiber);
            counters.incrementRelease(CarrierCounters.FIBERS_COMPLETED);   // release: CarrierPool.stats reads it before the starts
        }
        // the run is counted once its completion is: release, pairs with the acquire in CarrierCounters.runs,
        // so a reader that sees this run sees its completion (runs minus completions never counts a
        // completing run as a park)
        counters.incrementRelease(CarrierCounters.TASKS_RUN);
        if (completed) pool.fiberTerminated();
    }

    /**
     * Parks through the driver until a submitter wakes this carrier (IdleCarriers, step 2). Returns true
     * for a spare whose keep-alive expired while parked: it should retire.
     */
    private boolean park() {
        local.clearIfEmpty();                    // an idle carrier keeps no finished fiber reachable
        sampledNext = null;                      // nor a next-slot sample (wakePeerForNext)
        boolean wasSearching = searching;
        searching = false;
        pool.idle.transitionToParked(this, wasSearching);
        // re-check after registering: our own inbox (only we can run it), then what others could run
        if (!inbox.isEmpty()) pool.idle.cancelPark(this);
        else if (pool.hasVisibleWork()) pool.idle.notifyOne();
        long start = counters.parkStarted();
        boolean expired = false, ownWork = false;
        // Spin before blocking: a submitter that takes this carrier off the sleeper stack meanwhile skips
        // the driver wakeup (a system call on each side); see WakeHandshake and wakeDriver.
        boolean mustBlock = wake.spinWhileAsleep(idleSpin.budget()) && wake.commitToBlock();
        long blockedFrom = mustBlock ? System.nanoTime() : 0;
        while (mustBlock && wake.isAsleep()) {   // pairs with markAwake under the idle lock
            if (pool.isShutdown()) {
                driverPark(Tunables.SHUTDOWN_PARK_NANOS);
                if (pool.readyToExit() && pool.idle.cancelPark(this)) break;
            } else if (spare) {
                driverPark(Tunables.SPARE_KEEP_ALIVE_NANOS);
                if (System.nanoTime() - start >= Tunables.SPARE_KEEP_ALIVE_NANOS && boundFibers.get() == 0
                        && pool.idle.cancelPark(this)) {
                    expired = true;                         // off the sleeper stack, counted searching
                    break;
                }
            } else {
                driverPark(-1);
            }
            // An I/O driver resumes fibers onto this carrier's own queue while it waits, waking no one
            // (scheduleLocal): run them here, the completing carrier, in every branch above. Not as a
            // searcher: finding this work must not wake another carrier (IdleCarriers, step 3).
            if ((!queue.isEmpty() || !inbox.isEmpty()) && pool.idle.cancelParkForOwnWork(this)) {
                ownWork = true;
                break;
            }
        }
        wake.unblock();
        long end = System.nanoTime();
        if (!expired) idleSpin.parked(mustBlock, end - blockedFrom);
        counters.parkEnded(start, end);
        searching = !ownWork;                               // woken as a searcher (IdleCarriers, step 1)
        return expired;
    }

    // ---- spare life cycle --------------------------------------------------------------------------------

    /**
     * A spare out of work leaves service until the monitor needs it again. Returns true when the spare
     * should exit (the pool is shutting down and done).
     */
    private boolean retire() {
        if (searching) endSearching();           // searching-1; the last searcher wakes another (step 3)
        if (pool.hasVisibleWork()) return false; // re-check after leaving the searchers: go find it
        if (!SPARE_STATE.compareAndSet(this, ACTIVE, RETIRED)) return false; // CAS retire: ACTIVE -> RETIRED
        sampledNext = null;                      // a retired spare keeps no task reachable
        long start = counters.parkStarted();     // out of service is parked, for busy time too
        try {
            for (;;) {
                int s = (int) SPARE_STATE.getVolatile(this);   // pairs with the CAS in activate
                if (s != RETIRED) return false;
                if (!inbox.isEmpty()) {          // a fiber bound here meanwhile; Dekker with scheduleBound:
                    SPARE_STATE.compareAndSet(this, RETIRED, ACTIVE);   // its push, fence, then state read
                    continue;                    // (CAS reactivate: RETIRED -> ACTIVE)
                }
                if (pool.isShutdown()) {
                    if (pool.readyToExit() && SPARE_STATE.compareAndSet(this, RETIRED, EXITED)) return true; // CAS exit
                    driverPark(Tunables.SHUTDOWN_PARK_NANOS);
                } else {
                    driverPark(-1);
                }
                int events = driverPoll();      // completions of I/O fibers started here: serve them
                if (events > 0 || !queue.isEmpty()) {   // the park may have resumed some, waking no one
                    counters.add(CarrierCounters.DRIVER_EVENTS, events);
                    SPARE_STATE.compareAndSet(this, RETIRED, ACTIVE); // CAS reactivate: RETIRED -> ACTIVE
                }
            }
        } finally {
            counters.parkEnded(start, System.nanoTime());
        }
    }

    /** Puts a spare (back) into service; false if it already runs or has exited. Monitor thread. */
    boolean activate() {
        for (;;) {
            int s = (int) SPARE_STATE.getVolatile(this);
            if (s == NEW) {
                if (!SPARE_STATE.compareAndSet(this, NEW, ACTIVE)) continue;      // CAS activate: NEW -> ACTIVE
                if (!pool.spareStarting()) {
                    SPARE_STATE.setVolatile(this, EXITED);                        // the pool already terminated
                    return false;
                }
                try {
                    start();
                } catch (Throwable t) {                                           // e.g. no native thread left
                    SPARE_STATE.setVolatile(this, EXITED);
                    pool.spareNeverStarted();
                    pool.reportCarrierError(this, t);
                    return false;
                }
                return true;
            }
            if (s == RETIRED) {
                if (!SPARE_STATE.compareAndSet(this, RETIRED, ACTIVE)) continue;  // CAS activate: RETIRED -> ACTIVE
                unparkDriver();
                return true;
            }
            return false;
        }
    }

    /** Whether this spare is in service (started and not retired or exited). */
    public boolean isActiveSpare() { return spare && (int) SPARE_STATE.getVolatile(this) == ACTIVE; }

    public boolean everStarted() { return !spare || (int) SPARE_STATE.getVolatile(this) != NEW; }

    boolean isRetired() { return (int) SPARE_STATE.getVolatile(this) == RETIRED; }

    // ---- cooperative preemption and carrier-local values ----------------------------------------------

    /** Monitor: asks the fiber running as task number {@code runCount} to yield at its next checkpoint. */
    void requestPreempt(long runCount) { PREEMPT_AT.setOpaque(this, runCount); }

    /** Whether the monitor asked the current fiber to yield; owner. Opaque; the monitor's write may lag. */
    public boolean preemptRequested() {
        return (long) PREEMPT_AT.getOpaque(this) == (long) RUN_COUNT.getOpaque(this);
    }

    /** The value of a carrier-local on this carrier, created on first use. Owner only. */
    public Object localValue(int id, java.util.function.Supplier<?> initial) {
        assert isCurrentCarrier() : "carrier-local read of " + getName() + " from elsewhere: owner only";
        Object[] ls = locals;
        if (id >= ls.length) locals = ls = Arrays.copyOf(ls, Math.max(id + 1, ls.length * 2));
        Object v = ls[id];
        if (v == null) {
            v = initial.get();
            if (v == null) throw new NullPointerException("the CarrierLocal initial value supplier returned null");
            // The field: the supplier may have grown the array. A supplier that blocked let another fiber of
            // this carrier create and store a value meanwhile: the first stored wins, so all see one value.
            Object stored = locals[id];
            if (stored != null) return stored;
            locals[id] = v;
        }
        return v;
    }

    // ---- called by IdleCarriers (under its lock) and other carriers ---------------------------------

    @Override public void markAsleep() { wake.markAsleep(); }
    @Override public void markAwake() { wake.markAwake(); }

    /**
     * Wakes this carrier after the idle protocol took it off the sleeper stack. A carrier still spinning
     * in {@link #park} sees that by itself, so the driver is woken only if it may block (WakeHandshake).
     */
    @Override public void wakeDriver() {
        if (wake.driverMayBlock()) unparkDriver();
        else counters.incrementShared(CarrierCounters.WAKEUPS);
    }

    /**
     * Wakes the driver unconditionally: a retired spare, which parks outside the idle protocol. Any thread:
     * a submitter, a fiber's unpark, the monitor. A {@code wakeup()} that throws is the driver's fault, not
     * the waker's: the error goes to the scheduler's handler, and the carrier thread is unparked instead,
     * which ends a park that waits in {@code LockSupport} (the idle protocol already counts this carrier
     * awake and searching, so a carrier left parked would keep every other sleeper from being woken).
     */
    void unparkDriver() {
        CarrierDriver d = driver;                // set before this carrier could ever be a sleeper
        counters.incrementShared(CarrierCounters.WAKEUPS);
        if (d == null) return;
        boolean paused = wake.noteWake();        // paused after a driver failure (WakeHandshake)
        try {
            d.wakeup();
            if (paused) java.util.concurrent.locks.LockSupport.unpark(this);
        } catch (Throwable t) {
            java.util.concurrent.locks.LockSupport.unpark(this);
            pool.reportCarrierError(this, t);
        }
    }

    /**
     * Monitor: this carrier has run one fiber for a time slice without coming back to its driver; tells
     * the driver ({@link CarrierDriver#carrierStalled()}). The driver field is plain: a regular carrier
     * set it before the pool started the monitor (the start latch orders it); a spare's may still read
     * null, and the next sample tries again.
     */
    void driverUnattended() {
        CarrierDriver d = driver;
        if (d == null) return;
        try {
            d.carrierStalled();
        } catch (Throwable t) {
            pool.reportCarrierError(this, t);
        }
    }

    /** Monitor: what the driver says a stall holds up that nobody else serves ({@link CarrierDriver#heldByStall()}), or null. */
    String heldByStall() {
        CarrierDriver d = driver;                // plain, as in driverUnattended
        if (d == null) return null;
        try {
            return d.heldByStall();
        } catch (Throwable t) {
            pool.reportCarrierError(this, t);
            return null;
        }
    }

    long runCount() { return (long) RUN_COUNT.getOpaque(this); }

    /** This carrier's driver, or null before it is open. Owner only: the carrier or a fiber mounted on it. */
    @Override public CarrierDriver driver() { return driver; }

    public Thread currentFiber() { return (Thread) CURRENT_FIBER.getOpaque(this); }

    public boolean isSleeping() { return wake.isAsleep(); }

    /**
     * This carrier's part of a stats snapshot taken at {@code now}: its counters, its state at this
     * moment, and its driver's counters. Any thread; racy, consistent per value.
     */
    CarrierSnapshot stats(long now) {
        long driverEvents = counters.get(CarrierCounters.DRIVER_EVENTS);
        return new CarrierSnapshot(index, getName(), counters.runs(), counters.workSharing(), counters.parking(now),
                counters.schedulingDelay(),
                // the inbox too: bound fibers (THREAD_PER_CORE, startOn/startLocal, inside CarrierLocal.with) wait there
                new CarrierSnapshot.Gauges(queue.sizeEstimate() + inbox.size(), isSleeping(), currentFiber() != null),
                new CarrierSnapshot.Driver(driverEvents, pool.telemetry.driverCounters(index)));
    }

    private int nextRandom(int bound) {
        int x = seed;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        seed = x;
        return (x & Integer.MAX_VALUE) % bound;
    }
}
