package dev.bobbin.spi;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Runs a short piece of driver code with the calling fiber pinned to its carrier: for code that may
 * contend a JDK monitor which a carrier also takes while it drives its own I/O loop.
 *
 * <p>Why. Since JDK 24 a virtual thread that finds a monitor taken unmounts instead of blocking its
 * carrier; when the monitor is released, the JDK makes that virtual thread the monitor's successor and
 * hands it to its scheduler to retry, and other threads contending the monitor wait for it. A carrier can
 * be one of them: NIO's selector takes its wakeup lock in {@code Selector.wakeup()}, which a fiber calls
 * to hand work to another carrier's loop, and in the selecting carrier's own event processing. If the
 * fiber can be resumed only on the carrier that waits (a fiber bound to that carrier, or one queued on
 * it), neither runs again. Pinned, a fiber that contends the monitor blocks the carrier it runs on, as a
 * platform thread would, so a carrier waiting for the monitor only ever waits for threads that run. The
 * JDK pins a virtual thread the same way while it hands the thread's continuation to its scheduler, so a
 * scheduler's own locks are safe; driver code that a fiber calls directly (queueing an operation on
 * another carrier's loop) needs this.
 *
 * <p>The action must not block for long: a pinned fiber that blocks holds its carrier meanwhile. Platform
 * threads run the action as it is.
 */
public final class PinnedSection {
    // volatile: installed once by the scheduler when its carrier class initializes, before any fiber runs;
    // until then no caller is a Bobbin fiber and the action runs as it is
    private static volatile Consumer<Runnable> pinning = Runnable::run;

    private PinnedSection() { }

    /** Runs {@code action} with the calling fiber pinned to its carrier (a platform thread just runs it). */
    public static void run(Runnable action) {
        Objects.requireNonNull(action, "action");
        pinning.accept(action);
    }

    /**
     * Installs how the scheduler pins its fibers; called once, by the scheduler when its carrier class
     * initializes. Drivers never call it.
     *
     * @throws IllegalCallerException if the caller is not the scheduler's carrier class (another would take
     *                                 the scheduler's place for every driver)
     */
    public static void install(Consumer<Runnable> pinning) {
        Objects.requireNonNull(pinning, "pinning");
        SchedulerCaller.require("the pinning");
        PinnedSection.pinning = pinning;
    }
}
