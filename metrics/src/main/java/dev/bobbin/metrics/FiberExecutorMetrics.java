package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Micrometer meters of one {@link FiberExecutor}, named as Micrometer's own {@code ExecutorServiceMetrics}
 * names them (with the same base units) and tagged {@code name=<executor name>}: {@code executor.active}
 * (tasks running now, in threads: each task runs on a fiber of its own),
 * {@code executor.queued} (tasks waiting for a slot of a bounded executor) and {@code executor.completed}
 * (tasks finished). The carriers, queues and fibers underneath are its scheduler's, bound with
 * {@link BobbinMetrics#of(dev.bobbin.FiberScheduler)}; give executors and schedulers distinct names, since
 * both use the {@code executor.*} names with a {@code name} tag (a meter that exists already is left as it
 * is). The meters are removed when the executor terminates, or by {@link #close()}. Thread-safe.
 *
 * <pre>{@code
 * FiberExecutor orders = FiberExecutor.builder().name("orders").build();
 * BobbinMetrics.of(orders).bindTo(registry);
 * }</pre>
 */
public final class FiberExecutorMetrics implements MeterBinder, AutoCloseable {
    private final FiberExecutor executor;
    private final Tags tags;
    private final Map<MeterRegistry, List<Meter.Id>> bindings = new IdentityHashMap<>(); // guarded by this
    private boolean closed;                     // guarded by this
    private boolean closeOnTermination;         // guarded by this: the termination hook is registered

    FiberExecutorMetrics(FiberExecutor executor, Iterable<Tag> extraTags) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.tags = Tags.of("name", executor.name()).and(Objects.requireNonNull(extraTags, "tags"));
    }

    /**
     * Registers the meters in {@code registry}; nothing if they are there already or this binder is
     * closed. They are removed when the executor terminates, or by {@link #close()}.
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (closed || bindings.containsKey(registry)) return;
        if (registry.find("executor.completed").tags(tags).meter() != null) return;   // bound by another binder
        if (!closeOnTermination) {
            closeOnTermination = true;
            executor.onTermination(ClosesIfReachable.of(this));
            if (closed) return;                       // terminated already: the hook ran at once
        }
        List<Meter.Id> ids = new ArrayList<>();
        // the gauges hold this binder strongly: the executor's termination hook holds it only weakly, and a
        // binder bound and dropped (BobbinMetrics.of(executor).bindTo(registry)) must still remove its meters
        // threads, as Micrometer's binder says of the JDK's thread-per-task executor: each task has its own fiber
        ids.add(Gauge.builder("executor.active", this, b -> Math.max(0, b.executor.activeCount() - b.executor.queuedTaskCount()))
                .description("Tasks of this executor running now, each on its own fiber").baseUnit("threads").tags(tags)
                .strongReference(true).register(registry).getId());
        ids.add(Gauge.builder("executor.queued", this, b -> b.executor.queuedTaskCount())
                .description("Tasks waiting for a slot of this bounded executor").baseUnit("tasks").tags(tags)
                .strongReference(true).register(registry).getId());
        ids.add(FunctionCounter.builder("executor.completed", this, b -> b.executor.completedTaskCount())
                .description("Tasks of this executor that finished, normally or not").baseUnit("tasks").tags(tags)
                .register(registry).getId());
        bindings.put(registry, ids);
    }

    /** Removes the meters from every registry they were bound to. Idempotent; called when the executor terminates. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Map.Entry<MeterRegistry, List<Meter.Id>> e : bindings.entrySet()) {
            for (Meter.Id id : e.getValue()) e.getKey().remove(id);
        }
        bindings.clear();
    }
}
