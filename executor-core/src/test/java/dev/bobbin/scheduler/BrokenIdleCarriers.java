package dev.bobbin.scheduler;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The broken twin of {@link IdleCarriers}, for the protocol tests only: the same state and sleeper stack,
 * but without the full fence between the caller's publication and the read of {@code state} in
 * {@code notifyOne}. Without it the publication (a release store) and the read may be reordered
 * (store-load), so the decision is made on a state read that effectively precedes the publication.
 * The literal fence-less variant loses a wakeup only a few times in a million runs here, too rarely for
 * a time-boxed test, so this twin performs that reordering itself: {@link #readStateEarly} is called
 * before the publication and {@link #notifyOne(int)} decides on its result afterwards, with a short
 * spin in between standing for the store buffer's delay. Only the operations the wake-protocol test
 * uses are here.
 */
final class BrokenIdleCarriers {
    private static final VarHandle STATE;
    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(BrokenIdleCarriers.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private static final int UNPARKED_ONE = 1 << 16;

    private final int carriers;
    @SuppressWarnings("unused") private volatile int state;
    private final ReentrantLock lock = new ReentrantLock();
    private final IdleCarriers.Sleeper[] sleepers;
    private int sleeperCount;

    /** notifyOne as called by the parking carrier's re-check (whose side is fenced by the lock). */
    void notifyOne() {
        notifyOne((int) STATE.getVolatile(this));
    }

    BrokenIdleCarriers(int carriers) {
        this.carriers = carriers;
        this.state = carriers * UNPARKED_ONE;
        this.sleepers = new IdleCarriers.Sleeper[carriers];
    }

    /** BUG: the state read that, without the fence, may be satisfied before the caller's publication. */
    int readStateEarly() {
        int s = (int) STATE.getAcquire(this);
        for (int i = 0; i < 50; i++) Thread.onSpinWait();   // the publication still sits in the store buffer
        return s;
    }

    /** notifyOne, deciding on a state read taken before the publication was visible. */
    void notifyOne(int s) {
        if (IdleCarriers.searching(s) != 0 || IdleCarriers.unparked(s) >= carriers) return;
        IdleCarriers.Sleeper woken;
        lock.lock();
        try {
            s = (int) STATE.getVolatile(this);
            if (IdleCarriers.searching(s) != 0 || IdleCarriers.unparked(s) >= carriers || sleeperCount == 0) return;
            woken = sleepers[--sleeperCount];
            sleepers[sleeperCount] = null;
            STATE.getAndAdd(this, UNPARKED_ONE + 1);
            woken.markAwake();
        } finally {
            lock.unlock();
        }
        woken.wakeDriver();
    }

    void transitionToParked(IdleCarriers.Sleeper c, boolean wasSearching) {
        lock.lock();
        try {
            STATE.getAndAdd(this, -(UNPARKED_ONE + (wasSearching ? 1 : 0)));
            sleepers[sleeperCount++] = c;
            c.markAsleep();
        } finally {
            lock.unlock();
        }
    }
}
