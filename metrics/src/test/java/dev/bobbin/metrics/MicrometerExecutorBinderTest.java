package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ExecutorServiceMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What Micrometer's own {@link ExecutorServiceMetrics} does with a {@link FiberExecutor}, as the metrics
 * README describes it: it knows only {@code ThreadPoolExecutor}, {@code ForkJoinPool} and the JDK's own
 * executors, so it logs one WARNING that the class is unsupported and registers no pool meters, while
 * {@code monitor(...)}'s task timers still work; {@link BobbinMetrics#of(FiberExecutor)} registers the pool
 * meters under the same names. If a Micrometer release learns about FiberExecutor, this test fails and
 * the README's advice must change. Micrometer logs through JDK logging here (no SLF4J on the class path).
 */
class MicrometerExecutorBinderTest {

    @Test
    void micrometersBinderRefusesAFiberExecutorWithOneWarningAndBobbinsBinderRegistersTheMeters() throws Exception {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(ExecutorServiceMetrics.class.getName());
        Handler capture = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        boolean useParent = logger.getUseParentHandlers();
        logger.addHandler(capture);
        logger.setUseParentHandlers(false);                  // keep the expected warning out of the build log
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (FiberExecutor orders = FiberExecutor.builder().name("orders").build()) {
            ExecutorService timed = ExecutorServiceMetrics.monitor(r, orders, "orders", Tags.empty());
            assertEquals(1, timed.submit(() -> 1).get());

            assertEquals(1, records.size(), "one record: " + records);
            assertEquals(Level.WARNING, records.getFirst().getLevel());
            assertTrue(records.getFirst().getMessage().contains("dev.bobbin.FiberExecutor is unsupported"),
                    records.getFirst().getMessage());
            assertEquals(Set.of("executor", "executor.idle"), names(r), "only monitor()'s task timers");
            assertEquals(1, r.get("executor").timer().count());

            BobbinMetrics.of(orders).bindTo(r);
            assertEquals(Set.of("executor", "executor.idle", "executor.active", "executor.queued", "executor.completed"),
                    names(r));
            // the task counts as completed just after its future completes
            BobbinMetricsTest.await("the task counted as completed",
                    () -> r.get("executor.completed").tag("name", "orders").functionCounter().count() == 1);
            assertEquals(1, records.size(), "Bobbin's binder logs nothing");
        } finally {
            logger.removeHandler(capture);
            logger.setUseParentHandlers(useParent);
        }
    }

    private static Set<String> names(SimpleMeterRegistry r) {
        return r.getMeters().stream().map(Meter::getId).map(Meter.Id::getName).collect(Collectors.toSet());
    }
}
