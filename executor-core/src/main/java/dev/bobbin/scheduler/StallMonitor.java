package dev.bobbin.scheduler;

import dev.bobbin.base.LogGate;
import dev.bobbin.scheduler.EngineConfig.TaskModel;
import dev.bobbin.scheduler.queue.RunQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The watchdog of one {@link CarrierPool}: notices carriers stalled by a fiber that does not yield, after
 * Go's {@code sysmon}.
 *
 * <p>Implementation overview. A daemon platform thread samples every carrier's {@code runCount} and
 * {@code currentFiber} (both opaque, written by the carrier per task) every few milliseconds. A carrier
 * whose run count has not moved while a fiber is mounted has run that one fiber since the previous
 * sample. The monitor adds up such time per carrier, crediting each sampling interval with at most two
 * nominal intervals, so a GC pause that also stopped the monitor does not look like a stall.
 * <ul>
 *   <li>After {@link Tunables#TIME_SLICE_NANOS} the carrier is asked to preempt: the fiber's next
 *       {@code FiberScheduler.checkpoint()} yields (cooperative preemption; the JDK has no forced one).
 *       Under WORK_STEALING with stall protection on, its driver is also told, every sample from then on,
 *       that nobody attends to it ({@link dev.bobbin.spi.CarrierDriver#carrierStalled()}): an I/O driver
 *       lets another thread serve the carrier's sockets until the carrier comes back to it, so a fiber
 *       that does not yield does not freeze the I/O of the fibers whose sockets live on its carrier; and
 *       if fibers wait in the carrier's queue, a parked carrier is woken to steal them (fibers its driver
 *       resumed there woke nobody, see {@code Carrier.scheduleLocal}).</li>
 *   <li>After the stall threshold the carrier is stalled: in a CPU loop, or in a pinning or blocking call
 *       (file I/O, native code, class initialisation), which the JDK compensates for only on its own
 *       ForkJoinPool. The monitor captures the fiber's stack at detection and keeps the stall only if
 *       the same task is still mounted afterwards (a fiber that parked meanwhile was not stalled). The
 *       stall is reported once: the stall counter, the {@code dev.bobbin.CarrierStall} JFR event and a
 *       DEBUG log line with the stack. Under WORK_STEALING the monitor
 *       then moves the carrier's queued unbound fibers (ring and next slot) to the injection queue and
 *       wakes a carrier; if every carrier in service is stalled and work is waiting, it starts one spare
 *       carrier per sample, up to the configured maximum. Spares retire by themselves when out of work.
 *       Under THREAD_PER_CORE only fibers dealt to the carrier that have not run yet are dealt again (a
 *       fiber never moves once started). SINGLE_THREAD only reports: it must not run two fibers at once.</li>
 * </ul>
 * A WARNING is logged only for harm a user should hear about: a stall that lasted
 * {@link Tunables#STALL_WARNING_NANOS} while runnable work waited behind it (fibers handed off or still
 * queued on the carrier). It is one line; the stack goes to DEBUG. At most one WARNING per
 * {@link Tunables#STALL_WARNING_INTERVAL_NANOS} per scheduler; the next one says how many were suppressed.
 * Start-up stalls (class initialisation, JIT warm-up) are shorter and stay at DEBUG, so a clean run prints
 * nothing.
 *
 * <p>Reports (logging, JFR) run on a separate reporter thread, started at the first stall:
 * the first report of a JVM initialises logging and JFR, which can take long enough to delay the
 * protective actions of the next samples.
 *
 * <p>The monitor is also the scheduler's clock for one housekeeping task: every
 * {@link Tunables#REGISTRY_TRIM_INTERVAL_NANOS} it lets the live-fiber registry give back tables a load
 * that stopped left large ({@link FiberRegistry#trimIdle}; never blocking on a stripe).
 *
 * <p>The monitor reads carrier state racily; a wrong guess costs one needless hand-off or spare, never a
 * lost task (it only moves tasks with the queues' thief operations, which hand each task out once).
 */
public final class StallMonitor implements Runnable {
    private static final System.Logger LOG = System.getLogger("dev.bobbin");

    private final CarrierPool pool;
    private final long thresholdNanos;          // 0: stall protection off (preemption requests still made)
    private final long intervalNanos;           // sampling period
    private final long[] lastRunCount;          // monitor thread only, by carrier index
    private final long[] stalledNanos;          // monitor thread only: credited time on the same task
    private final boolean[] reported;           // monitor thread only: this stall was reported
    private final boolean[] warned;             // monitor thread only: this stall's WARNING was queued
    private final int[] waitedBehind;           // monitor thread only: runnable tasks seen behind this stall
    private final int[] boundBehind;            // monitor thread only: WORK_STEALING: of those, bound to the carrier (they cannot move)
    private final StackTraceElement[][] stacks; // monitor thread only: stack captured at detection
    private final Thread[] stalledFibers;       // monitor thread only: the fiber stalling each carrier this sample
    private final String[] held;                // monitor thread only: what the driver says the stall holds up
    private final LogGate warnings = new LogGate(Tunables.STALL_WARNING_INTERVAL_NANOS);  // monitor thread only
    private final RunQueue staging = new RunQueue(Tunables.LOCAL_QUEUE_CAPACITY); // monitor's thief buffer
    private final int[] stolenCount = new int[1];
    @SuppressWarnings("unused") private volatile long stalls;       // monitor writes (opaque), anyone reads
    @SuppressWarnings("unused") private volatile long sparesStarted; // monitor writes, anyone reads
    private volatile long ringsOpened;          // monitor writes (single writer), anyone reads: samples that opened a ring (ringsOpened())
    private volatile long pollerRescues;        // hosted JDK sub-poller tasks run off the pool; monitor writes
    private volatile int stalledCarriers;       // carriers stalled at the last sample; monitor writes
    private final LinkedBlockingQueue<Pending> reports = new LinkedBlockingQueue<>(); // monitor -> reporter
    private Thread reporter;                    // monitor thread only: started at the first stall
    @SuppressWarnings("unused") private volatile long reportsDone; // reporter writes, anyone reads
    private volatile long warningsQueued;       // monitor writes, anyone reads
    private volatile long warningsDone;         // reporter writes, anyone reads

    /** Whether stall protection is on (a threshold above 0): queued work moves off stalled carriers. */
    boolean protects() { return thresholdNanos > 0; }

    StallMonitor(CarrierPool pool, long thresholdNanos) {
        this.pool = pool;
        this.thresholdNanos = thresholdNanos;
        long interval = thresholdNanos > 0 ? thresholdNanos / Tunables.MONITOR_SAMPLES_PER_THRESHOLD
                : Tunables.MONITOR_MAX_INTERVAL_NANOS;
        this.intervalNanos = Math.clamp(interval, Tunables.MONITOR_MIN_INTERVAL_NANOS, Tunables.MONITOR_MAX_INTERVAL_NANOS);
        int n = pool.carriers.length;
        this.lastRunCount = new long[n];
        this.stalledNanos = new long[n];
        this.reported = new boolean[n];
        this.warned = new boolean[n];
        this.waitedBehind = new int[n];
        this.boundBehind = new int[n];
        this.stacks = new StackTraceElement[n][];
        this.stalledFibers = new Thread[n];
        this.held = new String[n];
    }

    void start() {
        Thread.ofPlatform().daemon().name(pool.name() + "-monitor").inheritInheritableThreadLocals(false).start(this);
    }

    /** Stalls reported so far. Any thread. */
    public long stalls() { return stalls; }

    /** Samples that found a carrier running one fiber for a time slice or more, each opening its ring to thieves. Any thread. */
    long ringsOpened() { return ringsOpened; }

    /** Stall reports logged and committed so far (they trail {@link #stalls()}). Any thread. */
    public long reportsDone() { return reportsDone; }

    /** Stall WARNINGs queued for logging so far (rate-limited ones are not queued). Any thread. */
    public long warningsQueued() { return warningsQueued; }

    /** Stall WARNINGs handed to the logger so far (they trail {@link #warningsQueued()}). Any thread. */
    public long warningsDone() { return warningsDone; }

    /** Carriers found stalled at the last sample. Any thread. */
    int stalledCarriers() { return stalledCarriers; }

    /** Spare carrier activations so far. Any thread. */
    public long sparesStarted() { return sparesStarted; }
    /** Tasks of hosted JDK sub-pollers run off the pool while every carrier was stalled ({@code OutlivingFibers.rescue}). */
    public long pollerRescues() { return pollerRescues; }

    /**
     * The monitor's part of a stats snapshot: stalls reported, spares in service now, spare activations.
     * Any thread; racy.
     */
    EngineStats.Stalls stats() {
        int activeSpares = 0;
        for (Carrier c : pool.carriers) if (c.isActiveSpare()) activeSpares++;
        return new EngineStats.Stalls(stalls(), activeSpares, sparesStarted());
    }

    @Override
    public void run() {
        long last = System.nanoTime(), lastTrim = last;
        while (!pool.isTerminated()) {
            LockSupport.parkNanos(this, intervalNanos);
            long now = System.nanoTime();
            long credited = Math.min(now - last, 2 * intervalNanos); // a GC pause counts as two samples at most
            last = now;
            try {
                sample(credited);
            } catch (Throwable t) {
                pool.reportCarrierError(Thread.currentThread(), t);
            }
            if (now - lastTrim >= Tunables.REGISTRY_TRIM_INTERVAL_NANOS) {
                lastTrim = now;
                try {
                    pool.telemetry.registry.trimIdle();   // tables left large by a load that stopped
                } catch (Throwable t) {
                    pool.reportCarrierError(Thread.currentThread(), t);
                }
            }
        }
        if (reporter != null) reporter.interrupt();          // finish the queued reports, then exit
    }

    /**
     * A report queued for the reporter thread: a stall at detection ({@code warning} false: counter, JFR,
     * DEBUG) or a stall that became worth a WARNING ({@code warning} true).
     */
    private record Pending(Carrier carrier, Thread fiber, StackTraceElement[] stack, long stalledNanos,
                           int handedOff, int waited, int bound, String held, boolean warning, int suppressed) { }

    private void resetStall(int i) {
        stalledNanos[i] = 0;
        reported[i] = false;
        warned[i] = false;
        waitedBehind[i] = 0;
        boundBehind[i] = 0;
        held[i] = null;
        stacks[i] = null;
        stalledFibers[i] = null;
    }

    private void sample(long credited) {
        Carrier[] all = pool.carriers;
        int inService = 0, stalled = 0;
        List<Pending> toReport = null;
        for (int i = 0; i < all.length; i++) {
            Carrier c = all[i];
            if (c.spare && !c.isActiveSpare()) {
                resetStall(i);
                continue;
            }
            inService++;
            long runCount = c.runCount();
            stalledFibers[i] = null;
            Thread fiber = c.currentFiber();
            if (fiber == null || runCount != lastRunCount[i]) {   // idle, or moved on since the last sample
                lastRunCount[i] = runCount;
                resetStall(i);
                continue;
            }
            long t = stalledNanos[i] += credited;
            if (t >= Tunables.TIME_SLICE_NANOS) {
                c.requestPreempt(runCount);
                ringsOpened = ringsOpened + 1; // single writer; counted before the ring opens (OwnCompletionsTest reads it after its fibers ran)
                c.ringMixed();                 // its completions wait behind the fiber: peers may take them
                // its driver is unattended: let it serve the carrier's I/O elsewhere (CarrierDriver.carrierStalled)
                if (thresholdNanos > 0 && pool.model == TaskModel.WORK_STEALING) {
                    c.driverUnattended();
                    // fibers its driver queued here before the fiber started wake nobody (Carrier.scheduleLocal):
                    // wake a parked peer to steal them now rather than at the hand-off
                    if (!c.queue.isEmpty()) pool.idle.notifyOne();
                }
            }
            if (thresholdNanos == 0 || t < thresholdNanos) continue;
            if (!reported[i]) {
                // Capture the stack now, then check the same task is still mounted: a stack taken after
                // the fiber parked would blame a fiber that was waiting, not running.
                StackTraceElement[] stack = fiber.getStackTrace();
                if (c.runCount() != runCount || c.currentFiber() != fiber) {
                    resetStall(i);
                    continue;
                }
                stacks[i] = stack;
            }
            stalled++;
            int handedOff = pool.model == TaskModel.WORK_STEALING ? handOff(c)
                    : pool.model == TaskModel.THREAD_PER_CORE ? redealUnstarted(c, i) : 0;
            int queued = c.queue.sizeEstimate() + c.inbox.size();   // what still waits for this carrier
            waitedBehind[i] = Math.max(waitedBehind[i], handedOff + queued);
            // under WORK_STEALING the inbox holds fibers bound to the carrier (startOn, startLocal, CarrierLocal.with): no hand-off moves them
            if (pool.model == TaskModel.WORK_STEALING) boundBehind[i] = Math.max(boundBehind[i], c.inbox.size());
            String h = c.heldByStall();                      // e.g. sockets no rescuer serves
            if (h != null) held[i] = h;
            if (!reported[i]) {
                reported[i] = true;
                stalls = stalls + 1;                          // single writer
                if (toReport == null) toReport = new ArrayList<>();
                toReport.add(new Pending(c, fiber, stacks[i], t, handedOff, waitedBehind[i], boundBehind[i], held[i], false, 0));
            }
            stalledFibers[i] = fiber;
        }
        if (stalledCarriers != stalled) stalledCarriers = stalled;
        if (stalled > 0) toReport = queueWarnings(all, stalled == inService ? pool.inject.size() : 0, toReport);
        if (stalled > 0 && stalled == inService && pool.model == TaskModel.WORK_STEALING
                && !pool.isTerminated() && pool.hasVisibleWork()) {
            for (int i = pool.parallelism(); i < all.length; i++) {
                if (all[i].activate()) {
                    sparesStarted = sparesStarted + 1;
                    break;
                }
            }
            // the JVM's socket sub-pollers, if hosted here, must not wait for this pool's computations
            int rescued = pool.outliving.rescue(pool.inject);
            if (rescued > 0) pollerRescues = pollerRescues + rescued;   // single writer
        }
        if (toReport != null) {
            reports.addAll(toReport);
            if (reporter == null) {
                reporter = Thread.ofPlatform().daemon().name(pool.name() + "-stall-reporter").inheritInheritableThreadLocals(false)
                        .start(this::reportLoop);
            }
        }
    }

    /**
     * Queues the WARNING of each stall that has held runnable work past the warning limit, at most one
     * per interval. {@code injected}: outside work waiting because every carrier in service is stalled.
     */
    private List<Pending> queueWarnings(Carrier[] all, int injected, List<Pending> toReport) {
        for (int i = 0; i < all.length; i++) {
            Thread fiber = stalledFibers[i];
            if (fiber == null || warned[i]) continue;
            int waited = waitedBehind[i] = Math.max(waitedBehind[i], injected);
            if ((waited == 0 && held[i] == null) || stalledNanos[i] < Tunables.STALL_WARNING_NANOS) continue;
            warned[i] = true;
            long suppressed = warnings.pass();
            if (suppressed < 0) continue;
            if (toReport == null) toReport = new ArrayList<>();
            toReport.add(new Pending(all[i], fiber, stacks[i], stalledNanos[i], 0, waited, boundBehind[i], held[i], true,
                    (int) Math.min(suppressed, Integer.MAX_VALUE)));
            warningsQueued = warningsQueued + 1;      // single writer
        }
        return toReport;
    }

    private void reportLoop() {
        for (;;) {
            Pending p;
            boolean last = false;
            try {
                p = reports.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                p = reports.poll();                           // the pool terminated: drain, then exit
                last = true;
            }
            if (p == null) {
                if (last || pool.isTerminated()) return;
                continue;
            }
            if (last) Thread.currentThread().interrupt();     // keep exiting after this one
            try {
                if (p.warning()) warn(p);
                else report(p);
            } catch (Throwable t) {
                pool.reportCarrierError(Thread.currentThread(), t);
            }
            if (p.warning()) warningsDone = warningsDone + 1; // single writer
            else reportsDone = reportsDone + 1;               // single writer
        }
    }

    /** Moves a stalled carrier's unbound queued tasks to the injection queue; returns how many. */
    private int handOff(Carrier c) {
        RunQueue.Steal victim = c.queue.steal();
        RunQueue.Local stage = staging.local();
        List<Runnable> moved = new ArrayList<>();
        Runnable t;
        while ((t = victim.stealInto(stage, stolenCount)) != null) {
            moved.add(t);
            while ((t = stage.poll()) != null) moved.add(t);
        }
        if ((t = victim.stealNext()) != null) moved.add(t);
        if (moved.isEmpty()) return 0;
        pool.inject.pushAll(moved.toArray(new Runnable[0]), null);
        pool.idle.notifyOne();
        pool.outliving.afterInjected(pool.inject); // the pool's last carrier may have exited meanwhile
        return moved.size();
    }

    /**
     * THREAD_PER_CORE: fibers dealt to a stalled carrier that have not run yet have not "started" in the
     * policy's sense, so they are dealt again to carriers that are not stalled. Fibers that have run stay,
     * and so do fibers the caller bound there (startOn, startLocal), which were promised that carrier.
     * Returns how many moved.
     */
    private int redealUnstarted(Carrier c, int index) {
        Carrier[] all = pool.carriers;
        int n = pool.parallelism();
        List<Runnable> tasks = new ArrayList<>();
        Runnable t;
        while ((t = c.inbox.poll()) != null) tasks.add(t);   // the inbox is a lock-free queue: any thread may poll
        RunQueue.Steal ring = c.queue.steal();
        RunQueue.Local stage = staging.local();
        while ((t = ring.stealInto(stage, stolenCount)) != null) {
            tasks.add(t);
            while ((t = stage.poll()) != null) tasks.add(t);
        }
        if ((t = ring.stealNext()) != null) tasks.add(t);
        int moved = 0;
        for (Runnable task : tasks) {
            Thread fiber = JdkVirtualThreads.fiberOf(task);
            Carrier to = fiber != null && JdkVirtualThreads.state(fiber) == JdkVirtualThreads.STARTED
                    && !pool.isPinned(fiber) ? notStalled(all, n, index + moved + 1) : null;
            if (to == null) {
                // stays home; the stall may have ended meanwhile and its carrier parked, having found
                // nothing while the monitor held the task: put it back with a wake, as any bound task
                c.scheduleBound(task, false);
            } else {
                pool.rebind(fiber, c, to);
                to.scheduleBound(task, false);
                moved++;
            }
        }
        return moved;
    }

    /** A regular carrier that is not stalled, searching from {@code start}; null if all are. */
    private Carrier notStalled(Carrier[] all, int n, int start) {
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            if (thresholdNanos > 0 && stalledNanos[i] < thresholdNanos) return all[i];
        }
        return null;
    }

    private static String kind(StackTraceElement[] stack) {
        return stack.length > 0 && stack[0].isNativeMethod()
                ? "blocked in a native or pinning call" : "running without a blocking point";
    }

    /**
     * Where the stalled fiber was: its top frame and, when that is the JDK's (say, {@code System.nanoTime}
     * in a spin loop, caught mid-call), the first frame of the code that called into it.
     */
    static String where(StackTraceElement[] stack) {
        if (stack.length == 0) return "";
        String top = " at " + stack[0];
        if (!isJdk(stack[0])) return top;
        for (StackTraceElement e : stack) {
            if (!isJdk(e)) return top + ", in " + e;
        }
        return top;
    }

    private static boolean isJdk(StackTraceElement e) {
        String module = e.getModuleName();
        return module != null && (module.startsWith("java.") || module.startsWith("jdk."));
    }

    private static String trace(StackTraceElement[] stack) {
        StringBuilder trace = new StringBuilder();
        for (StackTraceElement e : stack) trace.append("\tat ").append(e).append('\n');
        return trace.toString();
    }

    /** A stall at detection: JFR event, and one DEBUG line with the stack. Reporter thread. */
    private void report(Pending p) {
        Carrier c = p.carrier();
        long millis = p.stalledNanos() / 1_000_000;
        String kind = kind(p.stack());
        CarrierStallEvent event = new CarrierStallEvent();
        if (event.isEnabled()) {
            event.scheduler = pool.name();
            event.carrier = c.getName();
            event.spareCarrier = c.spare;
            event.fiber = p.fiber();
            event.fiberName = p.fiber().getName();   // its name, as labelled; the fiber field carries the thread itself
            event.stalledFor = millis;
            event.kind = kind;
            event.fiberStack = trace(p.stack());
            event.handedOff = p.handedOff();
            event.commit();
        }
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "bobbin: carrier " + c.getName() + " stalled for " + millis
                    + " ms by fiber '" + p.fiber().getName() + "' (" + kind + "), " + p.handedOff()
                    + " queued fibers handed off" + (p.held() != null ? "; " + p.held() : "") + "\n" + trace(p.stack()));
        }
    }

    /** A stall that held runnable work past the warning limit: one WARNING line. Reporter thread. */
    private void warn(Pending p) {
        if (!LOG.isLoggable(System.Logger.Level.WARNING)) return;
        StackTraceElement[] stack = p.stack();
        String where = where(stack);
        String action = switch (pool.model) {
            case WORK_STEALING -> p.bound() == 0 ? "its queued fibers moved to other carriers"
                    : p.bound() >= p.waited() ? "they are bound to it (startOn, startLocal, CarrierLocal.with) and wait"
                    : "those not bound to it moved to other carriers, " + p.bound() + " bound to it wait";
            case THREAD_PER_CORE -> "fibers that started on it wait (THREAD_PER_CORE)";
            case SINGLE_THREAD -> "the scheduler's other fibers wait (SINGLE_THREAD)";
        };
        String suppressed = p.suppressed() > 0 ? " (" + p.suppressed() + " similar warnings suppressed)" : "";
        String behind = p.waited() > 0 || p.held() == null
                ? " with " + p.waited() + " runnable fibers behind it; " + action + ";" : ";";
        String held = p.held() != null ? " " + p.held() + ";" : "";
        LOG.log(System.Logger.Level.WARNING, "bobbin: carrier " + p.carrier().getName() + " stalled over "
                + p.stalledNanos() / 1_000_000 + " ms by fiber '" + p.fiber().getName() + "' " + kind(stack)
                + where + behind + held
                + " use FiberScheduler.checkpoint() in long computations (stack at DEBUG on logger dev.bobbin)"
                + suppressed);
    }

}
