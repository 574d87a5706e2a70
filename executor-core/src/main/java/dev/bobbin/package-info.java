/**
 * Bobbin's public API: what applications touch.
 *
 * <ul>
 *   <li>{@link dev.bobbin.FiberScheduler} and its immutable {@link dev.bobbin.SchedulerConfig}: a set of
 *       carrier threads that run fibers (JDK virtual threads) under a {@link dev.bobbin.SchedulingPolicy};
 *       {@link dev.bobbin.SchedulerStats} and {@link dev.bobbin.FiberDump} observe it.</li>
 *   <li>{@link dev.bobbin.FiberExecutor}: an {@link java.util.concurrent.ExecutorService} on fibers with
 *       the JDK's thread-per-task semantics, optionally bounded.</li>
 *   <li>The thread-model doors: {@link dev.bobbin.CarrierLocal} (per-carrier data) and
 *       {@link dev.bobbin.Confined} (a non-thread-safe object graph that moves between fibers as a unit).</li>
 * </ul>
 *
 * <p>Layout. The engine lives in {@code dev.bobbin.scheduler} (carriers, idle/wake protocol, stall monitor,
 * the adapter to the JDK's virtual-thread internals) and {@code dev.bobbin.scheduler.queue} (the run and
 * injection queues), with {@code dev.bobbin.base} below them all; I/O backends plug in through
 * {@code dev.bobbin.spi}. Dependencies point one way, down: this package uses the engine and maps its
 * {@link dev.bobbin.SchedulerConfig} to the engine's own {@code EngineConfig} and the engine's
 * {@code EngineStats} to {@link dev.bobbin.SchedulerStats}; the engine names no type of this package
 * (see {@code dev.bobbin.scheduler}'s overview). The engine packages are public
 * classes because Java has no narrower visibility across packages; they are not API and may change in
 * any release. Jars carry {@code Automatic-Module-Name} ({@code dev.bobbin.core} for this module)
 * rather than a {@code module-info}: on the module path the required
 * {@code --add-opens java.base/java.lang} would then have to name Bobbin's module instead of
 * {@code ALL-UNNAMED}, and the io_uring backend's Netty dependency ships as automatic modules too.
 *
 * <p>Threading: every public type here is thread-safe unless its documentation says otherwise
 * ({@link dev.bobbin.Confined} is owned by one fiber at a time by design).
 */
package dev.bobbin;
