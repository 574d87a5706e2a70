package dev.bobbin;

import dev.bobbin.scheduler.Carrier;
import dev.bobbin.scheduler.CarrierPool;
import dev.bobbin.scheduler.FiberRegistry;
import dev.bobbin.scheduler.JdkVirtualThreads;
import dev.bobbin.scheduler.SchedulingDelays;
import dev.bobbin.scheduler.Telemetry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A work-stealing scheduler for fibers: JDK virtual threads that run on Bobbin's own carrier threads
 * instead of the JDK's global {@code ForkJoinPool}.
 *
 * <p>A fiber is a {@link Thread} in every respect: its own {@link Thread#currentThread()}, thread id,
 * {@link ThreadLocal} and {@link InheritableThreadLocal} values, interrupt status and stack, all of which
 * it keeps while it moves between carriers at blocking points. Fibers started from a fiber, including
 * with a plain {@link Thread#ofVirtual()}, run on the same scheduler.
 *
 * <pre>{@code
 * try (FiberScheduler scheduler = FiberScheduler.create()) {
 *     Thread fiber = scheduler.start(() -> System.out.println("hello from " + Thread.currentThread()));
 *     fiber.join();
 * }
 * }</pre>
 *
 * <p>The JVM must run with {@code --add-opens java.base/java.lang=ALL-UNNAMED}; without it
 * {@link #create} throws an {@link IllegalStateException} that names the flag.
 *
 * <h2>Scheduling</h2>
 * Each carrier has a bounded local run queue that it pops and that other carriers steal half of when they
 * run out of work; a "next" slot that holds the fiber most recently woken by the fiber running on that
 * carrier, so a request/response pair runs back to back on one carrier; and access to a scheduler-wide
 * injection queue for work coming from outside threads. Idle carriers park; a new task wakes at most one
 * of them, and only when no carrier is already searching. Each carrier drives a
 * {@link dev.bobbin.spi.CarrierDriver}, through which an I/O backend runs its event loop between fibers
 * and blocks in its own wait when the carrier is idle.
 *
 * <h2>Observability</h2>
 * {@link #stats()} returns a snapshot of per-carrier counters (kept as plain fields, summed on read);
 * {@link #dumpFibers()} lists live fibers with their stacks; scheduling delay is sampled as
 * {@link SchedulerConfig#schedulingDelaySampling()} says and streamed to
 * {@link #addSchedulingDelayListener listeners}; large steals are JFR events
 * ({@code dev.bobbin.StealBurst}). The {@code bobbin-metrics} module turns all of it into Micrometer
 * meters.
 *
 * <h2>Thread model</h2>
 * The {@link SchedulingPolicy} chooses how fibers relate to carriers: work stealing (the default),
 * thread per core (a fiber never moves once started), or a single thread (fibers never run in parallel).
 * Under any policy, {@link #startLocal} starts a fiber that never leaves the caller's carrier;
 * {@link CarrierLocal} gives code a safe door to per-carrier data; {@link Confined} moves a group of
 * non-thread-safe objects between fibers as a unit. A monitor notices a carrier stalled by a fiber that
 * does not yield (a CPU loop, or a pinning call such as file I/O): it reports the stall once (log, JFR
 * event {@code dev.bobbin.CarrierStall}, {@link SchedulerStats#carrierStalls()}), hands the carrier's
 * queued fibers to others and, if every carrier is stalled, starts a spare carrier. Long computations can
 * call {@link #checkpoint()}, which yields once the fiber's time slice is used up.
 *
 * <h2>Lifecycle</h2>
 * {@link #shutdown()} makes the start of new fibers throw
 * {@link java.util.concurrent.RejectedExecutionException}; fibers already started run to the end. Once
 * none is left the carriers stop and the scheduler is terminated. {@link #shutdownNow()} also interrupts
 * every live fiber and closes the sockets the scheduler's carriers own. {@link #close()} shuts down and
 * waits, turning into {@code shutdownNow()} if the waiting thread is interrupted, as
 * {@link java.util.concurrent.ExecutorService#close()} does.
 * Carriers are daemon threads: an abandoned scheduler does not keep the JVM alive.
 */
public final class FiberScheduler implements AutoCloseable {
    private final SchedulerConfig config;
    private final CarrierPool pool;
    private final ThreadFactory threadFactory;

    private FiberScheduler(SchedulerConfig config) {
        this.config = config;
        this.pool = new CarrierPool(this, config.engineConfig());
        this.pool.start();
        this.threadFactory = countingFailures(new NamedFibers(ofVirtual().factory(), config.name() + "-fiber-"));
    }

    /** Creates and starts a scheduler with {@link SchedulerConfig#defaults()}. */
    public static FiberScheduler create() {
        return create(SchedulerConfig.defaults());
    }

    /**
     * Creates and starts a scheduler; returns once every carrier is running.
     *
     * @throws IllegalStateException if the JVM lacks {@code --add-opens java.base/java.lang=ALL-UNNAMED},
     *                               or a start step failed (a carrier thread, a carrier driver, the stall
     *                               monitor, or the JDK's socket pollers, such as for a bad
     *                               {@code -Dbobbin.jdkPollers}); the carriers that did start have stopped
     */
    public static FiberScheduler create(SchedulerConfig config) {
        Objects.requireNonNull(config, "config");
        return new FiberScheduler(config);
    }

    /**
     * A new virtual-thread builder whose threads are fibers of this scheduler. Each call returns a fresh
     * builder (builders are mutable and not thread-safe); its {@code factory()} is thread-safe. Its fibers
     * have the JDK's uncaught-exception handling untouched; their failures are not counted in
     * {@link SchedulerStats#fibersFailed()} (the JDK's builder type is sealed, so the only hook would be
     * the per-thread handler, which belongs to the application). Fibers started through {@link #start},
     * {@link #threadFactory()} or a {@link FiberExecutor} are counted.
     */
    public Thread.Builder.OfVirtual ofVirtual() {
        return JdkVirtualThreads.newBuilder(pool);
    }

    /**
     * Wraps {@code factory} so that each fiber's task counts its uncaught exception in the scheduler's
     * failure count, then rethrows it: the fiber's own uncaught-exception handling (the handler the
     * application set, or the JDK's default through the thread group) runs exactly as without Bobbin.
     */
    ThreadFactory countingFailures(ThreadFactory factory) {
        Telemetry t = pool.telemetry;
        return task -> factory.newThread(t.countingFailures(Objects.requireNonNull(task, "task")));
    }

    /** A thread-safe factory of fibers named {@code <scheduler-name>-fiber-<n>}. */
    public ThreadFactory threadFactory() {
        return threadFactory;
    }

    /**
     * Starts a fiber running {@code task}.
     *
     * @throws java.util.concurrent.RejectedExecutionException if the scheduler is shut down
     */
    public Thread start(Runnable task) {
        Objects.requireNonNull(task, "task");
        Thread fiber = threadFactory.newThread(task);
        JdkVirtualThreads.start(fiber, pool.container());
        return fiber;
    }

    /**
     * Starts a fiber bound to the caller's carrier: it runs only there, never migrating, even under
     * {@link SchedulingPolicy#WORK_STEALING} (no other carrier steals it). Fibers it starts are not bound
     * (unless the policy binds every fiber). Must be called on a carrier of this scheduler (from one of
     * its fibers).
     *
     * @throws IllegalStateException if the caller is not on a carrier of this scheduler
     * @throws java.util.concurrent.RejectedExecutionException if the scheduler is shut down
     */
    public Thread startLocal(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (!(JdkVirtualThreads.currentCarrier() instanceof Carrier c) || c.pool != pool) {
            throw new IllegalStateException("startLocal must be called from a fiber of scheduler '" + name()
                    + "'; use startOn(carrierIndex, task) from other threads");
        }
        return startBound(c, task);
    }

    /**
     * Starts a fiber bound to carrier {@code carrierIndex}: it runs only there, never migrating. From any
     * thread.
     *
     * @throws IllegalArgumentException if {@code carrierIndex} is not in {@code [0, parallelism)}
     * @throws java.util.concurrent.RejectedExecutionException if the scheduler is shut down
     */
    public Thread startOn(int carrierIndex, Runnable task) {
        Objects.requireNonNull(task, "task");
        if (carrierIndex < 0 || carrierIndex >= pool.parallelism()) {
            throw new IllegalArgumentException("carrierIndex must be between 0 and " + (pool.parallelism() - 1)
                    + ": " + carrierIndex);
        }
        return startBound(pool.carriers[carrierIndex], task);
    }

    private Thread startBound(Carrier home, Runnable task) {
        Thread fiber = threadFactory.newThread(task);
        pool.pin(fiber, home);
        try {
            JdkVirtualThreads.start(fiber, pool.container());
        } catch (Throwable t) {
            pool.unbind(fiber);
            throw t;
        }
        return fiber;
    }

    /**
     * A cooperative preemption point for long computations: yields (as {@link Thread#yield()}) if the
     * calling fiber has run for a whole time slice (about 10 ms) without blocking, and otherwise returns
     * at once. Costs a few nanoseconds; call it every few thousand iterations of a loop that never
     * blocks. Does nothing outside a Bobbin fiber. Under {@link SchedulingPolicy#SINGLE_THREAD} a
     * checkpoint is a point where other fibers may interleave.
     */
    public static void checkpoint() {
        if (JdkVirtualThreads.isAvailable() && JdkVirtualThreads.currentCarrier() instanceof Carrier c
                && c.preemptRequested() && Thread.currentThread() != c) {
            Thread.yield();
        }
    }

    /** This scheduler's policy. */
    public SchedulingPolicy policy() {
        return config.policy();
    }

    /** This scheduler's name. */
    public String name() {
        return config.name();
    }

    /** The number of carriers. */
    public int parallelism() {
        return pool.parallelism();
    }

    /** The live-fiber registry, in which a {@link FiberExecutor} enrols its jobs' fibers. */
    FiberRegistry registry() {
        return pool.telemetry.registry;
    }

    /** The configuration this scheduler was created with. */
    public SchedulerConfig config() {
        return config;
    }

    /** A snapshot of this scheduler's counters; cheap enough to call once a second. */
    public SchedulerStats stats() {
        return SchedulerStats.from(pool.stats());
    }

    /**
     * The scheduler's live fibers with their state, carrier and stack trace, and the time since each
     * last ran when {@link SchedulerConfig#trackFibers()} is on.
     */
    public FiberDump dumpFibers() {
        return FiberDump.of(pool);
    }

    /**
     * Adds a listener that receives every measured scheduling delay, in nanoseconds (see
     * {@link SchedulingDelaySampling}). It runs on a carrier, just before the measured fiber runs, so it
     * must be fast and must not block; exceptions it throws are ignored. A listener {@code equals} to
     * one already added is not added again.
     *
     * @return true if added; false if an equal listener was present or delay sampling is off
     */
    public boolean addSchedulingDelayListener(LongConsumer listener) {
        Objects.requireNonNull(listener, "listener");
        SchedulingDelays delays = pool.telemetry.delays;
        return delays != null && delays.addListener(listener);
    }

    /** Removes a listener {@code equals} to {@code listener}, if present. */
    public void removeSchedulingDelayListener(LongConsumer listener) {
        Objects.requireNonNull(listener, "listener");
        SchedulingDelays delays = pool.telemetry.delays;
        if (delays != null) delays.removeListener(listener);
    }

    /**
     * Runs {@code action} once the scheduler is terminated: on the carrier that exits last, or at once on
     * the caller if it already is. Monitoring uses it to unregister itself. Exceptions it throws are
     * ignored.
     */
    public void onTermination(Runnable action) {
        Objects.requireNonNull(action, "action");
        pool.telemetry.termination.whenComplete((v, e) -> {
            try {
                action.run();
            } catch (Throwable ignored) {
                // a faulty action must not disturb the exiting carrier or the other actions
            }
        });
    }

    /** Stops accepting new fibers; started fibers run to completion. Idempotent. */
    public void shutdown() {
        pool.shutdown();
    }

    /**
     * Shuts down, interrupts every live fiber, and has each carrier's driver close the resources fibers
     * may be blocked on (the I/O backend closes the sockets opened on this scheduler's carriers, so a
     * fiber blocked reading one gets a {@link java.nio.channels.ClosedChannelException}: a
     * {@link java.nio.channels.ClosedByInterruptException} or an
     * {@link java.nio.channels.AsynchronousCloseException}, whichever of the interrupt and the close reaches
     * it first). Like
     * {@link java.util.concurrent.ExecutorService#shutdownNow()} it does not wait: fibers that catch the
     * interrupt and go on still run to the end; {@link #awaitTermination} waits for them. Idempotent.
     *
     * @return the fibers that were alive and got interrupted
     */
    public List<Thread> shutdownNow() {
        pool.shutdown();
        pool.markStopping();                          // before the sweep: a start it misses interrupts itself
        List<Thread> fibers = new ArrayList<>();
        pool.telemetry.registry.live(fibers);
        for (Thread fiber : fibers) fiber.interrupt();
        pool.abortDriverResources();
        return fibers;
    }

    /** Whether {@link #shutdown()}, {@link #shutdownNow()} or {@link #close()} has been called. */
    public boolean isShutdown() {
        return pool.isShutdown();
    }

    /** Whether the scheduler is shut down and all its carriers have stopped. */
    public boolean isTerminated() {
        return pool.isTerminated();
    }

    /**
     * Waits until the scheduler is terminated or the timeout elapses.
     *
     * @return true if terminated
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        // saturates: a timeout beyond about 292 years (Duration.ofSeconds(Long.MAX_VALUE)) waits "forever"
        return pool.awaitTermination(TimeUnit.NANOSECONDS.convert(timeout), TimeUnit.NANOSECONDS);
    }

    /**
     * Waits until the scheduler is terminated or the timeout elapses, as
     * {@link java.util.concurrent.ExecutorService#awaitTermination} does.
     *
     * @return true if terminated
     */
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return pool.awaitTermination(timeout, unit);
    }

    /**
     * Shuts down and waits until every fiber has finished and the carriers have stopped, with
     * {@link java.util.concurrent.ExecutorService#close()}'s semantics: if the caller is interrupted while
     * waiting, it calls {@link #shutdownNow()} (fibers are interrupted, the sockets they block on closed),
     * keeps waiting, and restores the interrupt status on return. Calling it from one of this scheduler's
     * own fibers would wait for itself: that throws {@link IllegalStateException} instead.
     */
    @Override
    public void close() {
        if (current().orElse(null) == this && !isTerminated()) {
            throw new IllegalStateException("a fiber cannot close its own scheduler '" + name() + "'; call shutdown()");
        }
        shutdown();
        boolean interrupted = false;
        while (!isTerminated()) {
            try {
                pool.awaitTermination(1, TimeUnit.DAYS);
            } catch (InterruptedException e) {
                if (!interrupted) shutdownNow();
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * The scheduler whose carrier the caller runs on (in a fiber or on the carrier thread itself), or
     * empty.
     */
    public static Optional<FiberScheduler> current() {
        if (!JdkVirtualThreads.isAvailable()) return Optional.empty();
        return Optional.ofNullable(JdkVirtualThreads.currentCarrier() instanceof Carrier c
                && c.pool.owner instanceof FiberScheduler s ? s : null);
    }

    /**
     * The index of the carrier the caller runs on right now, from 0 to parallelism - 1 for a regular
     * carrier and from parallelism up for a spare one, or -1 when the caller is not on a Bobbin carrier. Under WORK_STEALING an unbound fiber may move to another carrier
     * at its next blocking point, so this is a diagnostic, not an affinity; a bound fiber
     * ({@link #startLocal}, THREAD_PER_CORE, inside {@link CarrierLocal#with}) stays where it is.
     */
    public static int currentCarrierIndex() {
        if (!JdkVirtualThreads.isAvailable()) return -1;
        return JdkVirtualThreads.currentCarrier() instanceof Carrier c ? c.index : -1;
    }

    /**
     * Whether the calling fiber may move to another carrier at its next blocking point: an unbound fiber
     * of a {@link SchedulingPolicy#WORK_STEALING} scheduler. False on a platform thread (a carrier
     * included), for a bound fiber ({@link #startLocal}, {@link #startOn}, inside {@link CarrierLocal#with})
     * and under THREAD_PER_CORE or SINGLE_THREAD. I/O backends use it to place a new socket on a less
     * loaded carrier, where the fiber then follows its completions.
     */
    public static boolean currentFiberMayMove() {
        if (!JdkVirtualThreads.isAvailable()) return false;
        return JdkVirtualThreads.currentCarrier() instanceof Carrier c && c.currentFiberMayMove();
    }

    /**
     * For I/O backends: the {@link dev.bobbin.spi.CarrierDriver} of the carrier the caller runs on right
     * now (a fiber mounted on it, or the carrier thread itself), or null when the caller is not on a
     * Bobbin carrier. A fiber may move at its next blocking point, so use the result before blocking.
     *
     * @deprecated backends use {@link dev.bobbin.spi.CarrierContext#current()}{@code .driver()}; this
     *             alias stays for one release
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static dev.bobbin.spi.CarrierDriver currentCarrierDriver() {
        if (!JdkVirtualThreads.isAvailable()) return null;
        return JdkVirtualThreads.currentCarrier() instanceof Carrier c ? c.driver() : null;
    }

    CarrierPool pool() { return pool; }           // for package tests

    @Override
    public String toString() {
        return "FiberScheduler[" + name() + ", parallelism=" + parallelism()
                + (isTerminated() ? ", terminated" : isShutdown() ? ", shutting down" : "") + "]";
    }
}
