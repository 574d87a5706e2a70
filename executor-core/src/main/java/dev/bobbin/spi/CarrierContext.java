package dev.bobbin.spi;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * What an I/O backend may know about a carrier: the one its {@link CarrierDriver} runs on (given to
 * {@link CarrierDriverFactory#open}), or the one the calling code runs on right now ({@link #current()}).
 * This is the whole seam between the scheduler and backends: a backend needs nothing else of the
 * scheduler, and the scheduler asks drivers only through {@link CarrierDriver}.
 */
public interface CarrierContext {

    /**
     * The carrier the caller runs on right now (a fiber mounted on it, or the carrier thread itself), or
     * null when the caller is not on a Bobbin carrier. A fiber may move at its next blocking point, so an
     * I/O operation looks this up once and uses the answer before it blocks.
     */
    static CarrierContext current() {
        return CurrentCarrier.lookup.get();
    }

    /**
     * For the scheduler only: installs how {@link #current()} finds the caller's carrier. Called once,
     * when the scheduler's carrier class initializes.
     *
     * @throws IllegalCallerException if the caller is not the scheduler's carrier class (another would take
     *                                 the scheduler's place for every backend)
     */
    static void installLookup(Supplier<CarrierContext> lookup) {
        Objects.requireNonNull(lookup, "lookup");
        SchedulerCaller.require("the carrier lookup");
        CurrentCarrier.lookup = lookup;
    }

    /** The scheduler's name. */
    String schedulerName();

    /**
     * This carrier's index: 0 to the scheduler's parallelism - 1 for its regular carriers; spare carriers
     * (put into service while regular ones are stalled) have the indices after those.
     */
    int carrierIndex();

    /** The carrier's platform thread. */
    Thread carrierThread();

    /**
     * Whether the calling code runs on this carrier: on the carrier thread itself, or in a fiber that is
     * mounted on it right now. An I/O driver uses this to take its in-loop fast path from fibers (a
     * mounted fiber is a different {@code Thread} object than its carrier).
     */
    boolean isCurrentCarrier();

    /**
     * Whether this is a spare carrier: one the scheduler puts into service only while its regular
     * carriers are stalled, and retires afterwards. Spares have the indices after the regular carriers.
     */
    boolean isSpare();

    /**
     * Whether the fiber running on this carrier right now (the caller) may move to another carrier at
     * its next blocking point: an unbound fiber of a work-stealing scheduler with more than one carrier
     * (spare carriers included: with one regular carrier a fiber moves to a spare and back).
     * False on the carrier thread itself and for bound fibers. Backends use it to place a new socket on a
     * less loaded carrier, where the fiber then follows its completions.
     */
    boolean currentFiberMayMove();

    /** This carrier's driver, or null before it is open. */
    CarrierDriver driver();

    /**
     * An object that identifies this carrier's scheduler: the same for all its carriers, spares included,
     * and different for any other scheduler. For backends that keep state per scheduler (a map key).
     */
    Object scheduler();
}

/** Where {@link CarrierContext#current()} looks; the scheduler installs the real lookup. */
final class CurrentCarrier {
    static volatile Supplier<CarrierContext> lookup = () -> null; // volatile: installed once by the scheduler

    private CurrentCarrier() { }
}
