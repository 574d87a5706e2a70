package dev.bobbin.scheduler;

import dev.bobbin.base.LinePadding;
import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The handshake between a carrier going to sleep and the thread that wakes it, which decides whether the
 * wake needs a call into the carrier's driver (a futex or eventfd system call on both sides).
 *
 * <p>Implementation overview. Two flags. {@code asleep}: the carrier is on the sleeper stack of
 * {@link IdleCarriers} (set and cleared under its lock, through {@link IdleCarriers.Sleeper}).
 * {@code blocked}: the carrier has finished spinning and may be blocked in its driver. A carrier that
 * registered as a sleeper first spin-waits for {@code asleep} to clear, then commits to blocking:
 * <pre>
 *   carrier                                  waker (after taking it off the sleeper stack)
 *   spin while asleep                        asleep = false          (volatile write)
 *   blocked = true         (volatile write)  if blocked              (volatile read)
 *   while asleep: block in the driver            wake the driver
 *   blocked = false
 * </pre>
 * The two volatile write/read pairs form a Dekker handshake (volatile accesses are totally ordered): the
 * carrier's read of {@code asleep} after its write of {@code blocked} and the waker's read of
 * {@code blocked} after its write of {@code asleep} cannot both miss the other's write. So either the
 * carrier sees that it is awake and never blocks, or the waker sees {@code blocked} and wakes the
 * driver. A waker that sees {@code blocked} just before the carrier clears it wakes a driver that is not
 * blocked; the driver keeps that as a permit and its next park returns at once, which the carrier's park
 * loop tolerates. Tested with jcstress, with a broken twin ({@code WakeHandshakeJcstress}).
 *
 * <p>The pause after a driver failure. A carrier whose driver's poll or park threw pauses in
 * {@code LockSupport.parkNanos} (the driver may be broken), outside the flags above, and any wakeup must
 * end that pause early. Two more words, the same shape of handshake: {@code wakes} counts the wakeups
 * ({@link #noteWake}), {@code failurePaused} says the carrier is in that pause.
 * <pre>
 *   carrier                                   waker
 *   seen = wakes          (before the driver) wakes += 1             (volatile add)
 *   failurePaused = true  (volatile write)    if failurePaused       (volatile read)
 *   if wakes == seen: parkNanos(pause)            LockSupport.unpark(carrier)
 *   failurePaused = false
 * </pre>
 * Either the carrier sees a wakeup that came after {@code seen} and skips the pause, or the waker sees
 * {@code failurePaused} and unparks it. An unpark that comes after the pause leaves a permit, which only
 * makes the carrier's next {@code LockSupport} park return early, as a spurious return may. Tested with
 * jcstress, with a broken twin ({@code WakeHandshakeJcstress.PauseVsWakeReadFirst}).
 */
public class WakeHandshake extends WakeHandshakeFields {
    private static final VarHandle ASLEEP = VarHandles.field(MethodHandles.lookup(), WakeHandshakeFields.class, "asleep", boolean.class);
    private static final VarHandle BLOCKED = VarHandles.field(MethodHandles.lookup(), WakeHandshakeFields.class, "blocked", boolean.class);
    private static final VarHandle WAKES = VarHandles.field(MethodHandles.lookup(), WakeHandshakeFields.class, "wakes", int.class);
    private static final VarHandle FAILURE_PAUSED = VarHandles.field(MethodHandles.lookup(), WakeHandshakeFields.class, "failurePaused", boolean.class);

    @SuppressWarnings("unused")                 // after the flags: see LinePadding
    private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

    /** On the sleeper stack; under the IdleCarriers lock. */
    final void markAsleep() { ASLEEP.setVolatile(this, true); }

    /** Off the sleeper stack; under the IdleCarriers lock, before {@link #driverMayBlock}. */
    final void markAwake() { ASLEEP.setVolatile(this, false); }

    /** Whether the carrier is (still) on the sleeper stack. Volatile read; pairs with the writes above. */
    final boolean isAsleep() { return (boolean) ASLEEP.getVolatile(this); }

    /** Carrier: spin-waits up to {@code spins} iterations for a waker; true while still asleep. */
    final boolean spinWhileAsleep(int spins) {
        for (int i = spins; i > 0; i--) {
            if (!isAsleep()) return false;
            Thread.onSpinWait();
        }
        return isAsleep();
    }

    /**
     * Carrier, after spinning: publishes that it may block, then re-reads {@code asleep}. True if it is
     * still asleep and must block in its driver (every waker from now on wakes the driver).
     */
    boolean commitToBlock() {
        BLOCKED.setVolatile(this, true);         // Dekker: publish blocked, then read asleep (waker: the reverse)
        return isAsleep();
    }

    /** Carrier, awake again: wakers stop calling into the driver. */
    final void unblock() { BLOCKED.setVolatile(this, false); }

    /** Waker, after {@link #markAwake}: whether the driver must be woken. Volatile read; Dekker with commitToBlock. */
    final boolean driverMayBlock() { return (boolean) BLOCKED.getVolatile(this); }

    /** Carrier, before calling into its driver: the wakeups so far. Volatile read; pairs with noteWake's add. */
    final int wakesSoFar() { return (int) WAKES.getVolatile(this); }

    /**
     * Carrier, after its driver threw: publishes that it pauses, then re-reads the wakeups. True if none
     * came since {@code seen} and it must pause (every waker from now on unparks it).
     */
    boolean commitToFailurePause(int seen) {
        FAILURE_PAUSED.setVolatile(this, true);  // Dekker: publish the pause, then read wakes (waker: the reverse)
        return wakesSoFar() == seen;
    }

    /** Carrier, after that pause. */
    final void endFailurePause() { FAILURE_PAUSED.setVolatile(this, false); }

    /**
     * Waker, at every driver wakeup: counts it, then reads whether the carrier pauses after a driver
     * failure; true if it must also be unparked. Volatile add, then volatile read; Dekker with
     * commitToFailurePause.
     */
    final boolean noteWake() {
        WAKES.getAndAdd(this, 1);
        return (boolean) FAILURE_PAUSED.getVolatile(this);
    }
}

/**
 * A {@link WakeHandshake}'s words, behind 128 bytes of padding ({@link LinePadding}): the carrier and
 * its wakers write them at every park and wake, and each carrier's handshake is allocated beside that
 * carrier's other objects.
 */
abstract class WakeHandshakeFields extends LinePadding {
    @SuppressWarnings("unused") volatile boolean asleep;
    @SuppressWarnings("unused") volatile boolean blocked;
    @SuppressWarnings("unused") volatile boolean failurePaused;
    @SuppressWarnings("unused") volatile int wakes;
}
