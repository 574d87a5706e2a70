package dev.bobbin;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
 * {@link #builder()} configures a name (fibers are then named {@code <name>-<n>}), a shared scheduler or the
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
 * An executor made without a name ({@link #create()}, {@link #create(FiberScheduler)}, a builder whose
 * {@link Builder#name} was not called) leaves its fibers unnamed, as the JDK's
 * {@code newVirtualThreadPerTaskExecutor()} does: a name is a string built per task, about a tenth of
 * the CPU of an {@code invokeAll} of tiny tasks. {@link Builder#namesFibers} decides it either way.
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
     * This class is the public face: configuration, the views, argument checks, and one call per
     * ExecutorService method into the package-private pieces below, one per responsibility.
     *
     *   ExecutorState  lifecycle: the RUNNING -> SHUTDOWN -> TERMINATED state machine, the set of fibers
     *                  of unfinished jobs (what shutdownNow interrupts and termination waits for),
     *                  termination, awaitTermination and close; it also says why that set is kept beside
     *                  the scheduler's live-fiber registry.
     *   Admission      a task's way in and out: admission (at once, or through Slots when bounded), fiber
     *                  creation, start or withdrawal under the Dekker pair with shutdown, and the job's end
     *                  (count it, hand its slot to a queued job, leave the set).
     *   Slots          bounded concurrency: running jobs counted against maxConcurrency under one lock,
     *                  the Saturation policies and the QUEUE queue. Absent when unbounded.
     *   TaskFuture     the future of submit, invokeAll and invokeAny; a platform-thread get spins briefly.
     *   InvokeAll      invokeAll, with the chunked fan-out of large batches from outside the scheduler.
     *   InvokeAny      invokeAny and its first-result rendezvous.
     *
     * Every call goes one way: FiberExecutor -> InvokeAll/InvokeAny -> Admission -> Slots/ExecutorState;
     * ExecutorState reaches Slots only to drain it, wake its waiters and ask whether it is idle, and Slots
     * reaches ExecutorState (passed in) only to check that it still runs. Each class opens with its own
     * design notes.
     *
     * Own scheduler. An executor without a shared scheduler shuts its own down when it terminates, and
     * close() also waits for the carriers to stop (ExecutorState).
     */

    /** The value of {@link Config#maxConcurrency()} meaning no bound. */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    /**
     * What a task submission does when {@link Config#maxConcurrency()} tasks are already running.
     * As with a fixed thread pool, a task that waits for tasks of its own bounded executor (an
     * {@code invokeAll} from inside one of its tasks, say) can wait forever once every slot is held by
     * such waiters: give nested work an executor of its own.
     *
     * <pre>{@code
     * FiberExecutor limited = FiberExecutor.builder().maxConcurrency(4).whenSaturated(Saturation.QUEUE).build();
     * }</pre>
     */
    public enum Saturation {
        /**
         * The submitter blocks until a task finishes (cheap on a fiber); interrupting it rejects the task
         * ({@code invokeAll} and {@code invokeAny} throw InterruptedException instead, and their timed
         * forms stop waiting for a slot at their timeout).
         */
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
     * @param name                     the executor's name, and the prefix of its fibers' names
     *                                 ({@code <name>-<n>}) when {@code namesFibers}; non-blank
     * @param sharedScheduler          the scheduler to run on, which the executor never shuts down; or null
     *                                 for a scheduler of its own
     * @param ownSchedulerConfig       the configuration of the executor's own scheduler, non-null (the
     *                                 builder's default: {@link SchedulerConfig#defaults()} named
     *                                 {@code <name>-scheduler}); not used when {@code sharedScheduler} is set
     * @param maxConcurrency           the most tasks running at once, at least 1, or {@link #UNBOUNDED}
     * @param saturation               what a submission does when {@code maxConcurrency} tasks run
     * @param uncaughtExceptionHandler receives exceptions thrown by {@code execute}d tasks; null for the
     *                                 JDK's default (thread group, then the default handler)
     * @param namesFibers              whether each fiber is named {@code <name>-<n>}; unnamed otherwise
     */
    public record Config(String name, FiberScheduler sharedScheduler, SchedulerConfig ownSchedulerConfig,
                         int maxConcurrency, Saturation saturation,
                         Thread.UncaughtExceptionHandler uncaughtExceptionHandler, boolean namesFibers) {
        /** Validates every component. */
        public Config {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
            Objects.requireNonNull(ownSchedulerConfig, "ownSchedulerConfig");
            if (maxConcurrency < 1) throw new IllegalArgumentException("maxConcurrency must be at least 1: " + maxConcurrency);
            Objects.requireNonNull(saturation, "saturation");
        }

        /** A configuration whose fibers are named {@code <name>-<n>}. */
        public Config(String name, FiberScheduler sharedScheduler, SchedulerConfig ownSchedulerConfig,
                      int maxConcurrency, Saturation saturation, Thread.UncaughtExceptionHandler uncaughtExceptionHandler) {
            this(name, sharedScheduler, ownSchedulerConfig, maxConcurrency, saturation, uncaughtExceptionHandler, true);
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
        private boolean nameSet;                  // name(...) was called
        private Boolean namesFibers;              // null: named exactly when name(...) was called

        private Builder() { }

        /**
         * The executor's name, non-blank (default {@code fiber-executor}), and unless
         * {@link #namesFibers namesFibers(false)} the prefix of its fibers' names, {@code <name>-<n>}.
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
            this.name = name;
            this.nameSet = true;
            return this;
        }

        /**
         * Whether each fiber is named {@code <name>-<n>} (thread dumps and logs show it) or left unnamed
         * (one string fewer per task). Default: named exactly when {@link #name} was set.
         */
        public Builder namesFibers(boolean names) {
            this.namesFibers = names;
            return this;
        }

        /** Runs tasks on {@code scheduler}, which the executor never shuts down. */
        public Builder scheduler(FiberScheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * The configuration of the executor's own scheduler (default: {@link SchedulerConfig#defaults()}
         * named {@code <executor name>-scheduler}: a name of its own, since monitoring tells executors and
         * schedulers apart by name). Cannot be combined with {@link #scheduler(FiberScheduler)}.
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
            SchedulerConfig own = schedulerConfig != null ? schedulerConfig
                    : scheduler != null ? SharedDefaults.OWN.toBuilder().name(ownSchedulerName(name)).build()
                    : SchedulerConfig.builder().name(ownSchedulerName(name)).build();
            boolean names = namesFibers != null ? namesFibers : nameSet;
            return create(new Config(name, scheduler, own, maxConcurrency, saturation, handler, names));
        }

        /** The default name of an executor's own scheduler. */
        private static String ownSchedulerName(String executorName) {
            return executorName + "-scheduler";
        }
    }

    /**
     * The own-scheduler configuration an executor on a shared scheduler carries (and never uses): the
     * defaults, read once. Building them afresh reads the CPU count, about a microsecond in a container
     * (the JVM reads the cgroup files), which was most of the cost of creating such an executor.
     */
    private static final class SharedDefaults {
        static final SchedulerConfig OWN = SchedulerConfig.defaults();
    }


    private final Config config;
    private final FiberScheduler scheduler;
    private final ThreadFactory factory;          // named <name>-<n> (or unnamed), with the configured handler
    private final ExecutorState lifecycle;        // state, live fibers, termination
    private final Admission admission;            // starts tasks' fibers, bounded or not

    private FiberExecutor(Config config) {
        this.config = config;
        boolean ownsScheduler = config.sharedScheduler() == null;
        this.scheduler = ownsScheduler ? FiberScheduler.create(config.ownSchedulerConfig()) : config.sharedScheduler();
        ThreadFactory fibers = builderFor(scheduler, config).factory();
        this.factory = scheduler.countingFailures(config.namesFibers() ? new NamedFibers(fibers, config.name() + "-") : fibers);
        Slots slots = config.isBounded() ? new Slots(config.maxConcurrency(), config.saturation()) : null;
        this.lifecycle = new ExecutorState(config.name(), scheduler, ownsScheduler, slots);
        this.admission = new Admission(lifecycle, slots, factory, scheduler, config.uncaughtExceptionHandler());
    }

    private static Thread.Builder.OfVirtual builderFor(FiberScheduler scheduler, Config config) {
        Thread.Builder.OfVirtual b = scheduler.ofVirtual();
        if (config.uncaughtExceptionHandler() != null) b.uncaughtExceptionHandler(config.uncaughtExceptionHandler());
        return b;
    }

    /** An unbounded executor with its own scheduler ({@link SchedulerConfig#defaults()}, named {@code fiber-executor-scheduler}). */
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
     * A thread-safe factory of fibers of this executor's scheduler, named as this executor's fibers are
     * ({@code <name>-<n>}, or unnamed) and with its uncaught-exception handler. Its fibers are not tasks
     * of this executor.
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
     * {@link java.util.concurrent.ThreadPoolExecutor#getCompletedTaskCount()} counts them). A task counts
     * once its fiber has exited, just after its future completed: a caller that has just seen the future
     * complete may still read the previous count. Racy, but never less than an earlier answer; the fibers
     * a large {@code invokeAll} uses to start its tasks are not tasks and do not count.
     */
    public long completedTaskCount() {
        return lifecycle.completed();
    }

    /** The number of tasks waiting for a slot under {@link Saturation#QUEUE}; 0 when unbounded. Racy. */
    public int queuedTaskCount() {
        return admission.queued();
    }

    /**
     * The number of tasks running now (each counts until its fiber has exited, just after the task
     * returns), plus those queued under {@link Saturation#QUEUE}; while a large {@code invokeAll} from
     * outside the scheduler hands its tasks over, also the fibers that start them. Racy.
     */
    public int activeCount() {
        return lifecycle.liveCount() + admission.queued();
    }

    // ---- submission --------------------------------------------------------------------------------

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        admission.admit(task);
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        return admission.submit(task);
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

    // ---- lifecycle ---------------------------------------------------------------------------------

    @Override
    public void shutdown() {
        lifecycle.shutdown();
    }

    /**
     * Shuts down, interrupts every running task and returns the tasks that never started: empty unless
     * tasks wait in a {@link Saturation#QUEUE} queue (a submitted task is returned as its {@link Future},
     * which is also a {@code Runnable}). Queued tasks of {@code invokeAll} and {@code invokeAny} are in the
     * list too, cancelled already, since their caller waits for them; {@link #close()} interrupted while it
     * waits cancels every queued future and drops queued {@code execute} tasks, since nobody gets the list
     * (as {@code ExecutorService.close()} of a {@code ThreadPoolExecutor} drops its queue).
     */
    @Override
    public List<Runnable> shutdownNow() {
        return lifecycle.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
        return lifecycle.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return lifecycle.isTerminated();
    }

    /**
     * Runs {@code action} once the executor is terminated: on the thread that ends its last task, before
     * {@code awaitTermination} and {@code close()} return, or at once on the caller if it already is.
     * Monitoring uses it to unregister itself. Exceptions it throws are ignored.
     */
    public void onTermination(Runnable action) {
        Objects.requireNonNull(action, "action");
        lifecycle.termination.whenComplete((v, e) -> {
            try {
                action.run();
            } catch (Throwable ignored) {
                // a faulty action must not disturb the finishing task or the other actions
            }
        });
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return lifecycle.awaitTermination(timeout, unit);
    }

    /**
     * Shuts down and waits for every task to finish. If interrupted while waiting, interrupts the running
     * tasks (once), keeps waiting, and returns with the interrupt status set. Idempotent. An executor
     * with its own scheduler also waits for the scheduler to terminate, which includes fibers made
     * through {@link #threadFactory()} or {@link #ofVirtual()} and virtual threads its tasks started
     * ({@code Thread.ofVirtual()}, {@code Thread.startVirtualThread}: a virtual thread starts on its
     * parent's scheduler), and afterwards refuses new ones; if interrupted, it interrupts those too
     * ({@link FiberScheduler#shutdownNow()}). The JDK's executors wait for their tasks only, their tasks'
     * virtual threads running on the JDK's scheduler; for work that outlives the executor, give it a
     * shared scheduler ({@link Builder#scheduler}). Called from one of this executor's own tasks, it would wait
     * for that task: it throws {@link IllegalStateException} instead and changes nothing (the JDK's
     * executors wait for ever); such a task may call {@link #shutdown()}.
     *
     * @throws IllegalStateException if called from one of this executor's tasks before it terminated
     */
    @Override
    public void close() {
        lifecycle.close();
    }

    // ---- bulk operations ---------------------------------------------------------------------------

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        Objects.requireNonNull(tasks, "tasks");
        return InvokeAll.invokeAll(admission, tasks, false, 0);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        Objects.requireNonNull(tasks, "tasks");
        Objects.requireNonNull(unit, "unit");
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        return InvokeAll.invokeAll(admission, tasks, true, deadline);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return InvokeAny.invokeAny(admission, this, tasks, false, 0);
        } catch (TimeoutException e) {
            throw new AssertionError("untimed invokeAny timed out", e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(unit, "unit");
        return InvokeAny.invokeAny(admission, this, tasks, true, unit.toNanos(timeout));
    }

    @Override
    public String toString() {
        return "FiberExecutor[" + name() + " on " + scheduler.name()
                + (isTerminated() ? ", terminated" : isShutdown() ? ", shutting down" : "")
                + ", active=" + activeCount() + "]";
    }
}
