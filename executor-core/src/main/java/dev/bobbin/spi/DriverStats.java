package dev.bobbin.spi;

import java.util.List;

/**
 * What a {@link CarrierDriver} reports for monitoring: the I/O transport it uses and a fixed set of
 * cumulative counters. {@link dev.bobbin.FiberScheduler#stats()} copies them into each carrier's
 * {@link dev.bobbin.SchedulerStats.CarrierStats#driverCounters()}, and the metrics module turns each
 * counter into a meter {@code bobbin.driver.<name>} tagged with the carrier and the transport.
 *
 * <p>An I/O backend keeps its counters as plain fields written by the owning carrier (opaque writes
 * are enough) and returns the same {@code DriverStats} object from every call to
 * {@link CarrierDriver#stats()}. The recommended counter names for an event-loop backend are
 * {@code submissions} (operations submitted to the kernel), {@code completions} (completions reaped)
 * and {@code wakeups} (wakeups of a parked carrier's event loop by another thread).
 *
 * <p>Threading: any thread may call these methods, also after the driver is closed (the values then
 * stay at their last count).
 */
public interface DriverStats {

    /**
     * The transport in use, lower case: e.g. {@code "io_uring"} or {@code "epoll"}; {@code "none"} for a
     * driver that does no I/O.
     */
    String transport();

    /** The counters' names, the same list on every call; lower case words separated by dots. */
    List<String> counterNames();

    /**
     * The value of counter {@code index} (a position in {@link #counterNames()}): cumulative and
     * non-decreasing.
     */
    long counter(int index);

    /** Stats of a driver without I/O: transport {@code "none"}, no counters. */
    static DriverStats none() {
        return NoDriverStats.INSTANCE;
    }
}
