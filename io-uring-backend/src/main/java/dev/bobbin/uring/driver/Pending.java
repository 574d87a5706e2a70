package dev.bobbin.uring.driver;

import dev.bobbin.base.VarHandles;

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
 * An operation may extend it to be its own loop task as well, one object per operation on a hot path.
 * The waiter's checks read the volatile field itself, not through the VarHandle: they are compiled into
 * the frames of a fiber parked in an operation, which the heap keeps while it waits (the VarHandle's
 * inlined access makes them larger).
 */
public class Pending<T> {
    private static final VarHandle STATE = VarHandles.field(MethodHandles.lookup(), Pending.class, "state", int.class);
    private static final int WAITING = 0, DONE = 1, ABANDONED = 2;

    private final Thread waiter;
    private volatile int state;
    private T value;                    // written before the CAS to DONE; read after seeing DONE
    private Throwable error;            // likewise
    private Future<?> timer;            // loop only: the timeout task to cancel on completion
    private Thread completer;           // the thread that completed it; written before the CAS like value

    /** A cell that {@code waiter} (the calling thread, normally) will wait on. */
    public Pending(Thread waiter) {
        this.waiter = waiter;
    }

    /** Loop: delivers a value; false if the waiter abandoned the operation (the caller keeps the value). */
    public boolean complete(T v) {
        value = v;
        completer = Thread.currentThread();
        if (STATE.compareAndSet(this, WAITING, DONE)) {          // release; pairs with the volatile read in isDone
            LockSupport.unpark(waiter);
            return true;
        }
        value = null;
        return false;
    }

    /** Loop: delivers a failure; false if the waiter abandoned the operation. */
    public boolean fail(Throwable t) {
        error = t;
        completer = Thread.currentThread();
        if (STATE.compareAndSet(this, WAITING, DONE)) {          // release; pairs with the volatile read in isDone
            LockSupport.unpark(waiter);
            return true;
        }
        return false;
    }

    /** Loop: arms the operation's timeout task, which {@link #cancelTimer} cancels. */
    public void timer(Future<?> task) {
        timer = task;
    }

    /** Loop: cancels the timeout task, if any (the operation was taken out of its waiting slot). */
    public void cancelTimer() {
        if (timer != null) timer.cancel(false);
    }

    /** Waiter: gives up (interrupted); false if the operation completed first. */
    public boolean abandon() {
        return STATE.compareAndSet(this, WAITING, ABANDONED);
    }

    /** Whether the loop delivered a value or a failure; the waiter then reads {@link #value} or {@link #error}. */
    public boolean isDone() {
        return state == DONE;                                     // volatile; pairs with the CAS in complete/fail
    }

    /** Whether nobody completed nor abandoned the operation yet: the loop starts an operation only then. */
    public boolean isWaiting() {
        return state == WAITING;                                  // volatile; pairs with the CASes
    }

    /** The delivered value; read after {@link #isDone}. */
    public T value() { return value; }

    /** The thread that completed the operation; read after {@link #isDone}. */
    public Thread completer() { return completer; }

    /** The delivered failure, or null; read after {@link #isDone}. */
    public Throwable error() { return error; }
}
