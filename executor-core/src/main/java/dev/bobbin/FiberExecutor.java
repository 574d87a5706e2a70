package dev.bobbin;

import dev.bobbin.scheduler.Tunables;
import dev.bobbin.scheduler.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * A drop-in {@link ExecutorService} that runs each task on a new fiber of a {@link FiberScheduler}: the
 * contract of {@link Executors#newVirtualThreadPerTaskExecutor()}, on Bobbin's carriers.
 *
 * <pre>{@code
 * // before: ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()
 * try (ExecutorService executor = FiberExecutor.create()) {
 *     Future<String> page = executor.submit(() -> fetch("/index.html"));
 *     System.out.println(page.get());
 * }
 * }</pre>
 *
 * <p>Every {@code ExecutorService} method behaves as the JDK's thread-per-task executor's does:
 * {@link NullPointerException} for a null task, a null collection or a collection holding null;
 * {@link RejectedExecutionException} after shutdown; {@link #shutdownNow()} interrupts running tasks;
 * {@code invokeAny} returns the first success and cancels the rest; {@link #close()} waits, and if
 * interrupted while waiting, interrupts the tasks, keeps waiting and returns with the interrupt status
 * set.
 *
 * <h2>Options</h2>
 * {@link #builder()} configures a name (fibers are named {@code <name>-<n>}), a shared scheduler or the
 * configuration of the executor's own, an {@link Thread.UncaughtExceptionHandler} for exceptions thrown
 * by {@link #execute}d tasks, and an optional bound on how many tasks run at once with a
 * {@link Saturation} policy for when the bound is reached:
 * <pre>{@code
 * try (FiberScheduler scheduler = FiberScheduler.create();
 *      FiberExecutor database = FiberExecutor.builder().name("db").scheduler(scheduler)
 *              .maxConcurrency(16).whenSaturated(FiberExecutor.Saturation.WAIT).build();
 *      FiberExecutor api = FiberExecutor.builder().name("api").scheduler(scheduler).build()) {
 *     api.submit(() -> database.submit(() -> query("select 1")).get());
 * }
 * }</pre>
 *
 * <h2>Schedulers</h2>
 * An executor built without a scheduler creates its own and shuts it down when the executor
 * terminates. Several executors may share one scheduler: each then bounds, names and shuts down only its
 * own tasks, and closing an executor never stops a shared scheduler. Once a shared scheduler is shut
 * down, every executor on it rejects new tasks with a {@link RejectedExecutionException} that names the
 * scheduler.
 *
 * <h2>Views</h2>
 * {@link #threadFactory()} and {@link #ofVirtual()} create fibers of the same scheduler for code that
 * takes a {@link ThreadFactory} or a {@link Thread.Builder}, such as
 * {@code Executors.newThreadPerTaskExecutor(executor.threadFactory())} or a structured task scope
 * configured with {@code withThreadFactory(executor.threadFactory())}. Fibers created through a view are
 * not tasks of this executor: its shutdown neither waits for nor interrupts them.
 */
public final class FiberExecutor implements ExecutorService {
    /*
     * Implementation overview.
     *
     * Tasks. Each accepted task becomes a "job": the user's Runnable (execute) or a TaskFuture
     * (submit, invokeAll, invokeAny). A job runs on a new fiber made by `factory` and wrapped in a
     * Worker, whose finally block calls `jobDone`. Every fiber of a job is in `fibers` from just before
     * its start until its job is done; shutdownNow interrupts that set.
     *
     * Lifecycle. `state` moves RUNNING -> SHUTDOWN -> TERMINATED (table below), each step one CAS. A new
     * job is refused unless the state is RUNNING. Termination needs SHUTDOWN, an empty `fibers` set and,
     * when bounded, no slot held and nothing queued; whoever sees all of it (shutdown, the last job to
     * finish, or a failed start) takes the CAS and opens the `terminated` latch. A start and a shutdown
     * race like a Dekker pair: the start adds its fiber to `fibers` (a CAS on the set's counter) and then
     * reads `state` (volatile); the shutdown CASes `state` and then reads the set's counter (volatile).
     * Either the start sees SHUTDOWN and withdraws (RejectedExecutionException), or the shutdown sees
     * the fiber and leaves termination to it.
     *
     * Bounded concurrency. With maxConcurrency K, `Slots` counts running jobs under one short lock. A
     * job that finds K running waits (WAIT), is refused (REJECT) or joins a FIFO queue (QUEUE). A finishing
     * job hands its slot straight to the head of the queue and starts it before it leaves `fibers`, so
     * the set is never empty while queued work remains; queued jobs therefore also run after shutdown(),
     * and shutdownNow() drains and returns them. The unbounded path touches no lock.
     *
     * Own scheduler. An executor without a shared scheduler shuts its own down when it terminates, and
     * close() also waits for the carriers to stop.
     *
     * Waiting and fanning out. Two paths cost a platform-thread caller less than the JDK's scheduling
     * does. Future.get spin-waits briefly before it parks (TaskFuture), so a short task needs no park and
     * unpark. invokeAll of many tasks from outside the scheduler creates the fibers on the caller (they
     * inherit from it exactly as submitted ones do) and lets one starter fiber per chunk start them
     * (FanOut): a start on a carrier is a local queue push, a start from outside crosses the injection
     * queue. A chunk's tasks therefore start only once the caller has read the whole chunk from the
     * collection; a start the scheduler refuses (it was shut down meanwhile) cancels the chunk's rest, and
     * invokeAll rethrows it.
     */

    /** The value of {@link Config#maxConcurrency()} meaning no bound. */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    /**
     * What a task submission does when {@link Config#maxConcurrency()} tasks are already running.
     *
     * <pre>{@code
     * FiberExecutor limited = FiberExecutor.builder().maxConcurrency(4).whenSaturated(Saturation.QUEUE).build();
     * }</pre>
     */
    public enum Saturation {
        /** The submitter blocks until a task finishes (cheap on a fiber); interrupting it rejects the task. */
        WAIT,
        /** The submission throws {@link RejectedExecutionException}. */
        REJECT,
        /** The task joins a FIFO queue and starts when a running task finishes. */
        QUEUE
    }

    /**
     * The immutable configuration of a {@link FiberExecutor}; build it with {@link FiberExecutor#builder()}.
     *
     * <pre>{@code
     * FiberExecutor.Config config = FiberExecutor.builder().name("api").maxConcurrency(100).build().config();
     * }</pre>
     *
     * @param name                     prefix of the fibers' names ({@code <name>-<n>}); non-blank
     * @param sharedScheduler          the scheduler to run on, which the executor never shuts down; or null
     *                                 for a scheduler of its own
     * @param ownSchedulerConfig       the configuration of the executor's own scheduler; ignored when
     *                                 {@code sharedScheduler} is set
     * @param maxConcurrency           the most tasks running at once, at least 1, or {@link #UNBOUNDED}
     * @param saturation               what a submission does when {@code maxConcurrency} tasks run
     * @param uncaughtExceptionHandler receives exceptions thrown by {@code execute}d tasks; null for the
     *                                 JDK's default (thread group, then the default handler)
     */
    public record Config(String name, FiberScheduler sharedScheduler, SchedulerConfig ownSchedulerConfig,
                         int maxConcurrency, Saturation saturation,
                         Thread.UncaughtExceptionHandler uncaughtExceptionHandler) {
        /** Validates every component. */
        public Config {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
            Objects.requireNonNull(ownSchedulerConfig, "ownSchedulerConfig");
            if (maxConcurrency < 1) throw new IllegalArgumentException("maxConcurrency must be at least 1: " + maxConcurrency);
            Objects.requireNonNull(saturation, "saturation");
        }

        /** Whether {@link #maxConcurrency()} bounds the running tasks. */
        public boolean isBounded() {
            return maxConcurrency != UNBOUNDED;
        }
    }

    /**
     * Builds a {@link FiberExecutor}; each setter validates its argument. Not thread-safe.
     *
     * <pre>{@code
     * FiberExecutor executor = FiberExecutor.builder().name("jobs").maxConcurrency(8).build();
     * }</pre>
     */
    public static final class Builder {
        private String name = "fiber-executor";
        private FiberScheduler scheduler;
        private SchedulerConfig schedulerConfig;
        private int maxConcurrency = UNBOUNDED;
        private Saturation saturation = Saturation.WAIT;
        private Thread.UncaughtExceptionHandler handler;

        private Builder() { }

        /** The executor's name, prefix of its fibers' names; non-blank. Default {@code fiber-executor}. */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
            this.name = name;
            return this;
        }

        /** Runs tasks on {@code scheduler}, which the executor never shuts down. */
        public Builder scheduler(FiberScheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * The configuration of the executor's own scheduler (default: {@link SchedulerConfig#defaults()}
         * named after the executor). Cannot be combined with {@link #scheduler(FiberScheduler)}.
         */
        public Builder ownScheduler(SchedulerConfig config) {
            this.schedulerConfig = Objects.requireNonNull(config, "config");
            return this;
        }

        /** At most {@code max} tasks run at once (at least 1); {@link #UNBOUNDED} (the default) for no bound. */
        public Builder maxConcurrency(int max) {
            if (max < 1) throw new IllegalArgumentException("maxConcurrency must be at least 1: " + max);
            this.maxConcurrency = max;
            return this;
        }

        /** What a submission does when the bound is reached (default {@link Saturation#WAIT}). */
        public Builder whenSaturated(Saturation saturation) {
            this.saturation = Objects.requireNonNull(saturation, "saturation");
            return this;
        }

        /** The handler for exceptions thrown by {@code execute}d tasks (default: the JDK's). */
        public Builder uncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler) {
            this.handler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Creates the executor, and its own scheduler unless one was given.
         *
         * @throws IllegalStateException if both a shared scheduler and an own-scheduler configuration were
         *                               set, or a shared scheduler is already shut down
         */
        public FiberExecutor build() {
            if (scheduler != null && schedulerConfig != null) {
                throw new IllegalStateException("set either scheduler(...) or ownScheduler(...), not both");
            }
            SchedulerConfig own = schedulerConfig != null ? schedulerConfig : SchedulerConfig.builder().name(name).build();
            return create(new Config(name, scheduler, own, maxConcurrency, saturation, handler));
        }
    }

    // Lifecycle states.
    //
    //   from       to          by                                   named CAS
    //   RUNNING    SHUTDOWN    shutdown(), shutdownNow(), close()    beginShutdown
    //   SHUTDOWN   TERMINATED  last job done, or shutdown with none  tryTerminate
    private static final int RUNNING = 0;
    private static final int SHUTDOWN = 1;
    private static final int TERMINATED = 2;
    private static final VarHandle STATE = VarHandles.field(MethodHandles.lookup(), FiberExecutor.class, "state", int.class);

    private final Config config;
    private final FiberScheduler scheduler;
    private final boolean ownsScheduler;
    private final ThreadFactory factory;          // named <name>-<n>, with the configured handler
    private final ThreadFactory fanOutFactory;    // invokeAll's starters: inherit nothing from the caller
    private final Set<Thread> fibers = ConcurrentHashMap.newKeySet(); // fibers of jobs not yet done
    private final java.util.concurrent.atomic.LongAdder completed = new java.util.concurrent.atomic.LongAdder(); // jobs finished
    private final Slots slots;                    // null when unbounded
    private final CountDownLatch terminated = new CountDownLatch(1);
    @SuppressWarnings("unused") private volatile int state;

    private FiberExecutor(Config config) {
        this.config = config;
        this.ownsScheduler = config.sharedScheduler() == null;
        this.scheduler = ownsScheduler ? FiberScheduler.create(config.ownSchedulerConfig()) : config.sharedScheduler();
        this.factory = scheduler.countingFailures(builderFor(scheduler, config).name(config.name() + "-", 0).factory());
        this.fanOutFactory = scheduler.ofVirtual().name(config.name() + "-fan-out")
                .inheritInheritableThreadLocals(false).factory();
        this.slots = config.isBounded() ? new Slots(config.maxConcurrency(), config.saturation()) : null;
    }

    private static Thread.Builder.OfVirtual builderFor(FiberScheduler scheduler, Config config) {
        Thread.Builder.OfVirtual b = scheduler.ofVirtual();
        if (config.uncaughtExceptionHandler() != null) b.uncaughtExceptionHandler(config.uncaughtExceptionHandler());
        return b;
    }

    /** An unbounded executor with its own scheduler ({@link SchedulerConfig#defaults()}). */
    public static FiberExecutor create() {
        return builder().build();
    }

    /**
     * An unbounded executor on a shared {@code scheduler}, which closing the executor leaves running.
     *
     * @throws IllegalStateException if the scheduler is shut down
     */
    public static FiberExecutor create(FiberScheduler scheduler) {
        Objects.requireNonNull(scheduler, "scheduler");
        return builder().scheduler(scheduler).build();
    }

    /**
     * An executor with the given configuration, e.g. another executor's {@link #config()}.
     *
     * @throws IllegalStateException if the configuration names a shared scheduler that is shut down
     */
    public static FiberExecutor create(Config config) {
        Objects.requireNonNull(config, "config");
        FiberScheduler shared = config.sharedScheduler();
        if (shared != null && shared.isShutdown()) {
            throw new IllegalStateException("scheduler '" + shared.name() + "' is shut down");
        }
        return new FiberExecutor(config);
    }

    /** A builder starting from the defaults: unbounded, own scheduler, JDK default handler. */
    public static Builder builder() {
        return new Builder();
    }

    /** This executor's configuration. */
    public Config config() {
        return config;
    }

    /** This executor's name. */
    public String name() {
        return config.name();
    }

    /** The scheduler the tasks run on (the executor's own, or the shared one). */
    public FiberScheduler scheduler() {
        return scheduler;
    }

    /**
     * A thread-safe factory of fibers of this executor's scheduler, named {@code <name>-<n>} and with its
     * uncaught-exception handler. Its fibers are not tasks of this executor.
     */
    public ThreadFactory threadFactory() {
        return factory;
    }

    /**
     * A fresh builder of fibers of this executor's scheduler, with its uncaught-exception handler and no
     * name. Its fibers are not tasks of this executor.
     */
    public Thread.Builder.OfVirtual ofVirtual() {
        return builderFor(scheduler, config);
    }

    /**
     * The number of tasks that have finished, normally or not (as
     * {@link java.util.concurrent.ThreadPoolExecutor#getCompletedTaskCount()} counts them). Racy.
     */
    public long completedTaskCount() {
        return completed.sum();
    }

    /** The number of tasks waiting for a slot under {@link Saturation#QUEUE}; 0 when unbounded. Racy. */
    public int queuedTaskCount() {
        return slots != null ? slots.queued() : 0;
    }

    /** The number of tasks running now, plus those queued under {@link Saturation#QUEUE}. Racy. */
    public int activeCount() {
        return fibers.size() + (slots != null ? slots.queued() : 0);
    }

    // ---- submission --------------------------------------------------------------------------------

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        admit(task);
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        TaskFuture<T> future = new TaskFuture<>(task);
        admit(future);
        return future;
    }

    @Override
    public Future<?> submit(Runnable task) {
        Objects.requireNonNull(task, "task");
        return submit(Executors.callable(task));
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        Objects.requireNonNull(task, "task");
        return submit(Executors.callable(task, result));
    }

    /** Accepts a job or throws RejectedExecutionException. */
    private void admit(Runnable job) {
        ensureRunning();
        if (slots == null) {
            start(job);
        } else if (slots.acquire(this, job)) {
            try {
                start(job);
            } catch (Throwable t) {
                releaseSlot();
                if ((int) STATE.getVolatile(this) == SHUTDOWN) tryTerminate();
                throw t;
            }
        } // else queued: a finishing job starts it
    }

    private void ensureRunning() {
        if ((int) STATE.getVolatile(this) != RUNNING) throw rejectShutdown();
    }

    private RejectedExecutionException rejectShutdown() {
        return new RejectedExecutionException("executor '" + name() + "' is shut down");
    }

    /** Starts a new job's fiber, refusing it if the executor is no longer running. */
    private void start(Runnable job) {
        startCreated(newFiber(job));
    }

    /** Starts a fiber made by {@link #newFiber}, refusing it if the executor is no longer running. */
    private void startCreated(Thread fiber) {
        fibers.add(fiber);                                        // Dekker: add, then read the state
        if ((int) STATE.getVolatile(this) != RUNNING) {
            fiberGone(fiber);
            throw rejectShutdown();
        }
        startOrWithdraw(fiber);
    }

    /**
     * Starts the fiber of a job accepted before a shutdown (a queued job handed a slot, or a fan-out chunk
     * the caller built while the executor was running): shutdown() lets accepted work run, so only a
     * scheduler that refuses it stops it. The caller's own fiber is in {@code fibers}, so termination waits.
     */
    private void startAccepted(Thread fiber) {
        fibers.add(fiber);
        startOrWithdraw(fiber);
    }

    private Thread newFiber(Runnable job) {
        return newFiber(factory, job);
    }

    private Thread newFiber(ThreadFactory from, Runnable job) {
        Thread fiber = from.newThread(new Worker(this, job));
        if (fiber == null) throw new RejectedExecutionException("executor '" + name() + "' could not create a fiber");
        return fiber;
    }

    private void startOrWithdraw(Thread fiber) {
        try {
            fiber.start();
        } catch (RejectedExecutionException e) {
            fiberGone(fiber);
            throw new RejectedExecutionException("executor '" + name() + "' cannot start a task: scheduler '"
                    + scheduler.name() + "' is shut down", e);
        } catch (Throwable t) {
            fiberGone(fiber);
            throw t;
        }
    }

    /** Runs a job on its fiber; the last thing the fiber does is report the job done. */
    private record Worker(FiberExecutor executor, Runnable job) implements Runnable {
        @Override
        public void run() {
            try {
                job.run();
            } finally {
                executor.jobDone(Thread.currentThread());
            }
        }
    }

    /** Called on a job's fiber when the job has finished, normally or not. */
    private void jobDone(Thread fiber) {
        completed.increment();
        if (slots != null) releaseSlot();               // may start a queued job before we leave `fibers`
        fiberGone(fiber);
    }

    private void fiberGone(Thread fiber) {
        fibers.remove(fiber);
        if ((int) STATE.getVolatile(this) == SHUTDOWN) tryTerminate();
    }

    /** Passes the slot to queued jobs until one starts, or frees it. */
    private void releaseSlot() {
        Runnable next;
        while ((next = slots.release()) != null) {
            try {
                startAccepted(newFiber(next));          // accepted earlier: it starts even after shutdown()
                return;
            } catch (RejectedExecutionException e) {
                failQueued(next, e);                    // the shared scheduler is gone; try the next one
            }
        }
    }

    /** A queued job that can never start: its future fails, or the handler hears of a plain task. */
    private void failQueued(Runnable job, RejectedExecutionException e) {
        if (job instanceof TaskFuture<?> f) {
            f.fail(e);
        } else {
            Thread.UncaughtExceptionHandler h = config.uncaughtExceptionHandler() != null
                    ? config.uncaughtExceptionHandler() : Thread.currentThread().getUncaughtExceptionHandler();
            try {
                h.uncaughtException(Thread.currentThread(), e);
            } catch (Throwable ignored) {
                // a failing handler must not stop the hand-off
            }
        }
    }

    // ---- lifecycle ---------------------------------------------------------------------------------

    @Override
    public void shutdown() {
        if (STATE.compareAndSet(this, RUNNING, SHUTDOWN)) {       // beginShutdown
            if (slots != null) slots.wakeWaiters();
            tryTerminate();
        }
    }

    /**
     * Shuts down, interrupts every running task and returns the tasks that never started: empty unless
     * tasks wait in a {@link Saturation#QUEUE} queue (a submitted task is returned as its {@link Future},
     * which is also a {@code Runnable}).
     */
    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        List<Runnable> never = slots != null ? slots.drain() : List.of();
        if (!isTerminated()) {
            for (Thread t : fibers) t.interrupt();
        }
        if ((int) STATE.getVolatile(this) == SHUTDOWN) tryTerminate();
        return never;
    }

    private void tryTerminate() {
        if (fibers.isEmpty() && (slots == null || slots.idle())
                && STATE.compareAndSet(this, SHUTDOWN, TERMINATED)) {  // tryTerminate
            terminated.countDown();
            if (ownsScheduler) scheduler.shutdown();
        }
    }

    @Override
    public boolean isShutdown() {
        return (int) STATE.getVolatile(this) >= SHUTDOWN;
    }

    @Override
    public boolean isTerminated() {
        return (int) STATE.getVolatile(this) == TERMINATED;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return isTerminated() || terminated.await(timeout, unit);
    }

    /**
     * Shuts down and waits for every task to finish. If interrupted while waiting, interrupts the running
     * tasks (once), keeps waiting, and returns with the interrupt status set. Idempotent. An executor
     * with its own scheduler also waits for the scheduler to terminate, which includes fibers made
     * through {@link #threadFactory()} or {@link #ofVirtual()}.
     */
    @Override
    public void close() {
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
                        scheduler.awaitTermination(java.time.Duration.ofDays(1));
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    // ---- bulk operations ---------------------------------------------------------------------------

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        Objects.requireNonNull(tasks, "tasks");
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        int waited = 0;
        try {
            FanOutFailure fanOut = submitAll(tasks, futures);
            for (int n = futures.size(); waited < n; waited++) {
                Future<T> f = futures.get(waited);
                if (!f.isDone()) {
                    try {
                        f.get();
                    } catch (ExecutionException | CancellationException ignored) {
                        // reported through the future
                    }
                }
            }
            if (fanOut != null) fanOut.rethrow(this);
            return futures;
        } finally {
            cancelFrom(futures, waited);
        }
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        Objects.requireNonNull(tasks, "tasks");
        Objects.requireNonNull(unit, "unit");
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        int waited = 0;
        try {
            FanOutFailure fanOut = submitAll(tasks, futures);
            for (int n = futures.size(); waited < n; waited++) {
                Future<T> f = futures.get(waited);
                if (!f.isDone()) {
                    try {
                        f.get(deadline - System.nanoTime(), NANOSECONDS);
                    } catch (TimeoutException e) {
                        return futures;                         // the rest is cancelled below
                    } catch (ExecutionException | CancellationException ignored) {
                        // reported through the future
                    }
                }
            }
            if (fanOut != null) fanOut.rethrow(this);
            return futures;
        } finally {
            cancelFrom(futures, waited);
        }
    }

    /**
     * Submits the tasks of invokeAll in order, adding each future to {@code futures} as it goes (so the
     * caller can cancel what was submitted when this throws). Returns where the fan-out records a refused
     * start, which the caller must rethrow once it has waited, or null without a fan-out.
     *
     * <p>From a thread outside the scheduler, a large unbounded batch is started by fibers: the caller
     * creates each chunk's fibers (so they inherit its thread-locals and context class loader, as with
     * {@code submit}) and one {@link FanOut} fiber per chunk starts them. A start made on a carrier goes
     * to its local queue and spreads by stealing; a start from outside crosses the injection queue and
     * may wake a carrier each time. The caller builds the next chunk meanwhile.
     */
    private <T> FanOutFailure submitAll(Collection<? extends Callable<T>> tasks, List<Future<T>> futures) {
        if (slots != null || tasks.size() < Tunables.FANOUT_MIN_TASKS || FiberScheduler.current().isPresent()) {
            for (Callable<T> t : tasks) futures.add(submit(t));
            return null;
        }
        FanOutFailure failure = new FanOutFailure();
        Iterator<? extends Callable<T>> it = tasks.iterator();
        while (it.hasNext()) {
            ensureRunning();
            Thread[] chunk = new Thread[Tunables.FANOUT_CHUNK];
            TaskFuture<?>[] chunkFutures = new TaskFuture<?>[Tunables.FANOUT_CHUNK];
            int n = 0;
            while (n < chunk.length && it.hasNext()) {
                TaskFuture<T> f = new TaskFuture<>(Objects.requireNonNull(it.next(), "task"));
                chunk[n] = newFiber(f);
                chunkFutures[n++] = f;
                futures.add(f);
            }
            startCreated(newFiber(fanOutFactory, new FanOut(this, chunk, chunkFutures, n, failure)));
        }
        return failure;
    }

    /**
     * A fiber that starts one chunk of invokeAll's fibers (see {@link #submitAll}). The chunk was accepted
     * while the executor ran, so its fibers start even if shutdown() came meanwhile. If the scheduler
     * refuses a start (it was shut down), the starter records the exception, which the invokeAll caller
     * rethrows, and cancels the chunk's futures that did not start, so nobody waits for them.
     */
    private static final class FanOut implements Runnable {
        private final FiberExecutor executor;
        private final Thread[] fibers;
        private final TaskFuture<?>[] futures;
        private final int count;
        private final FanOutFailure failure;           // shared by the chunks of one invokeAll

        FanOut(FiberExecutor executor, Thread[] fibers, TaskFuture<?>[] futures, int count, FanOutFailure failure) {
            this.executor = executor;
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
                    executor.startAccepted(fibers[i]);
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
        void rethrow(FiberExecutor executor) {
            Throwable e = first.get();
            if (e instanceof RuntimeException r) throw r;
            if (e instanceof Error r) throw r;
            if (e != null) throw new RejectedExecutionException("executor '" + executor.name() + "'", e);
        }
    }

    private static <T> void cancelFrom(List<Future<T>> futures, int from) {
        for (int i = from, n = futures.size(); i < n; i++) futures.get(i).cancel(true);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return invokeAny(tasks, false, 0);
        } catch (TimeoutException e) {
            throw new AssertionError("untimed invokeAny timed out", e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(unit, "unit");
        return invokeAny(tasks, true, unit.toNanos(timeout));
    }

    private <T> T invokeAny(Collection<? extends Callable<T>> tasks, boolean timed, long nanos)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(tasks, "tasks");
        int size = tasks.size();
        if (size == 0) throw new IllegalArgumentException("tasks is empty");
        long start = timed ? System.nanoTime() : 0;
        FirstResult<T> first = new FirstResult<>(Thread.currentThread());
        List<Future<?>> futures = new ArrayList<>(size);
        try {
            int count = 0;
            Iterator<? extends Callable<T>> it = tasks.iterator();
            while (count < size && it.hasNext()) {
                Callable<T> task = Objects.requireNonNull(it.next(), "tasks contains null");
                futures.add(submit(() -> {
                    try {
                        first.succeed(task.call());
                    } catch (Throwable e) {
                        first.fail(e);
                    }
                    return null;
                }));
                count++;
            }
            if (count == 0) throw new IllegalArgumentException("tasks is empty");
            if (Thread.interrupted()) throw new InterruptedException();
            Object r;
            while ((r = first.result) == null && first.failures < count) {
                if (timed) {
                    long left = nanos - (System.nanoTime() - start);
                    if (left <= 0) throw new TimeoutException("no task of invokeAny completed in time");
                    LockSupport.parkNanos(this, left);
                } else {
                    LockSupport.park(this);
                }
                if (Thread.interrupted()) throw new InterruptedException();
            }
            if (r == null) throw new ExecutionException(first.firstFailure);
            @SuppressWarnings("unchecked") T t = r == FirstResult.NULL ? null : (T) r;
            return t;
        } finally {
            for (Future<?> f : futures) f.cancel(true);
        }
    }

    /** invokeAny's rendezvous: the first result, or the failures counted before any result. */
    private static final class FirstResult<T> {
        static final Object NULL = new Object();
        private static final VarHandle RESULT = VarHandles.field(MethodHandles.lookup(), FirstResult.class, "result", Object.class);
        private static final VarHandle FAILURES = VarHandles.field(MethodHandles.lookup(), FirstResult.class, "failures", int.class);
        private static final VarHandle FIRST_FAILURE = VarHandles.field(MethodHandles.lookup(), FirstResult.class, "firstFailure", Throwable.class);
        private final Thread waiter;
        volatile Object result;        // set once; the waiter's volatile read pairs with this CAS
        volatile int failures;         // incremented after firstFailure is set
        volatile Throwable firstFailure;

        FirstResult(Thread waiter) { this.waiter = waiter; }

        void succeed(T value) {
            if (result == null && RESULT.compareAndSet(this, null, value == null ? NULL : value)) {
                LockSupport.unpark(waiter);
            }
        }

        void fail(Throwable e) {
            if (result != null) return;
            FIRST_FAILURE.compareAndSet(this, null, e);
            FAILURES.getAndAdd(this, 1);                 // after firstFailure: the waiter sees it set
            LockSupport.unpark(waiter);
        }
    }

    /**
     * A submitted task's future; cancel(true) interrupts its fiber. A platform thread that waits for it
     * first spin-waits briefly ({@link Tunables#GET_SPIN_NANOS}): a short task finishes within that time, and
     * then neither its fiber pays an unpark nor the waiter a park and wake-up (two system calls and a
     * context switch, more than the task itself costs). A fiber waiter parks at once: spinning would
     * hold its carrier.
     */
    private static final class TaskFuture<T> extends FutureTask<T> {
        TaskFuture(Callable<T> task) { super(task); }

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

    // ---- bounded concurrency -----------------------------------------------------------------------

    /**
     * Counts running jobs against the bound and holds the FIFO queue, all under one lock; the unbounded
     * executor has none. Slots are only ever released by a finishing job or a failed start.
     */
    private static final class Slots {
        private final int max;
        private final Saturation saturation;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition freed = lock.newCondition();
        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private volatile int running;              // slots held, written under lock; racy reads by idle()
        private volatile int queued;               // queue.size(), written under lock; racy reads

        Slots(int max, Saturation saturation) {
            this.max = max;
            this.saturation = saturation;
        }

        /** True if the caller got a slot and must start the job; false if the job was queued. */
        boolean acquire(FiberExecutor executor, Runnable job) {
            lock.lock();
            try {
                while (running >= max) {
                    switch (saturation) {
                        case REJECT -> throw new RejectedExecutionException("executor '" + executor.name()
                                + "' is running its maximum of " + max + " tasks");
                        case QUEUE -> {
                            executor.ensureRunning();
                            queue.addLast(job);
                            queued = queue.size();
                            return false;
                        }
                        case WAIT -> {
                            try {
                                freed.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new RejectedExecutionException("executor '" + executor.name()
                                        + "': interrupted while waiting for a free slot", e);
                            }
                            executor.ensureRunning();
                        }
                    }
                }
                executor.ensureRunning();
                running = running + 1;
                return true;
            } finally {
                lock.unlock();
            }
        }

        /** Frees the caller's slot, or hands it to the next queued job and returns that job. */
        Runnable release() {
            lock.lock();
            try {
                Runnable next = queue.pollFirst();
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

        List<Runnable> drain() {
            lock.lock();
            try {
                List<Runnable> all = new ArrayList<>(queue);
                queue.clear();
                queued = 0;
                return all;
            } finally {
                lock.unlock();
            }
        }

        void wakeWaiters() {
            lock.lock();
            try {
                freed.signalAll();
            } finally {
                lock.unlock();
            }
        }

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

    @Override
    public String toString() {
        return "FiberExecutor[" + name() + " on " + scheduler.name()
                + (isTerminated() ? ", terminated" : isShutdown() ? ", shutting down" : "")
                + ", active=" + activeCount() + "]";
    }
}
