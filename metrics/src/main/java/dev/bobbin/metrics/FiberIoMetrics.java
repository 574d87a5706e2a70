package dev.bobbin.metrics;

import dev.bobbin.uring.FiberIo;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters of one {@link FiberIo} runtime (its {@link FiberIo.IoStats}), tagged with the transport:
 * open sockets, socket operations run on the socket's own loop or routed to it from another carrier, and
 * where completions resumed their fibers. The per-carrier driver counters are the scheduler's
 * ({@code bobbin.driver.*}, {@link BobbinMetrics}). Needs {@code bobbin-io-uring-backend} on the class
 * path. Thread-safe; binding twice to one registry registers each meter once. There is one {@code FiberIo}
 * per transport, and its meters are tagged with it, so no two runtimes share a meter; a meter of the same
 * name and tags that something else registered is refused, as {@link BobbinMetrics} and
 * {@link FiberExecutorMetrics} refuse theirs.
 */
public final class FiberIoMetrics implements MeterBinder {
    private final FiberIo io;
    private final Tags tags;

    private FiberIoMetrics(FiberIo io) {
        this.io = io;
        this.tags = Tags.of("transport", io.transport().id());
    }

    /** Meters of {@code io}, tagged {@code transport=<io_uring|epoll|nio>}. */
    public static FiberIoMetrics of(FiberIo io) {
        return new FiberIoMetrics(Objects.requireNonNull(io, "io"));
    }

    /**
     * Registers the meters, once per registry: another binder of the same runtime binds nothing.
     *
     * @throws IllegalArgumentException if one of the meters is in the registry already from elsewhere (the
     *                                  application, another library, or a meter filter that made two ids one);
     *                                  nothing of this binding is then left registered
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        MeterClaims.bind(registry, io, "io runtime", reg -> {
            reg.register("bobbin.io.sockets.open", tags, r -> Gauge.builder("bobbin.io.sockets.open", io, i -> i.stats().openSockets())
                    .description("Sockets and server sockets whose descriptor is open").tags(tags).register(r));
            counter(reg, "bobbin.io.operations.local", "Socket operations run on the socket's own loop",
                    s -> s.localOperations());
            counter(reg, "bobbin.io.operations.routed", "Socket operations routed to the socket's loop from another carrier",
                    s -> s.routedOperations());
            counter(reg, "bobbin.io.completions.own.loop", "Completions reaped on the loop that owns the socket",
                    s -> s.completedOnOwnLoop());
            counter(reg, "bobbin.io.resumed.local", "Fibers resumed on the carrier that reaped their completion",
                    s -> s.resumedOnCompletingCarrier());
            counter(reg, "bobbin.io.resumed.elsewhere", "Fibers resumed on another carrier than the one that reaped their completion",
                    s -> s.resumedElsewhere());
        });
    }

    private void counter(MeterClaims.Registrations reg, String name, String description, ToDoubleFunction<FiberIo.IoStats> f) {
        reg.register(name, tags, r -> FunctionCounter.builder(name, io, i -> f.applyAsDouble(i.stats()))
                .description(description).tags(tags).register(r));
    }
}
