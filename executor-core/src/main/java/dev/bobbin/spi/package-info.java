/**
 * The seam between the scheduler and I/O backends.
 *
 * <p>A backend supplies a {@link dev.bobbin.spi.CarrierDriverFactory}; each carrier opens one
 * {@link dev.bobbin.spi.CarrierDriver} on its own thread and drives it between fibers: {@code poll()} every
 * few dozen tasks and when idle, {@code park(timeout)} instead of parking the thread when there is no work,
 * {@code wakeup()} from any thread to end a park, {@code close()} once at exit, and
 * {@code abortResources()} when the scheduler shuts down now, and {@code carrierStalled()} while the carrier
 * has been running one fiber for a time slice (so that another thread may serve the driver's I/O
 * meanwhile; {@code heldByStall()} says what waits if nobody does). The driver learns about its carrier only through {@link dev.bobbin.spi.CarrierContext} and
 * reports counters through {@link dev.bobbin.spi.DriverStats}. Threading rules are on each method:
 * everything but {@code wakeup}, {@code stats}, {@code abortResources}, {@code carrierStalled} and
 * {@code heldByStall} runs on the owning carrier thread.
 */
package dev.bobbin.spi;
