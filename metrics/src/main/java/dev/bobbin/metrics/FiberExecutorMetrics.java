package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Micrometer meters of one {@link FiberExecutor}, named as Micrometer's own {@code ExecutorServiceMetrics}
 * names them (with the same base units) and tagged {@code name=<executor name>}: {@code executor.active}
 * (tasks running now, in threads: each task runs on a fiber of its own),
 * {@code executor.queued} (tasks waiting for a slot of a bounded executor) and {@code executor.completed}
 * (tasks finished). The carriers, queues and fibers underneath are its scheduler's, bound with
 * {@link BobbinMetrics#of(dev.bobbin.FiberScheduler)}. Give executors and schedulers bound to one registry
 * distinct names, since both use the {@code executor.*} names with a {@code name} tag: a registry hands back
 * a meter it has for the same name and tags, so this executor's figures would not be seen, and
 * {@link #bindTo} refuses such a binding with an {@link IllegalArgumentException} naming the meter. The
 * meters are removed when the executor terminates, or by {@link #close()}. Thread-safe.
 *
 * <pre>{@code
 * FiberExecutor orders = FiberExecutor.builder().name("orders").build();
 * BobbinMetrics.of(orders).bindTo(registry);
 * }</pre>
 */
public final class FiberExecutorMetrics implements MeterBinder, AutoCloseable {
    private final FiberExecutor executor;
    private final Tags tags;
    private final Map<MeterRegistry, MeterClaims.Bound> bindings = new IdentityHashMap<>(); // guarded by this
    private boolean closed;                     // guarded by this
    private boolean closeOnTermination;         // guarded by this: the termination hook is registered

    FiberExecutorMetrics(FiberExecutor executor, Iterable<Tag> extraTags) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.tags = Tags.of("name", executor.name()).and(Objects.requireNonNull(extraTags, "tags"));
    }

    /**
     * Registers the meters in {@code registry}; nothing if they are there already (bound by a binder of this
     * executor) or this binder is closed. They are removed when the executor terminates, or by {@link #close()}.
     *
     * @throws IllegalArgumentException if a meter of the same name and tags is in {@code registry} already for
     *                                  another executor or a scheduler, or from elsewhere; nothing is registered
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (closed || bindings.containsKey(registry)) return;
        if (!closeOnTermination) {
            closeOnTermination = true;
            executor.onTermination(ClosesIfReachable.of(this));
            if (closed) return;                       // terminated already: the hook ran at once
        }
        // the gauges hold this binder strongly: the executor's termination hook holds it only weakly, and a
        // binder bound and dropped (BobbinMetrics.of(executor).bindTo(registry)) must still remove its meters
        MeterClaims.Bound bound = MeterClaims.bind(registry, executor, "executor", reg -> {
            // threads, as Micrometer's binder says of the JDK's thread-per-task executor: each task has its own fiber
            reg.register("executor.active", tags, r -> Gauge.builder("executor.active", this,
                            b -> Math.max(0, b.executor.activeCount() - b.executor.queuedTaskCount()))
                    .description("Tasks of this executor running now, each on its own fiber").baseUnit("threads").tags(tags)
                    .strongReference(true).register(r));
            reg.register("executor.queued", tags, r -> Gauge.builder("executor.queued", this, b -> b.executor.queuedTaskCount())
                    .description("Tasks waiting for a slot of this bounded executor").baseUnit("tasks").tags(tags)
                    .strongReference(true).register(r));
            reg.register("executor.completed", tags, r -> FunctionCounter.builder("executor.completed", this,
                            b -> b.executor.completedTaskCount())
                    .description("Tasks of this executor that finished, normally or not").baseUnit("tasks").tags(tags)
                    .register(r));
        });
        if (bound != null) bindings.put(registry, bound);   // null: bound there by another binder of this executor
    }

    /** Removes the meters from every registry they were bound to. Idempotent; called when the executor terminates. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (MeterClaims.Bound b : bindings.values()) MeterClaims.release(b);
        bindings.clear();
    }
}
