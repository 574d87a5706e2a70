package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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
 *       a carrier that finds a fiber {@code TERMINATED} after running it counts a completion. Live fibers
 *       are started minus completed, summed over per-carrier counters and one adder for outside starts,
 *       so the hot path touches no shared counter.</li>
 *   <li><b>Shutdown.</b> {@link #shutdown} stops new fibers (their start throws
 *       {@link RejectedExecutionException}); fibers already started run to completion, including their
 *       resumptions. A start and the shutdown flag form a Dekker pair: a start counts itself, fences, and
 *       reads the flag; a carrier deciding to exit reads the flag, fences, and reads the counts. Either
 *       the start sees the flag and withdraws, or the carrier sees the start. When no fiber is live and
 *       every queue is empty, the carriers exit and the pool is terminated.</li>
 *   <li><b>Socket pollers.</b> The JDK starts its socket pollers lazily, as virtual threads that inherit
 *       the scheduler of the thread that triggers them. Before the first carrier starts, the pool
 *       initializes them from a fresh platform thread, so they always belong to the JDK's own
 *       scheduler, never to a Bobbin pool.</li>
 * </ul>
 */
final class CarrierPool implements Executor {
    private static final VarHandle SHUTDOWN;
    static {
        try {
            SHUTDOWN = MethodHandles.lookup().findVarHandle(CarrierPool.class, "shutdown", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final FiberScheduler owner;                  // the public facade; null in package tests
    private final String name;                   // scheduler name, used in thread names and messages
    final Carrier[] carriers;                    // fixed at construction
    final InjectionQueue inject = new InjectionQueue();
    final IdleCarriers idle;
    private final CarrierDriverFactory driverFactory;
    private final LongAdder outsideStarts = new LongAdder(); // fibers started from non-carrier threads
    private final LongAdder outsideSubmissions = new LongAdder(); // tasks pushed to the injection queue
    private final LongAdder carrierErrors = new LongAdder();
    @SuppressWarnings("unused") private volatile boolean shutdown; // set once by shutdown()
    private final CountDownLatch started;        // counts carriers that opened their driver
    private final CountDownLatch terminated;     // counts carriers that exited
    private volatile Throwable startFailure;     // first driver-open failure
    private final Thread.UncaughtExceptionHandler errorHandler;
    Telemetry telemetry;                         // replaced by FiberScheduler before start(); see Telemetry

    CarrierPool(FiberScheduler owner, String name, int parallelism, CarrierDriverFactory driverFactory,
                Thread.UncaughtExceptionHandler errorHandler) {
        JdkVirtualThreads.check();
        this.owner = owner;
        SocketPollers.initializeOutsideBobbin();
        this.name = name;
        this.driverFactory = driverFactory;
        this.errorHandler = errorHandler;
        this.idle = new IdleCarriers(parallelism);
        this.carriers = new Carrier[parallelism];
        for (int i = 0; i < parallelism; i++) carriers[i] = new Carrier(this, i);
        this.started = new CountDownLatch(parallelism);
        this.terminated = new CountDownLatch(parallelism);
        this.telemetry = Telemetry.minimal(parallelism);
    }

    /** Starts the carriers and waits until every driver is open; throws if one failed. */
    void start() {
        for (Carrier c : carriers) c.start();
        boolean interrupted = false;
        for (;;) {
            try {
                started.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable failure = startFailure;
        if (failure != null) {
            shutdown();
            throw new IllegalStateException("scheduler '" + name + "' failed to start a carrier driver: " + failure,
                    failure);
        }
    }

    String name() { return name; }

    int parallelism() { return carriers.length; }

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
        if (isStart) countStartOrReject(here);
        telemetry.submitted(fiber, here, isStart);
        if (here != null) {
            here.scheduleLocal(task, Thread.currentThread() != here);
        } else {
            outsideSubmissions.increment();
            inject.push(task);
            idle.notifyOne();
        }
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

    // ---- lifecycle ---------------------------------------------------------------------------------

    void shutdown() {
        if (SHUTDOWN.compareAndSet(this, false, true)) {
            idle.wakeAll();                           // parked carriers re-check the exit condition
        }
    }

    boolean isShutdown() { return (boolean) SHUTDOWN.getVolatile(this); }

    boolean isTerminated() { return terminated.getCount() == 0; }

    boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    /** True when a carrier may exit: shut down, no live fiber, nothing queued anywhere. */
    boolean readyToExit() {
        if (!(boolean) SHUTDOWN.getVolatile(this)) return false;
        VarHandle.fullFence();                       // Dekker: read the flag, then the counts
        return liveFibers() == 0 && !hasVisibleWork();
    }

    void fiberTerminated() {
        if ((boolean) SHUTDOWN.getVolatile(this) && liveFibers() == 0) wakeAllForExit();
    }

    void wakeAllForExit() {
        idle.wakeAll();
    }

    /** Whether any queue or next slot holds a task. Racy; used by the wake protocol's re-check. */
    boolean hasVisibleWork() {
        if (!inject.isEmpty()) return true;
        for (Carrier c : carriers) {
            if (!c.queue.isEmpty()) return true;
        }
        return false;
    }

    long liveFibers() {
        long started = outsideStarts.sum(), completed = 0;
        for (Carrier c : carriers) {
            started += c.counters.get(CarrierCounters.FIBERS_STARTED);
            completed += c.counters.get(CarrierCounters.FIBERS_COMPLETED);
        }
        return started - completed;
    }

    long outsideStarts() { return outsideStarts.sum(); }

    long outsideSubmissions() { return outsideSubmissions.sum(); }

    long carrierErrors() { return carrierErrors.sum(); }

    // ---- carrier callbacks -------------------------------------------------------------------------

    CarrierDriver openDriver(Carrier carrier) {
        CarrierDriver d = driverFactory.open(carrier);
        if (d == null) throw new NullPointerException("CarrierDriverFactory.open returned null");
        telemetry.driverOpened(carrier, d);
        return d;
    }

    void carrierStarted(Carrier c) {
        started.countDown();
    }

    void carrierFailedToStart(Carrier c, Throwable t) {
        if (startFailure == null) startFailure = t;
        started.countDown();
        telemetry.carrierExiting();
        terminated.countDown();
    }

    void carrierExited(Carrier c) {
        c.counters.set(CarrierCounters.STOPPED_AT, System.nanoTime());
        telemetry.carrierExiting();
        terminated.countDown();
    }

    void reportCarrierError(Carrier c, Throwable t) {
        carrierErrors.increment();
        try {
            errorHandler.uncaughtException(c, t);
        } catch (Throwable ignored) {
            // an error handler that throws must not kill the carrier
        }
    }
}
