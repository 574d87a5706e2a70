package dev.bobbin;

import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link FiberExecutor#invokeAny}, timed and untimed: the first task to succeed wins, the others are
 * cancelled.
 *
 * <p>Implementation overview. Each task's future ({@link AnyTask}) reports to one {@link FirstResult}
 * when it completes, however it completes: run to a value or an exception, cancelled, drained unrun by
 * shutdownNow, or failed unrun because the scheduler refused its start (FutureTask calls {@code done}
 * exactly once). A success CASes the result in and unparks the caller; anything else records the first
 * exception, then bumps the failure count and unparks the caller. The caller parks until a result is set
 * or every submitted task has failed (then it throws an ExecutionException with the first failure), and
 * on its way out, however it leaves, closes the rendezvous and cancels every future with interrupts.
 * A timed call that a bounded WAIT executor has no slot for in time times out there.
 *
 * <p>Protocol of {@link FirstResult}: {@code result} is set once, by CAS (to the value, or to
 * {@code CLOSED} by the leaving caller, after which reports are dropped); {@code firstFailure} is set
 * once, by CAS, before the volatile increment of {@code failures}, so a caller that reads
 * {@code failures == count} (volatile) also sees {@code firstFailure}. A failure after a result leaves
 * both alone.
 */
final class InvokeAny {
    private InvokeAny() { }

    /** {@code blocker}: the park blocker thread dumps show for the waiting caller (the executor). */
    static <T> T invokeAny(Admission admission, Object blocker, Collection<? extends Callable<T>> tasks,
                           boolean timed, long nanos)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(tasks, "tasks");
        int size = tasks.size();
        if (size == 0) throw new IllegalArgumentException("tasks is empty");
        long start = timed ? System.nanoTime() : 0;
        long deadline = start + nanos;                // compared by difference: safe across wrap-around
        FirstResult<T> first = new FirstResult<>(Thread.currentThread(), admission);
        List<Future<?>> futures = new ArrayList<>(size);
        try {
            int count = 0, seen = 0;
            Iterator<? extends Callable<T>> it = tasks.iterator();
            while (seen < size && it.hasNext()) {
                Callable<T> task = Objects.requireNonNull(it.next(), "tasks contains null");
                seen++;
                // A task already won (a bounded executor runs them a few at a time): start no more,
                // as the JDK's invokeAny would cancel them at once; the null check still covers them.
                if (first.result != null) continue;
                AnyTask<T> f = new AnyTask<>(task, first);
                futures.add(f);
                if (!admission.admitInBatch(f, timed, deadline, first::hasResult)) {
                    if (first.result != null) continue;        // a task won while this waited for a slot
                    throw new TimeoutException("no slot of the executor for invokeAny's tasks in time");
                }
                count++;
            }
            if (count == 0) throw new IllegalArgumentException("tasks is empty");
            if (Thread.interrupted()) throw new InterruptedException();
            Object r;
            while ((r = first.result) == null && first.failures < count) {
                if (timed) {
                    long left = nanos - (System.nanoTime() - start);
                    if (left <= 0) throw new TimeoutException("no task of invokeAny completed in time");
                    LockSupport.parkNanos(blocker, left);
                } else {
                    LockSupport.park(blocker);
                }
                if (Thread.interrupted()) throw new InterruptedException();
            }
            if (r == null) throw new ExecutionException(first.firstFailure);
            @SuppressWarnings("unchecked") T t = r == FirstResult.NULL ? null : (T) r;
            return t;
        } finally {
            first.close();                              // the cancels below report nothing to the caller
            for (Future<?> f : futures) f.cancel(true);
        }
    }

    /** A task of invokeAny: its future reports its end to the rendezvous. */
    private static final class AnyTask<T> extends TaskFuture<T> {
        private final FirstResult<T> first;

        AnyTask(Callable<T> task, FirstResult<T> first) {
            super(task, true);
            this.first = first;
        }

        @Override
        protected void done() {                         // once, on whatever thread completed it
            switch (state()) {
                case SUCCESS -> first.succeed(resultNow());
                case FAILED -> first.fail(exceptionNow());
                default -> first.fail(new CancellationException("a task of invokeAny was cancelled before it completed"));
            }
        }
    }

    /** invokeAny's rendezvous: the first result, or the failures counted before any result. */
    private static final class FirstResult<T> {
        static final Object NULL = new Object();       // stands for a null result
        static final Object CLOSED = new Object();     // the caller left: later reports are dropped
        private static final VarHandle RESULT = VarHandles.field(MethodHandles.lookup(), FirstResult.class, "result", Object.class);
        private static final VarHandle FAILURES = VarHandles.field(MethodHandles.lookup(), FirstResult.class, "failures", int.class);
        private static final VarHandle FIRST_FAILURE = VarHandles.field(MethodHandles.lookup(), FirstResult.class, "firstFailure", Throwable.class);
        private final Thread waiter;                    // the invokeAny caller, unparked on every report
        private final Admission admission;              // whose slot waiters the first success wakes
        volatile Object result;        // set once by CAS; the waiter's volatile read pairs with it
        volatile int failures;         // incremented after firstFailure is set; the waiter reads it volatile
        volatile Throwable firstFailure; // set once by CAS, before the increment of failures

        FirstResult(Thread waiter, Admission admission) {
            this.waiter = waiter;
            this.admission = admission;
        }

        /** Whether a task succeeded (or the caller left): a caller waiting for a slot gives up. */
        boolean hasResult() {
            return result != null;
        }

        void succeed(T value) {
            if (result == null && RESULT.compareAndSet(this, null, value == null ? NULL : value)) {
                LockSupport.unpark(waiter);
                admission.wakeSlotWaiters();             // the caller may wait for a slot (WAIT): it stops
            }
        }

        /** The caller leaves: no result may arrive any more, and failures are not counted. */
        void close() {
            if (result == null) RESULT.compareAndSet(this, null, CLOSED);
        }

        void fail(Throwable e) {
            if (result != null) return;
            FIRST_FAILURE.compareAndSet(this, null, e);
            FAILURES.getAndAdd(this, 1);                 // after firstFailure: the waiter sees it set
            LockSupport.unpark(waiter);
        }
    }
}
