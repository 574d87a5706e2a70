package dev.bobbin.scheduler;

import dev.bobbin.scheduler.queue.InjectionQueue;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * Fibers of a pool that must outlive it: the JDK's socket sub-pollers when the pool hosts them
 * ({@link SocketPollers}). They serve every virtual thread of the JVM that blocks in a JDK socket, so they
 * run for as long as the JVM does, while the pool that started them may shut down long before.
 *
 * <p>Implementation overview. The pool recognizes them when they start (their creator is the pool's
 * poller-initializing fiber) and records them here; it neither counts them as live fibers nor lists them
 * in its registry, so they never hold up its termination and {@code shutdownNow} never interrupts them.
 * While the pool runs, their tasks are scheduled like any fiber's, except when every carrier in service is
 * stalled (spares included): the stall monitor then moves their tasks from the injection queue to the
 * runner below ({@link #rescue}), since the JVM's socket wake-ups, other schedulers' and the JDK's own
 * virtual threads' included, must not wait for this pool's computations. Once it is shut down and none of its
 * own fibers is left, its carriers exit even while these still have tasks (a busy poller yields and
 * polls again for as long as events come; see {@code CarrierPool.onlyOutlivingLeft}), and from the first
 * exit ({@link #poolGone}) their tasks go to a runner thread of their own: a daemon platform thread,
 * started at the first such task, that mounts each continuation in turn for the rest of the JVM's life.
 * A carrier that dies of an error hands nothing over (the pool is not done).
 *
 * <p>Hand-over protocol. A carrier that exits first sets {@code poolGone} (volatile), fences, then moves
 * whatever the injection queue holds to the runner; a submitter of an outliving fiber's task pushes it,
 * fences, then reads {@code poolGone} and, if set, moves the injection queue's contents itself (a Dekker
 * pair: either the exiting carrier sees the task or the submitter sees the flag; moving twice is harmless,
 * each task is taken once). The stall monitor, which moves queued tasks of a stalled carrier to the
 * injection queue, does the submitter's part too. An exiting carrier hands over its own queues (next slot,
 * ring, inbox); a carrier pushes only to its own, so once every carrier has exited the injection queue is
 * the only place a task could be left behind. Set once, the flag never clears.
 */
final class OutlivingFibers {
    private static final System.Logger LOG = System.getLogger("dev.bobbin");

    private final String poolName;
    private final Consumer<Runnable> sink;              // where handed-over tasks go: the runner, or a test's
    private volatile Thread[] fibers = new Thread[0];   // copy on write; a handful at most
    private volatile boolean poolGone;                  // carriers are exiting: tasks go to the runner
    private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private Thread runner;                              // guarded by this; started at the first handed-over task
    private boolean failureLogged;                      // guarded by tasks' runner: one warning per pool

    OutlivingFibers(String poolName) {
        this.poolName = poolName;
        this.sink = this::runLater;
    }

    /** For protocol tests: handed-over tasks go to {@code sink} instead of a runner thread. */
    OutlivingFibers(String poolName, Consumer<Runnable> sink) {
        this.poolName = poolName;
        this.sink = sink;
    }

    /** Whether {@code fiber} is one of them. Any thread. */
    boolean contains(Thread fiber) {
        Thread[] fs = fibers;                           // volatile read
        for (Thread f : fs) {
            if (f == fiber) return true;
        }
        return false;
    }

    /** Records a starting outliving fiber. Any thread. */
    synchronized void add(Thread fiber) {
        Thread[] fs = Arrays.copyOf(fibers, fibers.length + 1);
        fs[fs.length - 1] = fiber;
        fibers = fs;                                    // volatile write publishes the array
    }

    boolean any() { return fibers.length > 0; }

    int count() { return fibers.length; }

    boolean poolGone() { return poolGone; }

    /**
     * Submitter side of the hand-over, after it pushed an outliving fiber's task to {@code inject}: if the
     * pool's carriers have begun to exit, moves what {@code inject} holds to the runner. Any thread.
     */
    void afterInjected(InjectionQueue inject) {
        VarHandle.fullFence();                          // Dekker with poolExiting: publish, then read the flag
        if (poolGone) drain(inject);
    }

    /** Exiting-carrier side: from now on tasks go to the runner; moves what {@code inject} holds there. */
    void poolExiting(InjectionQueue inject) {
        poolGone = true;                                // volatile write
        VarHandle.fullFence();                          // Dekker with afterInjected: set the flag, then drain
        drain(inject);
    }

    /**
     * Monitor, while every carrier in service is stalled: moves these fibers' tasks out of {@code inject}
     * to the runner, started if need be. Returns how many. Each task is taken once, so it runs once.
     */
    int rescue(InjectionQueue inject) {
        if (!any()) return 0;
        List<Runnable> taken = inject.takeMatching(t -> contains(JdkVirtualThreads.fiberOf(t)));
        for (Runnable t : taken) handOver(t);
        return taken.size();
    }

    private void drain(InjectionQueue inject) {
        for (Runnable t; (t = inject.poll()) != null; ) handOver(t);
    }

    /** Runs {@code task} (an outliving fiber's continuation) on the runner thread. Any thread. */
    void handOver(Runnable task) {
        sink.accept(task);
    }

    private void runLater(Runnable task) {
        tasks.add(task);
        synchronized (this) {
            if (runner == null) {
                runner = Thread.ofPlatform().daemon().name("bobbin-jdk-pollers-" + poolName)
                        .inheritInheritableThreadLocals(false).start(this::run);
            }
        }
    }

    private void run() {
        for (;;) {
            Runnable task;
            try {
                task = tasks.take();
            } catch (InterruptedException e) {
                continue;                               // nobody may stop the JVM's pollers
            }
            try {
                task.run();
            } catch (Throwable t) {
                if (!failureLogged) {
                    failureLogged = true;
                    LOG.log(System.Logger.Level.WARNING, "a JDK socket poller hosted by scheduler '" + poolName
                            + "' failed: " + t);
                }
                LOG.log(System.Logger.Level.DEBUG, "JDK socket poller failure", t);
            }
        }
    }
}
