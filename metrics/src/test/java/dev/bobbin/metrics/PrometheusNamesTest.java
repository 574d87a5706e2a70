package dev.bobbin.metrics;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulingDelaySampling;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.IoTransport;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a Prometheus server scrapes from a plain scheduler, an I/O scheduler on the best transport this
 * machine has, its {@link FiberIo} and a {@link FiberExecutor}: exactly the Prometheus names the metrics
 * README lists (nothing undocumented, nothing documented missing), no name that repeats its unit, the I/O
 * scheduler's meters tagged with its real transport, and no histogram buckets unless asked for.
 */
class PrometheusNamesTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z.<>]+)` \\| `([a-z_<>]+)` \\| ([^|]+?) \\|", Pattern.MULTILINE);

    /** One row of a meter table in the README: the Micrometer name, the Prometheus name, the meter type. */
    record Row(String meter, String prometheus, String type) {
        /** The Prometheus name as a pattern ({@code <x>} matches a word or more); a timer adds its suffixes. */
        Pattern pattern() {
            String base = Arrays.stream(prometheus.split("(?=<)|(?<=>)"))
                    .map(part -> part.startsWith("<") ? "[a-z_]+" : Pattern.quote(part)).reduce("", String::concat);
            return Pattern.compile(base + (type.startsWith("timer") ? "_(count|sum|max)" : ""));
        }
    }

    private static List<Row> documented;
    private static IoTransport transport;
    private static String scrape;
    private static Set<String> samples;

    @BeforeAll
    static void scrapeEverything() throws Exception {
        documented = new ArrayList<>();
        String readme = Files.readString(Path.of("README.md"));
        int http = readme.indexOf("## For the HTTP server");   // its meters are checked by the http-server module
        Matcher m = ROW.matcher(http < 0 ? readme : readme.substring(0, http));
        while (m.find()) documented.add(new Row(m.group(1), m.group(2), m.group(3)));
        assertTrue(documented.size() > 30, "the README's meter tables were found: " + documented);

        transport = Stream.of(IoTransport.IO_URING, IoTransport.EPOLL, IoTransport.NIO)
                .filter(IoTransport::isAvailable).findFirst().orElseThrow();
        FiberIo io = FiberIo.of(transport);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FiberScheduler plain = BobbinMetricsTest.single("plain", SchedulingDelaySampling.everyFiber());
             FiberScheduler ioScheduler = io.newScheduler("io", 1);
             FiberExecutor orders = FiberExecutor.builder().name("orders").scheduler(plain).build()) {
            BobbinMetrics.of(plain).bindTo(registry);
            BobbinMetrics.of(ioScheduler).bindTo(registry);
            BobbinMetrics.of(orders).bindTo(registry);
            FiberIoMetrics.of(io).bindTo(registry);
            plain.start(() -> { }).join();
            assertEquals(1, orders.submit(() -> 1).get());
            scrape = registry.scrape();
        }
        samples = new TreeSet<>();
        Matcher s = Pattern.compile("^([a-z_]+)[{ ]", Pattern.MULTILINE).matcher(scrape);
        while (s.find()) samples.add(s.group(1));
        assertFalse(samples.isEmpty(), scrape);
    }

    @Test
    void everyScrapedNameIsDocumentedAndEveryDocumentedNameIsScraped() {
        for (String sample : samples) {
            assertTrue(documented.stream().anyMatch(r -> r.pattern().matcher(sample).matches()),
                    "scraped but not in metrics/README.md: " + sample);
        }
        for (Row row : documented) {
            if (row.meter().contains("<")) continue;   // a driver's own counters: the io backend's are listed by name
            assertTrue(samples.stream().anyMatch(s -> row.pattern().matcher(s).matches()),
                    "in metrics/README.md but not scraped: " + row.prometheus() + " in " + samples);
        }
    }

    @Test
    void theDocumentedPrometheusNameIsMicrometersNameWithItsUnitAndSuffix() {
        for (Row row : documented) {
            String base = row.meter().replace('.', '_');
            assertTrue(row.prometheus().matches(Pattern.quote(base) + "(_(seconds|threads|tasks|fibers|operations))?(_total)?"),
                    "README row of " + row.meter() + ": " + row.prometheus());
        }
    }

    @Test
    void noNameRepeatsAWord() {
        for (String sample : samples) {
            List<String> words = Arrays.asList(sample.replaceAll("_(total|max|count|sum)$", "").split("_"));
            assertEquals(words.size(), new TreeSet<>(words).size(), "a word repeats in " + sample);
        }
    }

    @Test
    void theIoSchedulersMetersCarryItsTransport() {
        String id = transport.id();
        assertTrue(scrape.contains("bobbin_driver_transport{name=\"io\",transport=\"" + id + "\"} 1.0"), scrape);
        assertTrue(scrape.contains("bobbin_driver_operations_total{carrier=\"0\",name=\"io\",transport=\"" + id + "\"}"), scrape);
        assertTrue(scrape.contains("bobbin_io_sockets_open{transport=\"" + id + "\"}"), scrape);
        assertTrue(scrape.contains("bobbin_driver_transport{name=\"plain\",transport=\"none\"} 1.0"), scrape);
    }

    @Test
    void theDelayTimerPublishesNoBucketsOrPercentilesByDefault() {
        assertFalse(scrape.contains("_bucket"), scrape);
        assertFalse(scrape.contains("quantile="), scrape);
        assertTrue(samples.containsAll(List.of("bobbin_scheduling_delay_seconds_count", "bobbin_scheduling_delay_seconds_sum",
                "bobbin_scheduling_delay_seconds_max")), samples.toString());
    }

    @Test
    void bucketsAndPercentilesAreOptIn() throws Exception {
        String histogram = scrapeDelayTimer(BobbinMetrics::withHistogram);
        long buckets = histogram.lines().filter(l -> l.startsWith("bobbin_scheduling_delay_seconds_bucket{")).count();
        assertTrue(buckets > 20 && buckets <= 112, buckets + " buckets:\n" + histogram);
        String percentiles = scrapeDelayTimer(BobbinMetrics::withPercentiles);
        assertEquals(4, percentiles.lines().filter(l -> l.startsWith("bobbin_scheduling_delay_seconds{")
                && l.contains("quantile=")).count(), percentiles);
        assertFalse(percentiles.contains("_bucket"), percentiles);
    }

    private static String scrapeDelayTimer(java.util.function.UnaryOperator<BobbinMetrics> option) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FiberScheduler s = BobbinMetricsTest.single("opt-in", SchedulingDelaySampling.everyFiber())) {
            option.apply(BobbinMetrics.of(s)).bindTo(registry);
            s.start(() -> { }).join();
            return registry.scrape();
        }
    }

    @Test
    void aUnitThatTheNameAlreadySaysIsDropped() {
        assertNull(BobbinMetrics.unitUnlessNamed("bobbin.fibers.started", "fibers"));
        assertEquals("tasks", BobbinMetrics.unitUnlessNamed("executor.completed", "tasks"));
    }
}
