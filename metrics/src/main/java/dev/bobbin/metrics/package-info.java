/**
 * Micrometer meters of Bobbin's schedulers, executors and sockets (fiber dumps and the JFR events come from
 * executor-core).
 *
 * <p>{@link dev.bobbin.metrics.BobbinMetrics} binds a {@link dev.bobbin.FiberScheduler}'s
 * {@link dev.bobbin.SchedulerStats} to a {@code MeterRegistry}, {@link dev.bobbin.metrics.FiberIoMetrics}
 * a {@link dev.bobbin.uring.FiberIo}'s socket counters, and {@link dev.bobbin.metrics.FiberExecutorMetrics}
 * a {@link dev.bobbin.FiberExecutor}. Every meter but one is a function meter that reads a stats snapshot
 * when the registry is scraped, so binding costs the carriers nothing on their hot path; the exception is
 * the {@code bobbin.scheduling.delay} timer, which each measured scheduling delay (one submission in 64 per
 * carrier by default) records on its carrier. The meters' names,
 * tags and Prometheus forms are listed in the module's README.
 *
 * <p>Dependencies: the public API of executor-core ({@code dev.bobbin}) and of the I/O backend
 * ({@code dev.bobbin.uring}), and Micrometer; never the engine packages. Threading: binders may be called
 * from any thread; the meters they register are read by the registry's threads.
 */
package dev.bobbin.metrics;
