package dev.bobbin.scheduler;

import dev.bobbin.base.LinePadding;
import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which carriers are parked and which are searching for work; decides whom a new task wakes.
 *
 * <p>Implementation overview (after Tokio's {@code idle.rs}). {@code state} packs two counts:
 * carriers not parked ("unparked") in the high half and carriers searching for work (stealing) in the
 * low half. Parked carriers sit on a stack guarded by {@code lock}.
 *
 * <p>The wake protocol, whose invariant is: <b>a task that has been published in any queue is never
 * left there while every carrier is parked</b>.
 * <ol>
 *   <li>A submitter publishes its task, then calls {@link #notifyOne}, which issues a full fence and
 *       reads {@code state}: if a carrier is searching, that searcher is responsible for the task; if
 *       none is parked, all are busy and will reach the task by polling; otherwise it pops one sleeper,
 *       counts it unparked <em>and searching</em> (so a burst of submissions wakes one carrier, not a
 *       herd) and wakes it through its driver.</li>
 *   <li>A carrier that found no work registers as a sleeper ({@link #transitionToParked}), then
 *       re-checks every queue; if it sees work it calls {@link #notifyOne} (which may wake itself) before
 *       it blocks. Either the submitter's fenced read sees the registration, or the re-check sees the
 *       task.</li>
 *   <li>A searcher that finds work leaves the searching state ({@link #transitionFromSearching}); the last
 *       one to leave then re-checks the queues and, if work is still visible, calls {@link #notifyOne},
 *       so a further burst keeps one carrier looking. A submitter that saw a searcher relied on exactly
 *       this: its fenced read saw the searcher before the searcher's decrement, so the searcher's
 *       re-check after the decrement sees the submitter's task. A submitter whose read comes after the
 *       decrement sees no searcher and wakes a carrier itself; when nothing is left to do, nobody is
 *       woken just to park again.</li>
 * </ol>
 * A task in a next slot is outside this invariant: its owner is awake and runs it next, so publishing it
 * needs no wake-up; {@link #notifyOneHint} only adds parallelism when the owner's fiber keeps running.
 * At most half of the regular carriers (spares excluded) search at once ({@link #transitionToSearching}): more thieves than that
 * only contend on the same victims.
 *
 * <p>Sleepers are seen through {@link Sleeper}, which {@link Carrier} implements, so the protocol can be
 * exercised on its own.
 */
public final class IdleCarriers extends IdleCarriersFields {
    /** What the protocol needs of a carrier that parks. */
    interface Sleeper {
        /** Marks it on the sleeper stack; called under the lock. */
        void markAsleep();
        /** Marks it off the sleeper stack; called under the lock. */
        void markAwake();
        /** Makes its current or next park return; called after the lock is released. */
        void wakeDriver();
    }

    private static final VarHandle STATE = VarHandles.field(MethodHandles.lookup(), IdleCarriersFields.class, "state", int.class);
    private static final int UNPARKED_ONE = 1 << 16;
    private static final int SEARCHING_MASK = UNPARKED_ONE - 1;

    @SuppressWarnings("unused")                    // after the state word: see LinePadding
    private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

    private final int carriers;                    // number of carriers
    private final int searchBase;                  // carriers whose half may search at once (spares excluded)
    private final ReentrantLock lock = new ReentrantLock();
    private final Sleeper[] sleepers;              // guarded by lock; a stack

    IdleCarriers(int carriers) {
        this(carriers, carriers);
    }

    /** {@code searchBase}: the regular carriers; spares do not widen the searcher limit. */
    IdleCarriers(int carriers, int searchBase) {
        if (carriers >= UNPARKED_ONE) throw new IllegalArgumentException("too many carriers: " + carriers);
        this.carriers = carriers;
        this.searchBase = searchBase;
        this.state = carriers * UNPARKED_ONE;      // all start unparked, none searching
        this.sleepers = new Sleeper[carriers];
    }

    static int unparked(int s) { return s >>> 16; }
    static int searching(int s) { return s & SEARCHING_MASK; }

    /** Wakes one parked carrier if the new task needs one (step 1). Any thread, after publishing. */
    void notifyOne() {
        VarHandle.fullFence(); // orders the caller's publication before the state read (store-load)
        int s = (int) STATE.getVolatile(this);
        if (searching(s) != 0 || unparked(s) >= carriers) return;
        wakeOneSleeper();
    }

    /** Pops and wakes one sleeper as a searcher, re-checking the state under the lock. */
    private void wakeOneSleeper() {
        int s;
        Sleeper woken;
        lock.lock();
        try {
            s = (int) STATE.getVolatile(this);
            if (searching(s) != 0 || unparked(s) >= carriers || sleeperCount == 0) return;
            woken = sleepers[--sleeperCount];
            sleepers[sleeperCount] = null;
            STATE.getAndAdd(this, UNPARKED_ONE + 1);   // wake: unparked+1, searching+1
            woken.markAwake();                         // under lock; pairs with the read in Carrier.park
        } finally {
            lock.unlock();
        }
        woken.wakeDriver();
    }

    /**
     * Wakes one parked carrier, if no carrier searches, for a task in a next slot: best effort, without
     * the fence of {@link #notifyOne}. The next slot's owner runs the task itself once its current fiber
     * stops, so a wake missed here (a carrier registering as parked at this moment) costs parallelism,
     * never progress; the parking carrier's re-check sees the slot anyway in most such races. Owner of the
     * slot only (any thread would do; only carriers call it).
     */
    void notifyOneHint() {
        int s = (int) STATE.getOpaque(this);           // opaque: a hint, no ordering with the slot's write
        if (searching(s) != 0 || unparked(s) >= carriers) return;
        wakeOneSleeper();
    }

    /** Wakes every parked carrier, each as a searcher: used at shutdown. */
    void wakeAll() {
        Sleeper[] woken;
        lock.lock();
        try {
            woken = new Sleeper[sleeperCount];
            for (int i = 0; i < sleeperCount; i++) {
                woken[i] = sleepers[i];
                sleepers[i] = null;
                woken[i].markAwake();
            }
            STATE.getAndAdd(this, sleeperCount * (UNPARKED_ONE + 1));
            sleeperCount = 0;
        } finally {
            lock.unlock();
        }
        for (Sleeper c : woken) c.wakeDriver();
    }

    /** Tries to become a searcher; false when half the carriers already search. */
    boolean transitionToSearching() {
        for (;;) {
            int s = (int) STATE.getVolatile(this);
            if (2 * searching(s) >= searchBase) return false;
            if (STATE.compareAndSet(this, s, s + 1)) return true;   // CAS: searching+1
        }
    }

    /**
     * Leaves the searching state after finding work (step 3). Returns true if this was the last searcher:
     * the caller must then re-check the queues and call {@link #notifyOne} if it sees work.
     */
    boolean transitionFromSearching() {
        int prev = (int) STATE.getAndAdd(this, -1);                // searching-1; full barrier before the re-check
        return searching(prev) == 1;
    }

    /** Registers {@code c} as parked (step 2, first half). Carrier thread only. */
    void transitionToParked(Sleeper c, boolean wasSearching) {
        lock.lock();
        try {
            STATE.getAndAdd(this, -(UNPARKED_ONE + (wasSearching ? 1 : 0))); // unparked-1 (and searching-1)
            sleepers[sleeperCount++] = c;
            c.markAsleep();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes {@code c} off the sleeper stack if it is still there (a carrier giving up its sleep to exit at
     * shutdown). Returns true if it was; the carrier is then counted unparked and searching.
     */
    boolean cancelPark(Sleeper c) {
        return cancelPark(c, true);
    }

    /**
     * Takes {@code c} off the sleeper stack because its own driver queued fibers on it while it slept;
     * true if it was there. It is counted unparked but <em>not</em> searching: it runs its own queue, and
     * no submitter relies on it to look elsewhere, so finding that work must not wake another carrier
     * (step 3), which under THREAD_PER_CORE could not take any of it.
     */
    boolean cancelParkForOwnWork(Sleeper c) {
        return cancelPark(c, false);
    }

    private boolean cancelPark(Sleeper c, boolean asSearcher) {
        lock.lock();
        try {
            for (int i = 0; i < sleeperCount; i++) {
                if (sleepers[i] == c) {
                    sleepers[i] = sleepers[--sleeperCount];
                    sleepers[sleeperCount] = null;
                    STATE.getAndAdd(this, UNPARKED_ONE + (asSearcher ? 1 : 0));
                    c.markAwake();
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** This protocol's part of a stats snapshot: carriers parked and searching, from one state read. Any thread. */
    EngineStats.Idle stats() {
        int s = (int) STATE.getVolatile(this);
        return new EngineStats.Idle(carriers - unparked(s), searching(s));
    }
}

/**
 * {@link IdleCarriers}' shared words, behind 128 bytes of padding ({@link LinePadding}): every carrier
 * CASes {@code state} when it parks, wakes or searches.
 */
abstract class IdleCarriersFields extends LinePadding {
    @SuppressWarnings("unused") volatile int state; // (unparked << 16) | searching
    int sleeperCount;                              // guarded by IdleCarriers' lock
}
