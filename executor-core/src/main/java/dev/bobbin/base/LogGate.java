package dev.bobbin.base;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Lets at most one event per interval pass and counts the events it holds back: the gate in front of each
 * of Bobbin's rate-limited log lines (one WARNING or ERROR per interval, which says how many were held
 * back since it last passed one; those go to DEBUG).
 *
 * <p>Implementation overview. {@code nextOpen} is the clock time from which the gate is open again
 * ({@code NEVER} until an event passes). An event that finds it open claims the interval with one CAS,
 * which moves {@code nextOpen} one interval past the event's time; of events arriving at the same moment
 * exactly one wins the CAS and passes, the others are held back. Each held-back event adds one to
 * {@code heldBack}; the event that passes takes that count and zeroes it. Clock times are compared by
 * their difference, so {@code System.nanoTime}'s wrap does no harm.
 *
 * <p>Memory ordering: the two atomics only decide which event passes and count the others; they publish
 * nothing else, so they pair with nothing but each other's reads. An event held back while another passes
 * is counted in that one's figure or in the next one's; no event is lost from the counts.
 */
public final class LogGate {
    private static final long NEVER = Long.MIN_VALUE;
    private static final VarHandle NEXT_OPEN = VarHandles.field(MethodHandles.lookup(), LogGate.class, "nextOpen", long.class);
    private static final VarHandle HELD_BACK = VarHandles.field(MethodHandles.lookup(), LogGate.class, "heldBack", long.class);

    private final long intervalNanos;
    private final LongSupplier clock;                 // System.nanoTime, or a test's
    @SuppressWarnings("unused") private volatile long nextOpen = NEVER;   // CAS in pass()
    @SuppressWarnings("unused") private volatile long heldBack;           // events held back since the last pass

    /** A gate on {@link System#nanoTime()} that opens once per {@code intervalNanos}. */
    public LogGate(long intervalNanos) {
        this(intervalNanos, System::nanoTime);
    }

    /**
     * A gate on {@code clock} (nanoseconds, compared by difference as {@code nanoTime}'s are) that opens once
     * per {@code intervalNanos}.
     *
     * @throws IllegalArgumentException if {@code intervalNanos} is not positive
     * @throws NullPointerException     if {@code clock} is null
     */
    public LogGate(long intervalNanos, LongSupplier clock) {
        if (intervalNanos <= 0) throw new IllegalArgumentException("intervalNanos must be > 0: " + intervalNanos);
        this.intervalNanos = intervalNanos;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * One event: {@code -1} if the gate holds it back (it is counted), else it passes and the result is
     * the number of events held back since the last one passed.
     */
    public long pass() {
        long now = clock.getAsLong();
        long next = (long) NEXT_OPEN.getVolatile(this);
        if ((next == NEVER || now - next >= 0) && NEXT_OPEN.compareAndSet(this, next, now + intervalNanos)) {
            return (long) HELD_BACK.getAndSet(this, 0L);
        }
        HELD_BACK.getAndAdd(this, 1L);
        return -1;
    }

    /** As if no event had passed or been held back: the next event passes. For tests. */
    public void reset() {
        HELD_BACK.setVolatile(this, 0L);
        NEXT_OPEN.setVolatile(this, NEVER);
    }
}
