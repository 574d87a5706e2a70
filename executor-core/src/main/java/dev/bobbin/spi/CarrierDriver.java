package dev.bobbin.spi;

/**
 * The per-carrier hook through which an I/O backend runs its event loop on a Bobbin carrier.
 *
 * <p>Each carrier owns one driver, created on the carrier thread by a {@link CarrierDriverFactory}
 * and closed on it when the carrier stops. The carrier's duty cycle is: run fibers from its queues,
 * call {@link #poll()} every few dozen fibers and whenever its queues are empty, try to steal, and
 * when there is still nothing to do, block in {@link #park(long)}. An io_uring driver submits and reaps
 * in {@code poll()} and waits for completions in {@code park}, so the same thread that resumes a fiber
 * also reaps the completion that made it runnable.
 *
 * <p>Threading: {@link #poll()}, {@link #park(long)} and {@link #close()} are called only on the owning
 * carrier thread; {@link #wakeup()} and {@link #stats()} are called from any thread, {@link #carrierStalled()}
 * and {@link #heldByStall()} from the scheduler's monitor thread.
 */
public interface CarrierDriver {

    /**
     * Does whatever I/O work is ready without blocking, e.g. submits queued operations and processes
     * completions (resuming fibers, which then land on this carrier's queue).
     *
     * @return the number of events handled; 0 when there was nothing to do
     */
    int poll();

    /**
     * Blocks the carrier until {@link #wakeup()} is called, the driver has events, or the timeout
     * elapses. Must return promptly if {@code wakeup()} was called since the previous {@code park} began
     * (a permit, as {@link java.util.concurrent.locks.LockSupport#unpark} gives). Spurious returns are
     * allowed.
     *
     * @param timeoutNanos the longest time to block, or a negative value for no limit
     */
    void park(long timeoutNanos);

    /** Makes the carrier's current or next {@link #park(long)} return. Any thread; cheap when not parked. */
    void wakeup();

    /**
     * Runs the carrier's duty cycle (its loop until it stops, then {@link #close()}), on the carrier
     * thread, right after the driver opened. A driver may wrap it in per-thread context that must last the
     * carrier's life, such as an I/O library's registration of the thread for its per-thread caches. The
     * default runs it as is. Must run {@code dutyCycle} exactly once and return when it returns or throws.
     */
    default void runCarrier(Runnable dutyCycle) {
        dutyCycle.run();
    }

    /**
     * Whether an idle carrier may spin briefly before blocking in {@link #park(long)}: worth it when
     * parking is a futex wait that a waker must pay for (a plain CPU carrier), not when the driver waits
     * for I/O completions that wake it anyway. Asked once, after the driver opened. Default false.
     */
    default boolean spinsWhenIdle() {
        return false;
    }

    /**
     * The carrier has run one fiber for at least a scheduling time slice (10 ms) without coming back to
     * its driver, so nothing polls or parks in the driver meanwhile: I/O completions for the carrier's
     * sockets are not being processed. A driver may let another thread serve them until the carrier's
     * next {@link #poll()}, {@link #park(long)} or {@link #close()}, which must then take the driver back
     * before doing anything else; fibers such a helper resumes are submitted from outside the carriers
     * (to the injection queue, or to a bound fiber's home carrier). Called by the scheduler's monitor
     * thread, once per sample while the stall lasts, under {@link dev.bobbin.SchedulingPolicy#WORK_STEALING}
     * with stall protection on; the report may be stale (the carrier may have moved on already), so
     * acting on it must be harmless at any time. Must not block. The default does nothing.
     */
    default void carrierStalled() {
    }

    /**
     * While the carrier is stalled: what of this driver waits for the carrier that no other thread serves
     * meanwhile, as a phrase for the stall's WARNING (say, "12 sockets on its event loop wait for it"), or
     * null if nothing does. A stall that holds such work up past the warning limit is logged even with no
     * runnable fiber behind it. Called by the scheduler's monitor thread on a stalled carrier's driver,
     * racily; must not block. The default holds nothing.
     */
    default String heldByStall() {
        return null;
    }

    /** Releases the driver's resources. Called once, on the carrier thread, after its last {@code poll}. */
    void close();

    /**
     * The scheduler is shutting down now ({@code FiberScheduler.shutdownNow()}): close the resources this
     * driver owns that fibers may be blocked on (sockets), so that those fibers wake up with the usual
     * "closed" exception instead of waiting for I/O that will never come. Any thread, possibly while the
     * carrier is polling; may be called more than once. The default owns nothing.
     */
    default void abortResources() {
    }

    /**
     * The driver's monitoring counters and transport name (see {@link DriverStats}). Any thread, also
     * after {@link #close()}; should return the same object every time. The default reports no I/O.
     */
    default DriverStats stats() {
        return DriverStats.none();
    }
}
