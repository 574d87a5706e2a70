package dev.bobbin.scheduler;

import dev.bobbin.base.VarHandles;
import dev.bobbin.scheduler.EngineConfig.Placement;
import dev.bobbin.scheduler.EngineConfig.TaskModel;
import dev.bobbin.scheduler.queue.InjectionQueue;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The executor the JDK hands fiber continuations to: a fixed set of {@link Carrier}s, their run queues,
 * the shared {@link InjectionQueue} and the {@link IdleCarriers} wake protocol.
 *
 * <p>Implementation overview.
 * <ul>
 *   <li><b>Submission.</b> {@link #execute} receives a virtual thread's continuation task each time the
 *       fiber becomes runnable. Called on one of this pool's carriers (by the carrier, or by a fiber
 *       mounted on it, which the JDK pins for the call), the task goes to that carrier's queue; from any
 *       other thread it goes to the injection queue and may wake an idle carrier.</li>
 *   <li><b>Fiber accounting.</b> A task whose fiber is in the JDK state {@code STARTED} is a new fiber;
 *       a carrier that finds a fiber {@code TERMINATED} after running it counts a completion if it is the
 *       one that removes the fiber from the live-fiber registry ({@link FiberRegistry}; two carriers can
 *       see the same end). Live fibers
 *       are started minus completed, summed over per-carrier counters and one adder for outside starts,
 *       so the hot path touches no shared counter.</li>
 *   <li><b>Shutdown.</b> {@link #shutdown} stops new fibers (their start throws
 *       {@link RejectedExecutionException}); fibers already started run to completion, including their
 *       resumptions. A start and the shutdown flag form a Dekker pair: a start counts itself, fences, and
 *       reads the flag; a carrier deciding to exit reads the flag, fences, and reads the counts. Either
 *       the start sees the flag and withdraws, or the carrier sees the start. When no fiber is live and
 *       every queue is empty, the carriers exit and the pool is terminated.</li>
 *   <li><b>Bound fibers.</b> A fiber bound to a carrier (every fiber under
 *       {@link TaskModel#THREAD_PER_CORE}, dealt when it starts; one started with
 *       {@code startLocal}/{@code startOn}; one inside {@code CarrierLocal.with}) has an entry in
 *       {@code bindings}, fiber to home carrier. Its tasks always go to the home carrier: to its
 *       {@code inbox}, which no other carrier reads, followed by a wake of that carrier specifically;
 *       under THREAD_PER_CORE, where no carrier steals, a task made runnable on its home carrier uses the
 *       local ring and next slot as unbound tasks do. A binding costs one map entry (about 40 bytes) while
 *       the fiber lives, and nothing for unbound fibers: {@code anyBound} is false until the first binding,
 *       so the lookup is skipped. The entry goes when the fiber terminates (permanent bindings) or when
 *       {@code with} returns (temporary ones).</li>
 *   <li><b>Spare carriers.</b> {@code carriers} holds {@code parallelism} regular carriers followed by
 *       {@code maxSpares} spare ones whose threads start only when the {@link StallMonitor} finds every
 *       carrier stalled with work waiting. The idle protocol is sized for all of them; a spare that is not
 *       running (never started, or retired) counts as unparked and not searching, like a busy carrier that
 *       never polls, which keeps the protocol's invariant: a submitter skips the wake only if every carrier
 *       counts unparked, and then every regular carrier is really awake. A spare that parks in the idle
 *       protocol (while a stall lasts, for a keep-alive) is an ordinary sleeper; out of work once no
 *       carrier is stalled, it retires (see {@link Carrier}).</li>
 *   <li><b>Socket pollers.</b> The JDK starts its socket pollers lazily, as virtual threads that inherit
 *       the scheduler of the thread that triggers them. Once its carriers run, the first pool of the JVM
 *       triggers them from a fiber of its own and so hosts them ({@link SocketPollers}), unless the
 *       application chose otherwise; they are {@link OutlivingFibers}: not counted, never interrupted,
 *       handed to a runner thread of their own when the pool terminates.</li>
 * </ul>
 */
public final class CarrierPool implements Executor {
    private static final VarHandle SHUTDOWN = VarHandles.field(MethodHandles.lookup(), CarrierPool.class, "shutdown", boolean.class);

    public final Object owner;                   // the facade that built this pool; opaque, never used here
    private final String name;                   // scheduler name, used in thread names and messages
    public final Carrier[] carriers;                    // regular carriers, then spares; fixed at construction
    private final int parallelism;               // number of regular carriers
    public final TaskModel model;
    final boolean stealing;                      // carriers steal from each other (not THREAD_PER_CORE)
    private final Placement placement;
    private final ConcurrentHashMap<Thread, Carrier> bindings = new ConcurrentHashMap<>(); // fiber -> home carrier
    private final Set<Thread> pinned = ConcurrentHashMap.newKeySet(); // THREAD_PER_CORE: bound by startOn/startLocal, never re-dealt
    private volatile boolean anyBound;           // sticky: set before the first binding is published
    private final AtomicInteger dealCursor = new AtomicInteger(); // round robin position for placement
    private final AtomicInteger aliveCarriers;   // carrier threads not yet exited (regular + started spares)
    public final StallMonitor monitor;
    public final InjectionQueue inject = new InjectionQueue();
    public final IdleCarriers idle;
    private final CarrierDriverFactory driverFactory;
    private final LongAdder outsideStarts = new LongAdder(); // fibers started from non-carrier threads
    private final LongAdder outsideSubmissions = new LongAdder(); // tasks pushed to the injection queue
    private final LongAdder carrierErrors = new LongAdder();
    @SuppressWarnings("unused") private volatile boolean shutdown; // set once by shutdown()
    private volatile boolean stopping;           // shutdownNow() began: a start it may have missed interrupts its fiber
    private final CountDownLatch started;        // counts carriers that began their duty cycle, or failed to
    private final CountDownLatch terminated;     // released when the last carrier thread exited
    private volatile Throwable startFailure;     // first driver-open failure
    private volatile Thread terminating;         // the thread running the termination actions, once the last carrier is gone
    private final Thread.UncaughtExceptionHandler errorHandler;
    public final Telemetry telemetry;            // delay sampling, live fibers, failures, drivers; see Telemetry
    final OutlivingFibers outliving;             // the JDK's socket pollers, if this pool hosts them
    private volatile Thread pollerInitFiber;     // while hosting: the fiber that starts the JDK's pollers
    private final Object container;              // the JDK thread container of its fibers, or null (JdkVirtualThreads)

    /**
     * A pool configured by {@code config}, not started yet ({@link #start}). {@code owner}: the object
     * that builds the pool, kept for it ({@link #owner}) and never used here.
     */
    public CarrierPool(Object owner, EngineConfig config) {
        JdkVirtualThreads.check();
        this.owner = owner;
        SocketPollers.choice();                      // a bad -Dbobbin.jdkPollers fails here, before any thread starts
        this.name = config.name();
        this.outliving = new OutlivingFibers(name);
        this.driverFactory = config.driverFactory();
        this.errorHandler = CarrierErrorLog.forPool(config.errorHandler());  // the default: limited per scheduler
        this.parallelism = config.parallelism();
        this.model = config.model();
        this.stealing = model != TaskModel.THREAD_PER_CORE;
        this.placement = config.placement();
        this.anyBound = model == TaskModel.THREAD_PER_CORE;
        int spares = model == TaskModel.WORK_STEALING ? config.maxSpareCarriers() : 0;
        this.idle = new IdleCarriers(parallelism + spares, parallelism);
        this.carriers = new Carrier[parallelism + spares];
        for (int i = 0; i < carriers.length; i++) carriers[i] = new Carrier(this, i, i >= parallelism);
        this.started = new CountDownLatch(parallelism);
        this.terminated = new CountDownLatch(1);
        this.aliveCarriers = new AtomicInteger(parallelism);
        this.monitor = new StallMonitor(this, config.stallThresholdNanos());
        this.telemetry = new Telemetry(carriers.length, config.delaySamplingPeriod(), config.trackFibers());
        this.container = JdkVirtualThreads.openContainer("FiberScheduler[" + name + "]", null, telemetry.registry::liveForDump, false);
    }

    /** The JDK thread container its fibers start in ({@link JdkVirtualThreads#start}), or null. */
    public Object container() {
        return container;
    }

    /**
     * Starts the carriers and waits until every one runs its duty cycle, then the stall monitor and the JDK's
     * socket pollers; throws if any of that failed, once the carriers that did start have closed their
     * drivers and exited (nothing of a failed scheduler outlives the throw).
     */
    public void start() {
        int threads = 0;                             // carriers whose thread started
        for (; threads < parallelism; threads++) {
            try {
                carriers[threads].start();
            } catch (Throwable t) {                  // e.g. OutOfMemoryError: unable to create native thread
                if (startFailure == null) startFailure = t;
                // the carriers that never started count as started and gone, so the latch opens and the
                // pool terminates once those that did start have closed their drivers and exited
                for (int i = threads; i < parallelism; i++) {
                    started.countDown();
                    aliveCarrierGone();
                }
                break;
            }
        }
        Uninterruptibly.await(started);
        Throwable failure = startFailure;
        if (failure != null) failStart(failure, threads, threads < parallelism ? "a carrier thread" : "a carrier driver");
        String step = "the stall monitor";
        try {
            monitor.start();
            step = "the JDK's socket pollers";
            SocketPollers.initialize(this);            // before any fiber of this pool can touch a socket
        } catch (Throwable t) {
            failStart(t, threads, step);
        }
    }

    /**
     * A start failed: shuts the pool down and waits (at most {@link Tunables#FAILED_START_CLEANUP_NANOS})
     * until the {@code threads} carriers that started have closed their drivers and exited, then throws.
     */
    private void failStart(Throwable failure, int threads, String what) {
        shutdown();
        boolean stopped = false;
        long deadline = System.nanoTime() + Tunables.FAILED_START_CLEANUP_NANOS;
        try {
            stopped = terminated.await(Tunables.FAILED_START_CLEANUP_NANOS, TimeUnit.NANOSECONDS);
            // the latch counts a carrier once its driver is closed; its thread ends just after that
            for (int i = 0; i < threads && stopped; i++) {
                stopped = carriers[i].join(java.time.Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!stopped) failure.addSuppressed(new IllegalStateException("carriers still closing their drivers"));
        throw new IllegalStateException("scheduler '" + name + "' failed to start " + what + ": " + failure, failure);
    }

    /**
     * Runs {@code init} (which initializes the JDK's poller class) in a fiber of this pool and waits for it:
     * the sub-pollers the JDK starts from it inherit this pool as their scheduler and become
     * {@link OutlivingFibers}. Called once per JVM, by {@link SocketPollers}.
     */
    void hostJdkPollers(Runnable init) {
        Thread f = JdkVirtualThreads.newBuilder(this).name(name + "-jdk-poller-init").unstarted(init);
        pollerInitFiber = f;                           // volatile; read by execute for each start
        try {
            f.start();
            Uninterruptibly.join(f);
        } finally {
            pollerInitFiber = null;
        }
    }

    /**
     * Whether this pool may host the JDK's socket pollers: work stealing, two regular carriers and stall
     * protection on, so that a poller queued behind a fiber that hogs a carrier is taken by the other
     * carrier or moved by the stall monitor (see {@link SocketPollers}).
     */
    boolean canHostJdkPollers() {
        return model == TaskModel.WORK_STEALING && parallelism >= 2 && monitor.protects();
    }

    /**
     * Shut down with no fiber of the pool left, while the JDK's pollers it hosts still run: carriers
     * stop running them and exit, and their runner takes over. Any carrier, before each task; a
     * volatile read unless this pool hosts pollers and is shut down.
     */
    boolean onlyOutlivingLeft() {
        return outliving.any() && (boolean) SHUTDOWN.getVolatile(this) && readyToExit();
    }

    /** The number of the JDK's socket pollers this pool hosts (0 if it hosts none). */
    public int hostedJdkPollers() { return outliving.count(); }

    public String name() { return name; }

    /** The number of regular carriers (spares not included). */
    public int parallelism() { return parallelism; }

    // ---- Executor: the JDK's entry point ----------------------------------------------------------

    @Override
    public void execute(Runnable task) {
        Thread fiber = JdkVirtualThreads.fiberOf(task);
        if (fiber == null) {
            throw new RejectedExecutionException("scheduler '" + name + "' runs fiber continuations only, got " + task);
        }
        boolean isStart = JdkVirtualThreads.state(fiber) == JdkVirtualThreads.STARTED;
        Thread carrierThread = JdkVirtualThreads.currentCarrier();
        Carrier here = carrierThread instanceof Carrier c && c.pool == this ? c : null;
        if (isStart ? Thread.currentThread() == pollerInitFiber || fiber == pollerInitFiber : outliving.contains(fiber)) {
            submitOutliving(task, fiber, isStart && fiber != pollerInitFiber, here); // the init fiber: uncounted, not kept
            return;
        }
        if (isStart) countStartOrReject(here);
        // an executor's job was enrolled before its start: its add would only find the entry
        telemetry.submitted(fiber, here, isStart && !JdkVirtualThreads.enrolledBeforeStart(fiber));
        // in the registry, then read (volatile): shutdownNow's sweep listed it, or this sees the flag (markStopping)
        if (isStart && stopping) fiber.interrupt();
        if (anyBound) {                              // volatile read; pairs with the write in bind
            Carrier home = bindings.get(fiber);
            if (home == null && isStart && model == TaskModel.THREAD_PER_CORE) home = deal(fiber);
            if (home != null) {
                if (home == here && !stealing) {
                    here.scheduleLocal(task, Thread.currentThread() != here, isStart);   // counts a local schedule
                } else {
                    // counted as every other submission is, or SchedulerStats.fiberUnparks (submissions minus
                    // starts) misses the wake-ups of bound fibers while their starts still count
                    if (here != null) here.counters.increment(CarrierCounters.LOCAL_SCHEDULES);
                    else outsideSubmissions.increment();
                    home.scheduleBound(task, here == home);
                }
                return;
            }
        }
        if (here != null) {
            here.scheduleLocal(task, Thread.currentThread() != here, isStart);
        } else {
            outsideSubmissions.increment();
            inject.push(task);
            idle.notifyOne();
        }
    }

    /**
     * A task of an {@link OutlivingFibers} fiber: never counted, never refused, never bound; scheduled
     * like an unbound fiber's while the pool runs, handed to their runner once its carriers exit.
     */
    private void submitOutliving(Runnable task, Thread fiber, boolean isStart, Carrier here) {
        if (isStart) outliving.add(fiber);
        if (outliving.poolGone()) {
            outliving.handOver(task);
        } else if (here != null) {
            here.scheduleLocal(task, Thread.currentThread() != here, isStart); // this carrier runs it before it may exit
        } else {
            inject.push(task);
            idle.notifyOne();
            outliving.afterInjected(inject);         // the pool's carriers may be exiting meanwhile
        }
    }

    /**
     * Carrier {@code c}, on its own thread, is exiting: from now on outliving fibers' tasks go to their
     * runner, and so do those queued on {@code c} and in the injection queue (see OutlivingFibers).
     */
    void carrierExiting(Carrier c) {
        if (!outliving.any()) return;
        outliving.poolExiting(inject);
        c.drainQueuesTo(outliving);
    }

    private void countStartOrReject(Carrier here) {
        if (here != null) here.counters.increment(CarrierCounters.FIBERS_STARTED);
        else outsideStarts.increment();
        VarHandle.fullFence();                       // Dekker: count the start, then read the flag
        if ((boolean) SHUTDOWN.getVolatile(this)) {
            if (here != null) here.counters.add(CarrierCounters.FIBERS_STARTED, -1);
            else outsideStarts.add(-1);
            if (liveFibers() == 0) wakeAllForExit();
            throw new RejectedExecutionException("scheduler '" + name + "' is shut down and accepts no new fibers");
        }
    }

    // ---- bindings --------------------------------------------------------------------------------

    /** Binds a fiber that has not started, or the calling fiber (mounted on {@code home}), to {@code home}. */
    public void bind(Thread fiber, Carrier home) {
        anyBound = true;                             // volatile write before the entry can be looked up
        bindings.put(fiber, home);
        home.boundFibers.incrementAndGet();
    }

    /** Removes a binding made by {@link #bind}; no-op if the fiber is not bound. */
    public void unbind(Thread fiber) {
        if (!anyBound) return;
        Carrier home = bindings.remove(fiber);
        if (home != null) home.boundFibers.decrementAndGet();
        if (!pinned.isEmpty()) pinned.remove(fiber);
    }

    /**
     * Binds a fiber that has not started to {@code home} at the caller's request (startOn, startLocal):
     * unlike a THREAD_PER_CORE deal, a stall of {@code home} never moves it ({@link #isPinned}).
     */
    public void pin(Thread fiber, Carrier home) {
        if (model == TaskModel.THREAD_PER_CORE) pinned.add(fiber);   // only that model re-deals bound fibers
        bind(fiber, home);
    }

    /** Whether {@code fiber} was bound by {@link #pin}. */
    boolean isPinned(Thread fiber) {
        return pinned.contains(fiber);
    }

    /** Moves the binding of a fiber that has not run yet (THREAD_PER_CORE re-deal). Monitor thread. */
    void rebind(Thread fiber, Carrier from, Carrier to) {
        bindings.put(fiber, to);
        from.boundFibers.decrementAndGet();
        to.boundFibers.incrementAndGet();
    }

    /** The home carrier of a bound fiber, or null. */
    public Carrier homeOf(Thread fiber) {
        return anyBound ? bindings.get(fiber) : null;
    }

    public int boundFiberCount() { return bindings.size(); }

    /** THREAD_PER_CORE: chooses and records the home carrier of a starting fiber. */
    private Carrier deal(Thread fiber) {
        int n = parallelism;
        int start = Math.floorMod(dealCursor.getAndIncrement(), n);
        Carrier home = carriers[start];
        if (placement == Placement.LEAST_LOADED) {
            int best = home.boundFibers.get();
            for (int i = 1; i < n && best > 0; i++) {
                Carrier c = carriers[(start + i) % n];
                int load = c.boundFibers.get();
                if (load < best) {
                    best = load;
                    home = c;
                }
            }
        }
        bind(fiber, home);
        return home;
    }

    // ---- lifecycle ---------------------------------------------------------------------------------

    public void shutdown() {
        if (SHUTDOWN.compareAndSet(this, false, true)) {
            idle.wakeAll();                           // parked carriers re-check the exit condition
            wakeRetiredSpares();
        }
    }

    public boolean isShutdown() { return (boolean) SHUTDOWN.getVolatile(this); }

    /**
     * shutdownNow() began: called before its sweep of the live fibers. A start that accepted its fiber
     * before the shutdown but put it in the registry after the sweep passed its stripe reads the flag
     * after that add and interrupts the fiber itself. The stripe lock orders the two: if the sweep held
     * it first, its unlock and the add's lock order this write before the start's read.
     */
    public void markStopping() { stopping = true; }

    /**
     * Whether every carrier has exited and the termination actions have run; true as well on the thread
     * that runs those actions, while it runs them (they run "once the scheduler is terminated").
     */
    public boolean isTerminated() { return terminated.getCount() == 0 || terminating == Thread.currentThread(); }

    /**
     * Waits for {@link #isTerminated}. A termination action calling it returns true at once instead of
     * waiting for itself (the latch is released after the actions have run).
     */
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        // terminated already: true without looking at the interrupt status, as the JDK's executors answer
        return terminating == Thread.currentThread() || terminated.getCount() == 0 || terminated.await(timeout, unit);
    }

    /**
     * True when a carrier may exit: shut down, no live fiber, nothing queued anywhere. With no live fiber,
     * anything still queued belongs to {@link OutlivingFibers}, which never hold the pool up: the exiting
     * carriers hand it over ({@link #carrierExiting}).
     */
    boolean readyToExit() {
        if (!(boolean) SHUTDOWN.getVolatile(this)) return false;
        VarHandle.fullFence();                       // Dekker: read the flag, then the counts
        return liveFibers() == 0 && (outliving.any() || !hasAnyWork());
    }

    void fiberTerminated() {
        if ((boolean) SHUTDOWN.getVolatile(this) && liveFibers() == 0) wakeAllForExit();
    }

    void wakeAllForExit() {
        idle.wakeAll();
        wakeRetiredSpares();
    }

    private void wakeRetiredSpares() {
        for (int i = parallelism; i < carriers.length; i++) {
            if (carriers[i].isRetired()) carriers[i].unparkDriver();
        }
    }

    /**
     * Whether any queue or next slot holds a task another carrier could take: not a ring its carrier keeps
     * for itself ({@link Carrier#keepsUpWithOwnCompletions}), whose owner is awake and runs it, and under
     * THREAD_PER_CORE no ring at all (no carrier steals: a backlog there is its owner's alone, and a carrier
     * woken for it would only park again). Racy; used by the wake protocol's re-check.
     */
    boolean hasVisibleWork() {
        if (!inject.isEmpty()) return true;
        if (!stealing) return false;
        for (Carrier c : carriers) {
            if (!c.queue.isEmpty() && !c.keepsUpWithOwnCompletions()) return true;
        }
        return false;
    }

    /** Whether any queue, next slot or inbox holds a task at all. Racy. */
    public boolean hasAnyWork() {
        if (!inject.isEmpty()) return true;
        for (Carrier c : carriers) {
            if (!c.queue.isEmpty() || !c.inbox.isEmpty()) return true;
        }
        return false;
    }

    public long liveFibers() {
        long completed = 0;
        for (Carrier c : carriers) completed += c.counters.get(CarrierCounters.FIBERS_COMPLETED);
        return startsAfterCompletions() - completed;
    }

    /**
     * The fibers started so far, read after the caller read the completions: a fiber is counted as started
     * before it can complete, so one that started and completed while the carriers were read is in both
     * (read before, a start on an earlier carrier or from outside would be missed while its completion on a
     * later carrier is not, and started minus completed would go below zero).
     */
    private long startsAfterCompletions() {
        VarHandle.acquireFence();                    // acquire; pairs with the release of each completion (CarrierCounters.incrementRelease)
        long started = outsideStarts.sum();
        for (Carrier c : carriers) started += c.counters.get(CarrierCounters.FIBERS_STARTED);
        return started;
    }

    public long outsideStarts() { return outsideStarts.sum(); }

    public long outsideSubmissions() { return outsideSubmissions.sum(); }

    /**
     * A stats snapshot, assembled from each component's part: every carrier's ({@link Carrier#stats}),
     * the fiber counts, the injection queue's, the idle protocol's, the stall monitor's and the
     * telemetry's. Spare carriers appear once started. Any thread; racy, consistent per value.
     */
    public EngineStats stats() {
        long completed = 0;
        long now = System.nanoTime();
        List<EngineStats.CarrierSnapshot> carrierStats = new ArrayList<>(carriers.length);
        for (Carrier c : carriers) {
            if (!c.everStarted()) continue;          // spares appear once started
            EngineStats.CarrierSnapshot cs = c.stats(now);
            completed += cs.runs().fibersCompleted();
            carrierStats.add(cs);
        }
        // submissions before starts: each start is also a submission, so submissions minus starts
        // (SchedulerStats.fiberUnparks, which a metrics counter keeps at its highest) errs low, never high
        long submissions = outsideSubmissions.sum();
        long started = startsAfterCompletions();
        return new EngineStats(name, parallelism, new EngineStats.Fibers(started, completed, telemetry.fibersFailed()),
                new EngineStats.Injection(inject.size(), submissions), idle.stats(), carrierStats,
                monitor.stats(), telemetry.transport());
    }

    long carrierErrors() { return carrierErrors.sum(); }

    /**
     * shutdownNow(): has every carrier's driver close the resources fibers may block on; a driver's failure
     * goes to the error handler, named by its carrier, and never stops the others nor reaches the caller.
     */
    public void abortDriverResources() {
        telemetry.abortDriverResources((t, index) -> reportCarrierError(carriers[index], t));
    }

    // ---- carrier callbacks -------------------------------------------------------------------------

    CarrierDriver openDriver(Carrier carrier) {
        CarrierDriver d = driverFactory.open(carrier);
        if (d == null) throw new NullPointerException("CarrierDriverFactory.open returned null");
        telemetry.driverOpened(carrier, d);
        return d;
    }

    void carrierStarted(Carrier c) {
        if (!c.spare) started.countDown();
    }

    void carrierFailedToStart(Carrier c, Throwable t) {
        if (c.spare) {
            reportCarrierError(c, t);                // the spare stays out of service
        } else {
            if (startFailure == null) startFailure = t;
            started.countDown();
        }
        carrierExited(c);
    }

    /** Carrier thread, as it exits (or fails to open its driver). */
    void carrierExited(Carrier c) {
        c.counters.set(CarrierCounters.STOPPED_AT, System.nanoTime());
        aliveCarrierGone();
    }

    /** Monitor thread: a spare counted by {@link #spareStarting} whose thread failed to start; it has no counters to stop. */
    void spareNeverStarted() {
        aliveCarrierGone();
    }

    private void aliveCarrierGone() {
        if (aliveCarriers.decrementAndGet() == 0) {
            // every carrier stopped, by shutdown or on errors (a driver's runCarrier failed): a terminated pool
            // is shut down, so later starts are refused instead of queued where no carrier will run them
            SHUTDOWN.setVolatile(this, true);
            terminating = Thread.currentThread();    // the actions below see the pool terminated
            JdkVirtualThreads.closeContainer(container);  // every fiber started in it has ended
            telemetry.poolTerminated();              // termination actions run before awaitTermination returns
            terminated.countDown();
        }
    }

    /** Counts a spare's thread as alive before it starts; false once the pool has terminated. */
    boolean spareStarting() {
        for (;;) {
            int n = aliveCarriers.get();
            if (n == 0) return false;
            if (aliveCarriers.compareAndSet(n, n + 1)) return true;
        }
    }

    void reportCarrierError(Thread c, Throwable t) {
        carrierErrors.increment();
        try {
            errorHandler.uncaughtException(c, t);
        } catch (Throwable ignored) {
            // an error handler that throws must not kill the carrier
        }
    }
}
