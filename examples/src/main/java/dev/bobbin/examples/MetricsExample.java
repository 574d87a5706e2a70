package dev.bobbin.examples;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.metrics.BobbinMetrics;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Binds a scheduler's meters to a Micrometer registry, runs a skewed workload, prints every meter, then
 * prints a fiber dump while a few fibers are parked.
 *
 * <pre>{@code ./bobbin example dev.bobbin.examples.MetricsExample}</pre>
 */
public final class MetricsExample {
    private MetricsExample() { }

    private static final String USAGE = "usage: ./bobbin example metrics";

    public static void main(String[] args) throws Exception {
        Usage.helpIfAsked(args, USAGE);
        if (args.length > 0) {                          // takes none: say so rather than ignore them
            Usage.refuse(USAGE, "takes no arguments, not: " + String.join(" ", args));
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SchedulerConfig config = SchedulerConfig.builder().name("demo").parallelism(2).trackFibers(true).build();
        try (FiberScheduler scheduler = FiberScheduler.create(config)) {
            BobbinMetrics.of(scheduler).withPercentiles().bindTo(registry);   // percentiles are opt-in

            // one fiber fans out CPU-bound children on its own carrier: the other carrier steals them
            scheduler.start(() -> {
                List<Thread> children = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    children.add(scheduler.start(() -> {
                        long t0 = System.nanoTime();
                        while (System.nanoTime() - t0 < 200_000) Thread.onSpinWait();
                    }));
                }
                for (Thread c : children) {
                    try {
                        c.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }).join();

            // fibers that sleep and wake: parks, unparks and scheduling delays
            List<Thread> sleepers = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                sleepers.add(scheduler.start(() -> {
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            for (Thread s : sleepers) s.join();

            System.out.println("== meters of scheduler 'demo' ==");
            registry.getMeters().stream()
                    .sorted(Comparator.comparing((Meter m) -> m.getId().getName())
                            .thenComparing(m -> String.valueOf(m.getId().getTag("carrier"))))
                    .forEach(MetricsExample::print);

            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < 3; i++) {
                scheduler.ofVirtual().name("waiter-" + i).start(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            Thread.sleep(50);
            System.out.println();
            System.out.println(scheduler.dumpFibers().toText());
            release.countDown();
        }
        System.out.println("meters left after close: " + registry.getMeters().size());
    }

    private static void print(Meter m) {
        StringBuilder b = new StringBuilder(m.getId().getName());
        String carrier = m.getId().getTag("carrier");
        if (carrier != null) b.append("{carrier=").append(carrier).append('}');
        String phi = m.getId().getTag("phi");
        if (phi != null) b.append("{phi=").append(phi).append('}');
        String transport = m.getId().getTag("transport");
        if (transport != null) b.append("{transport=").append(transport).append('}');
        b.append(' ');
        for (Measurement x : m.measure()) {
            b.append(x.getStatistic().getTagValueRepresentation()).append('=')
                    .append(String.format("%.6g", x.getValue())).append(' ');
        }
        System.out.println(b.toString().trim());
    }
}
