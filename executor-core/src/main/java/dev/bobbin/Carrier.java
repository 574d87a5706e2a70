package dev.bobbin;

import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A carrier: one platform thread of a {@link CarrierPool} that runs fiber continuations.
 *
 * <p>Implementation overview. The duty cycle ({@link #runLoop}) is:
 * <ol>
 *   <li>find a task: every {@link Tunables#INJECTION_POLL_INTERVAL}th time the injection queue first
 *       (fairness for outside submissions); then the next slot, at most
 *       {@link Tunables#NEXT_SLOT_MAX_CONSECUTIVE} times in a row; then the local ring; then a batch
 *       from the injection queue;</li>
 *   <li>if none: poll the driver (it may resume fibers here), then search: steal half of another
 *       carrier's ring, re-check the injection queue, and as a last resort take another carrier's next
 *       slot if that carrier has been running the same fiber throughout a grace period;</li>
 *   <li>run the task; every {@link Tunables#DRIVER_POLL_INTERVAL} tasks poll the driver;</li>
 *   <li>if there is still nothing: park through the driver, following the protocol in
 *       {@link IdleCarriers}.</li>
 * </ol>
 * A fiber woken by a fiber running on this carrier goes to the next slot (a request/response pair runs
 * back to back here); a fiber made runnable by the carrier itself (after a yield, or by the driver)
 * goes to the tail. A full ring spills half of itself plus the new task to the injection queue.
 *
 * <p>Fields marked "owner" are touched only by this carrier thread or by a fiber mounted on it, which
 * is the same sequential flow of control.
 */
final class Carrier extends Thread implements CarrierContext, IdleCarriers.Sleeper {
    private static final VarHandle SLEEPING, CURRENT_FIBER, RUN_COUNT;
    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SLEEPING = l.findVarHandle(Carrier.class, "sleeping", boolean.class);
            CURRENT_FIBER = l.findVarHandle(Carrier.class, "currentFiber", Thread.class);
            RUN_COUNT = l.findVarHandle(Carrier.class, "runCount", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final CarrierPool pool;                  // the pool this carrier belongs to
    final int index;                         // position in pool.carriers
    final RunQueue queue;                    // this carrier's run queue (ring + next slot)
    private final RunQueue.Local local;      // owner: the owner handle of queue
    final CarrierCounters counters = new CarrierCounters(); // owner writes, anyone reads
    private CarrierDriver driver;            // owner: set at start of run(); wakeDriver reads it after start
    private volatile boolean sleeping;       // true while on the sleeper stack; written under IdleCarriers.lock
    @SuppressWarnings("unused") private volatile Thread currentFiber; // fiber mounted now, or null; opaque
    @SuppressWarnings("unused") private volatile long runCount;       // tasks run; opaque; thieves sample it
    private boolean searching;               // owner: counted as searching in IdleCarriers
    private int tick;                        // owner: task counter for periodic polls
    private int nextRunsInRow;               // owner: consecutive tasks from the next slot
    private int sinceDriverPoll;             // owner: tasks since the last driver poll
    private int seed;                        // owner: xorshift state for victim selection
    private final int[] stolenCount = new int[1]; // owner: out-parameter of stealInto

    Carrier(CarrierPool pool, int index) {
        super(null, null, pool.name() + "-carrier-" + index, 0, false);
        this.pool = pool;
        this.index = index;
        this.queue = new RunQueue(Tunables.LOCAL_QUEUE_CAPACITY);
        this.local = queue.local();
        this.seed = 0x9E3779B9 * (index + 1);
        setDaemon(true);
    }

    // ---- CarrierContext -------------------------------------------------------------------------

    @Override public String schedulerName() { return pool.name(); }
    @Override public int carrierIndex() { return index; }
    @Override public Thread carrierThread() { return this; }
    @Override public boolean isCurrentCarrier() { return JdkVirtualThreads.currentCarrier() == this; }

    // ---- scheduling from this carrier --------------------------------------------------------------

    /**
     * Schedules a task on this carrier. Owner only (the carrier thread, or a fiber mounted on it).
     * {@code wokenByFiber}: the running fiber made it runnable, so it goes to the next slot.
     */
    void scheduleLocal(Runnable task, boolean wokenByFiber) {
        counters.increment(CarrierCounters.LOCAL_SCHEDULES);
        if (wokenByFiber) {
            Runnable displaced = local.swapNext(task);
            if (displaced == null) return;       // runs right after the current fiber; no one to wake
            task = displaced;
        }
        if (!local.offer(task)) spill(task);
        pool.idle.notifyOne();
    }

    private void spill(Runnable task) {
        for (;;) {
            Runnable[] half = local.drainHalfForSpill();
            if (half != null) {
                pool.inject.pushAll(half, task);
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
            pool.carrierFailedToStart(this, t);
            return;
        }
        pool.carrierStarted(this);
        try {
            runLoop();
        } finally {
            try {
                driver.close();
            } finally {
                pool.carrierExited(this);
            }
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
                runTask(task);
                if (++sinceDriverPoll >= Tunables.DRIVER_POLL_INTERVAL) pollDriver();
                continue;
            }
            if (pool.readyToExit()) {
                pool.wakeAllForExit();
                return;
            }
            park();
        }
    }

    private Runnable findLocalTask() {
        if (++tick % Tunables.INJECTION_POLL_INTERVAL == 0) {
            Runnable t = pool.inject.poll();
            if (t != null) {
                counters.increment(CarrierCounters.INJECTED_TAKEN);
                return t;
            }
        }
        Runnable t = local.takeNext();
        if (t != null) {
            if (nextRunsInRow < Tunables.NEXT_SLOT_MAX_CONSECUTIVE) {
                nextRunsInRow++;
                counters.increment(CarrierCounters.NEXT_SLOT_RUNS);
                return t;
            }
            if (!local.offer(t)) spill(t);       // demote: the queue gets a turn
        }
        nextRunsInRow = 0;
        t = local.poll();
        if (t != null) return t;
        return takeInjectedBatch();
    }

    private Runnable takeInjectedBatch() {
        InjectionQueue inject = pool.inject;
        if (inject.isEmpty()) return null;
        int share = inject.size() / pool.parallelism() + 1;
        int max = Math.min(Math.min(share, Tunables.INJECTION_BATCH_MAX), local.remaining());
        Runnable t = inject.pollBatch(local, Math.max(1, max));
        if (t != null) counters.increment(CarrierCounters.INJECTED_TAKEN);
        return t;
    }

    private int pollDriver() {
        sinceDriverPoll = 0;
        int events = driver.poll();
        if (events > 0) counters.add(CarrierCounters.DRIVER_EVENTS, events);
        return events;
    }

    /** Steals from other carriers; null if nothing was found or too many carriers already search. */
    private Runnable search() {
        if (!searching) {
            if (!pool.idle.transitionToSearching()) return null;
            searching = true;
        }
        Carrier[] all = pool.carriers;
        int n = all.length;
        if (n > 1) {
            int start = nextRandom(n);
            for (int i = 0; i < n; i++) {
                Carrier victim = all[(start + i) % n];
                if (victim == this) continue;
                Runnable t = victim.queue.steal().stealInto(local, stolenCount);
                if (t != null) {
                    counters.increment(CarrierCounters.STEALS);
                    counters.add(CarrierCounters.STOLEN, stolenCount[0]);
                    return t;
                }
            }
        }
        Runnable t = takeInjectedBatch();
        if (t != null) return t;
        return n > 1 ? stealNextSlot(all) : null;
    }

    /** Last resort: a next slot whose owner kept running the same fiber for a whole grace period. */
    private Runnable stealNextSlot(Carrier[] all) {
        for (Carrier victim : all) {
            if (victim == this || !victim.queue.steal().hasNext()) continue;
            long before = victim.runCount();
            for (int spin = 0; spin < Tunables.NEXT_SLOT_STEAL_GRACE_SPINS; spin++) Thread.onSpinWait();
            if (victim.runCount() != before) continue;   // the owner moved on and will run it itself
            Runnable t = victim.queue.steal().stealNext();
            if (t != null) {
                counters.increment(CarrierCounters.STEALS);
                counters.increment(CarrierCounters.STOLEN);
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
        try {
            task.run();
        } catch (Throwable t) {
            pool.reportCarrierError(this, t);     // the JDK's continuation runner does not throw normally
        }
        CURRENT_FIBER.setOpaque(this, (Thread) null);
        RUN_COUNT.setOpaque(this, (long) RUN_COUNT.getOpaque(this) + 1); // opaque; sampled by thieves
        counters.increment(CarrierCounters.TASKS_RUN);
        // A fiber that parked in this run may have been resumed and ended elsewhere already: the claim
        // makes sure exactly one carrier counts each completion.
        if (fiber != null && JdkVirtualThreads.state(fiber) == JdkVirtualThreads.TERMINATED
                && JdkVirtualThreads.claimTermination(fiber)) {
            counters.increment(CarrierCounters.FIBERS_COMPLETED);
            pool.fiberTerminated();
        }
    }

    /** Parks through the driver until a submitter wakes this carrier (IdleCarriers, step 2). */
    private void park() {
        boolean wasSearching = searching;
        searching = false;
        pool.idle.transitionToParked(this, wasSearching);
        if (pool.hasVisibleWork()) pool.idle.notifyOne();   // re-check after registering; may wake ourselves
        counters.increment(CarrierCounters.PARKS);
        long start = System.nanoTime();
        while ((boolean) SLEEPING.getVolatile(this)) {     // pairs with markAwake under the idle lock
            if (pool.isShutdown()) {
                driver.park(Tunables.SHUTDOWN_PARK_NANOS);
                if (pool.readyToExit() && pool.idle.cancelPark(this)) break;
            } else {
                driver.park(-1);
            }
        }
        counters.add(CarrierCounters.PARKED_NANOS, System.nanoTime() - start);
        searching = true;                                   // woken as a searcher (IdleCarriers, step 1)
    }

    // ---- called by IdleCarriers (under its lock) and other carriers ---------------------------------

    @Override public void markAsleep() { SLEEPING.setVolatile(this, true); }
    @Override public void markAwake() { SLEEPING.setVolatile(this, false); }

    @Override public void wakeDriver() {
        CarrierDriver d = driver;                // set before this carrier could ever be a sleeper
        if (d != null) d.wakeup();
    }

    long runCount() { return (long) RUN_COUNT.getOpaque(this); }

    Thread currentFiber() { return (Thread) CURRENT_FIBER.getOpaque(this); }

    boolean isSleeping() { return (boolean) SLEEPING.getVolatile(this); }

    private int nextRandom(int bound) {
        int x = seed;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        seed = x;
        return (x & Integer.MAX_VALUE) % bound;
    }
}
