package dev.bobbin.metrics;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulingDelaySampling;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a Prometheus server scrapes from a bound scheduler: every meter in the metrics README's table is
 * there, nothing undocumented is, and no name repeats its unit (Micrometer's naming conventions).
 */
class PrometheusNamesTest {

    /** The meter names in the README's table, dots as Micrometer writes them; {@code <x>} is a wildcard. */
    private static List<String> documented() throws Exception {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("^\\| `([a-z.<>]+)`", Pattern.MULTILINE)
                .matcher(Files.readString(Path.of("README.md")));
        while (m.find()) names.add(m.group(1));
        assertTrue(names.size() > 20, "the README's meter table was found: " + names);
        return names;
    }

    /** A documented name as a pattern over Prometheus family names (units and _total may follow). */
    private static Pattern prometheus(String documentedName) {
        String base = Arrays.stream(documentedName.split("\\."))
                .map(w -> w.startsWith("<") ? "[a-z_]+" : Pattern.quote(w)).reduce((a, b) -> a + "_" + b).orElseThrow();
        return Pattern.compile(base + "(_[a-z]+)?");
    }

    @Test
    void scrapedNamesMatchTheDocumentedListAndNoUnitIsDoubled() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FiberScheduler s = BobbinMetricsTest.single("scrape", SchedulingDelaySampling.everyFiber())) {
            BobbinMetrics.of(s).bindTo(registry);
            FiberIoMetrics.of(dev.bobbin.uring.FiberIo.of(dev.bobbin.uring.IoTransport.NIO)).bindTo(registry);
            s.start(() -> { }).join();
            String scrape = registry.scrape();
            Set<String> families = new TreeSet<>();
            Matcher m = Pattern.compile("^# TYPE (\\S+) ", Pattern.MULTILINE).matcher(scrape);
            while (m.find()) families.add(m.group(1));
            assertFalse(families.isEmpty(), scrape);

            List<Pattern> doc = documented().stream().map(PrometheusNamesTest::prometheus).toList();
            for (String family : families) {
                String bare = family.replaceAll("_(total|seconds_max|max)$", "");
                assertTrue(doc.stream().anyMatch(p -> p.matcher(bare).matches() || p.matcher(family).matches()),
                        "scraped but not in metrics/README.md: " + family);
                List<String> words = Arrays.asList(bare.split("_"));
                assertEquals(words.size(), new TreeSet<>(words).size(), "a word repeats in " + family);
            }
            for (String name : documented()) {
                if (name.contains("<")) continue;   // per-driver counters exist only for drivers that report some
                Pattern p = prometheus(name);
                assertTrue(families.stream().anyMatch(f -> p.matcher(f.replaceAll("_(total|max)$", "")).matches()),
                        "documented but not scraped: " + name + " in " + families);
            }
        }
    }

    @Test
    void aUnitThatTheNameAlreadySaysIsDropped() {
        assertNull(BobbinMetrics.unitUnlessNamed("bobbin.fibers.started", "fibers"));
        assertEquals("tasks", BobbinMetrics.unitUnlessNamed("executor.completed", "tasks"));
    }
}
