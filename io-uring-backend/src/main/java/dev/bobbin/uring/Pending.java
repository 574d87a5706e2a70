package dev.bobbin.uring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;

/**
 * The rendezvous between a thread blocked in a socket operation and the event loop that completes it.
 *
 * <pre>
 *   WAITING --complete / fail (loop)--> DONE
 *   WAITING --abandon (waiter, on interrupt)--> ABANDONED
 * </pre>
 * Exactly one transition wins. The loop writes the result before its CAS (release) and the waiter reads
 * it after seeing DONE (acquire), so the result needs no further fence. A loop whose {@link #complete}
 * loses to {@link #abandon} still owns the value and must dispose of it (release a buffer, close a channel).
 */
final class Pending<T> {
    private static final VarHandle STATE;
    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Pending.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    static final int WAITING = 0, DONE = 1, ABANDONED = 2;

    final Thread waiter;
    private volatile int state;
    private T value;                    // written before the CAS to DONE; read after seeing DONE
    private Throwable error;            // likewise
    Future<?> timer;                    // loop only: the timeout task to cancel on completion
    private Thread completer;           // the thread that completed it; written before the CAS like value

    Pending(Thread waiter) {
        this.waiter = waiter;
    }

    /** Loop: delivers a value; false if the waiter abandoned the operation (the caller keeps the value). */
    boolean complete(T v) {
        value = v;
        completer = Thread.currentThread();
        if (STATE.compareAndSet(this, WAITING, DONE)) {          // release; pairs with the acquire in isDone
            LockSupport.unpark(waiter);
            return true;
        }
        value = null;
        return false;
    }

    /** Loop: delivers a failure; false if the waiter abandoned the operation. */
    boolean fail(Throwable t) {
        error = t;
        completer = Thread.currentThread();
        if (STATE.compareAndSet(this, WAITING, DONE)) {          // release; pairs with the acquire in isDone
            LockSupport.unpark(waiter);
            return true;
        }
        return false;
    }

    /** Loop: cancels the timeout task, if any (the operation was taken out of its waiting slot). */
    void cancelTimer() {
        if (timer != null) timer.cancel(false);
    }

    /** Waiter: gives up (interrupted); false if the operation completed first. */
    boolean abandon() {
        return STATE.compareAndSet(this, WAITING, ABANDONED);
    }

    boolean isDone() {
        return (int) STATE.getAcquire(this) == DONE;              // acquire; pairs with the CAS in complete/fail
    }

    boolean isWaiting() {
        return (int) STATE.getAcquire(this) == WAITING;
    }

    T value() { return value; }

    /** The thread that completed the operation; read after {@link #isDone}. */
    Thread completer() { return completer; }

    Throwable error() { return error; }
}
