package dev.bobbin.spi;

/**
 * What a {@link CarrierDriver} may know about the carrier it runs on.
 */
public interface CarrierContext {

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
}
