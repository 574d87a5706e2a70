package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;

/**
 * Micrometer meters of one {@link FiberExecutor}, named as Micrometer's own {@code ExecutorServiceMetrics}
 * names them (with the same base units) and tagged {@code name=<executor name>}: {@code executor.active}
 * (tasks running now, in threads: each task runs on a fiber of its own),
 * {@code executor.queued} (tasks waiting for a slot of a bounded executor) and {@code executor.completed}
 * (tasks finished). The carriers, queues and fibers underneath are its scheduler's, bound with
 * {@link BobbinMetrics#of(dev.bobbin.FiberScheduler)}; give executors and schedulers distinct names, since
 * both use the {@code executor.*} names with a {@code name} tag (a meter that exists already is left as it
 * is). Thread-safe.
 *
 * <pre>{@code
 * FiberExecutor orders = FiberExecutor.builder().name("orders").build();
 * BobbinMetrics.of(orders).bindTo(registry);
 * }</pre>
 */
public final class FiberExecutorMetrics implements MeterBinder {
    private final FiberExecutor executor;
    private final Tags tags;

    FiberExecutorMetrics(FiberExecutor executor, Iterable<Tag> extraTags) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.tags = Tags.of("name", executor.name()).and(Objects.requireNonNull(extraTags, "tags"));
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (registry.find("executor.completed").tags(tags).meter() != null) return;   // bound already
        // threads, as Micrometer's binder says of the JDK's thread-per-task executor: each task has its own fiber
        Gauge.builder("executor.active", executor, e -> e.activeCount() - e.queuedTaskCount())
                .description("Tasks of this executor running now, each on its own fiber").baseUnit("threads").tags(tags)
                .register(registry);
        Gauge.builder("executor.queued", executor, FiberExecutor::queuedTaskCount)
                .description("Tasks waiting for a slot of this bounded executor").baseUnit("tasks").tags(tags).register(registry);
        FunctionCounter.builder("executor.completed", executor, FiberExecutor::completedTaskCount)
                .description("Tasks of this executor that finished, normally or not").baseUnit("tasks").tags(tags)
                .register(registry);
    }
}
