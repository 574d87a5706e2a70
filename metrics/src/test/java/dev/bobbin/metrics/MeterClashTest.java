package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingDelaySampling;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two schedulers or executors bound to one registry under the same meter names and tags: a registry hands
 * the second binder the first's meters (an identical id), so the second would report the first's figures and
 * be invisible itself. Its binding is refused with an {@link IllegalArgumentException} naming the meter,
 * and leaves the registry as it was; distinct tags, or the first one's termination, make room.
 */
class MeterClashTest {

    static FiberScheduler scheduler(String name) {
        return FiberScheduler.create(SchedulerConfig.builder().name(name).parallelism(1)
                .schedulingDelaySampling(SchedulingDelaySampling.everyFiber()).build());
    }

    @Test
    void aSecondSchedulerOfTheSameNameAndTagsIsRefused() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler first = scheduler("dup"); FiberScheduler second = scheduler("dup")) {
            BobbinMetrics.of(first).bindTo(r);
            List<Meter> before = r.getMeters();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(second).bindTo(r));
            assertTrue(e.getMessage().contains("executor.pool.size") && e.getMessage().contains("name=dup"), e.getMessage());
            assertEquals(before.size(), r.getMeters().size(), "the refused binding left no meter behind");

            BobbinMetrics.of(second, Tags.of("instance", "2")).bindTo(r);   // a tag of its own sets it apart
            assertEquals(2, r.find("executor.pool.size").tag("name", "dup").gauges().size());
        }
    }

    @Test
    void aSchedulerBoundAfterTheFirstOneTerminatedReportsItsOwnFigures() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        FiberScheduler first = scheduler("again");
        BobbinMetrics.of(first).bindTo(r);
        first.start(() -> { }).join();
        first.close();
        try (FiberScheduler second = scheduler("again")) {
            BobbinMetrics.of(second).bindTo(r);
            assertEquals(0, r.get("bobbin.fibers.started").tag("name", "again").functionCounter().count());
        }
    }

    /** Meters the application removed itself (a registry cleared between tests, say) no longer claim their ids. */
    @Test
    void aSchedulerBoundAfterTheRegistryWasClearedReportsItsOwnFigures() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler first = scheduler("cleared"); FiberScheduler second = scheduler("cleared")) {
            BobbinMetrics.of(first).bindTo(r);
            first.start(() -> { }).join();
            r.clear();
            BobbinMetrics.of(second).bindTo(r);
            assertEquals(0, r.get("bobbin.fibers.started").tag("name", "cleared").functionCounter().count());
        }
    }

    /** Tags that only contain the other binder's: not the same meters, both bind. */
    @Test
    void aSchedulerWhoseTagsAreASubsetOfAnothersIsNotTakenForIt() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler prod = scheduler("api"); FiberScheduler plain = scheduler("api")) {
            BobbinMetrics.of(prod, Tags.of("env", "prod")).bindTo(r);
            BobbinMetrics.of(plain).bindTo(r);
            assertEquals(2, r.find("executor.pool.size").tag("name", "api").gauges().size(), r.getMetersAsString());
        }
    }

    @Test
    void aSecondExecutorOfTheSameNameIsRefused() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared").parallelism(1).build());
             FiberExecutor first = FiberExecutor.builder().name("jobs").scheduler(shared).build();
             FiberExecutor second = FiberExecutor.builder().name("jobs").scheduler(shared).build()) {
            BobbinMetrics.of(first).bindTo(r);
            BobbinMetrics.of(first).bindTo(r);                       // the same executor again: harmless
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(second).bindTo(r));
            assertTrue(e.getMessage().contains("executor.") && e.getMessage().contains("name=jobs"), e.getMessage());
            assertEquals(3, r.getMeters().size(), r.getMetersAsString());
            first.submit(() -> { }).get();
            BobbinMetricsTest.await("the first executor's task counted",
                    () -> r.get("executor.completed").tag("name", "jobs").functionCounter().count() == 1);
        }
    }

    @Test
    void anExecutorNamedAsABoundSchedulerIsRefused() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("same").parallelism(1).build());
             FiberExecutor e = FiberExecutor.builder().name("same").scheduler(s).build()) {
            BobbinMetrics.of(s).bindTo(r);
            int before = r.getMeters().size();
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(e).bindTo(r));
            assertTrue(x.getMessage().contains("name=same"), x.getMessage());
            assertEquals(before, r.getMeters().size());
        }
    }

    /** A meter of the same id the application (or another library) registered: Bobbin's would not be seen. */
    @Test
    void aMeterOfTheSameIdRegisteredElsewhereIsRefused() throws Exception {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        AtomicInteger mine = new AtomicInteger(7);
        r.gauge("executor.queued", Tags.of("name", "taken"), mine);
        try (FiberScheduler shared = FiberScheduler.create(SchedulerConfig.builder().name("shared").parallelism(1).build());
             FiberExecutor e = FiberExecutor.builder().name("taken").scheduler(shared).build()) {
            assertThrows(IllegalArgumentException.class, () -> BobbinMetrics.of(e).bindTo(r));
            assertEquals(1, r.getMeters().size(), r.getMetersAsString());
            assertEquals(7, r.get("executor.queued").gauge().value());
        }
    }

    /**
     * An io runtime's meters are bound once however often they are bound; one of them that something else
     * registered refuses the binding, which leaves nothing of itself behind.
     */
    @Test
    void anIoRuntimesMetersAreBoundOnceAndRefuseAMeterRegisteredElsewhere() {
        dev.bobbin.uring.FiberIo io = dev.bobbin.uring.FiberIo.of(dev.bobbin.uring.IoTransport.NIO);
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        FiberIoMetrics.of(io).bindTo(r);
        assertEquals(6, r.getMeters().size(), r.getMetersAsString());
        FiberIoMetrics.of(io).bindTo(r);
        assertEquals(6, r.getMeters().size(), "bound once");

        SimpleMeterRegistry other = new SimpleMeterRegistry();
        other.counter("bobbin.io.operations.routed", "transport", "nio");   // the application's own
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FiberIoMetrics.of(io).bindTo(other));
        assertTrue(e.getMessage().contains("bobbin.io.operations.routed"), e.getMessage());
        assertEquals(1, other.getMeters().size(), "the refused binding left no meter behind: " + other.getMetersAsString());
    }
}
