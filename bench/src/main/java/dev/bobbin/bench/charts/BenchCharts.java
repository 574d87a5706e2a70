package dev.bobbin.bench.charts;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Renders benchmark results to PNG bar charts for bench/README.md.
 *
 * <p>Input: CSV files of {@code series,category,metric,value} rows (the echo harness writes them with
 * {@code --csv}, the HTTP harness to {@code http.csv}; the JMH summary is kept in the same form). Each metric of a file becomes one chart: the
 * categories (server kinds, benchmarks) on the x axis, one bar per series (connection counts, runs).
 * Output: {@code <file>-<metric>.png} next to the CSV. Runs headless.
 *
 * <pre>  java -cp bench/target/benchmarks.jar dev.bobbin.bench.charts.BenchCharts bench/results/echo.csv ...</pre>
 */
public final class BenchCharts {
    /** Axis titles of the metrics the harnesses write; others are shown by name. */
    private static final Map<String, String> TITLES = Map.of(
            "rt_per_s", "round trips per second (higher is better)",
            "p50_us", "p50 latency, µs (lower is better)",
            "p99_us", "p99 latency, µs (lower is better)",
            "server_cpu_us_per_rt", "server CPU per round trip, µs (lower is better)",
            "ratio_vs_jdk", "Bobbin / JDK throughput (higher is better; 1 = parity)",
            "ns_per_round_trip", "ns per round trip (lower is better)",
            "req_per_s", "requests per second (higher is better)",
            "cpu_us_per_req", "server CPU per request, µs (lower is better)",
            "cost_vs_control", "Bobbin / control cost (lower is better)");

    private BenchCharts() { }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        if (args.length == 0 || List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.err.println("usage: bench/charts.sh [results.csv ...]   (renders each file's metrics to PNG charts next to it;"
                    + " all of bench/results/*.csv when none is given)");
            System.exit(args.length == 0 ? 2 : 0);
        }
        for (String a : args) {                         // check them all before drawing anything
            if (!Files.isRegularFile(Path.of(a))) {
                System.err.println("BenchCharts: no such results file: " + a);
                System.exit(2);
            }
        }
        for (String a : args) {
            for (Path png : render(Path.of(a))) System.out.println("chart: " + png);
        }
    }

    /** One parsed row. */
    public record Point(String series, String category, String metric, double value) { }

    /** Parses a results file; rows with a non-numeric value are skipped. */
    public static List<Point> parse(List<String> lines) {
        List<Point> points = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("series,") || line.startsWith("#")) continue;
            String[] f = line.split(",", -1);
            if (f.length != 4) throw new IllegalArgumentException("expected series,category,metric,value: " + line);
            double v;
            try {
                v = Double.parseDouble(f[3].trim());
            } catch (NumberFormatException e) {
                continue;
            }
            if (!Double.isNaN(v)) points.add(new Point(f[0].trim(), f[1].trim(), f[2].trim(), v));
        }
        return points;
    }

    /** Renders one chart per metric of {@code csv}; returns the files written. */
    static List<Path> render(Path csv) throws IOException {
        List<Point> points = parse(Files.readAllLines(csv, StandardCharsets.UTF_8));
        String base = csv.getFileName().toString().replaceFirst("\\.csv$", "");
        Set<String> metrics = new LinkedHashSet<>();
        points.forEach(p -> metrics.add(p.metric()));
        List<Path> written = new ArrayList<>();
        for (String metric : metrics) {
            CategoryChart chart = chart(base, metric, points.stream().filter(p -> p.metric().equals(metric)).toList());
            Path out = csv.resolveSibling(base + "-" + metric.replace('_', '-') + ".png");
            BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG);
            written.add(out);
        }
        return written;
    }

    /** Values spanning more than this factor are drawn on a logarithmic axis, so small bars stay visible. */
    static final double LOG_SCALE_SPAN = 100;

    /** Whether the chart of these points needs a logarithmic value axis (all values positive, wide span). */
    static boolean logScale(List<Point> points) {
        double min = points.stream().mapToDouble(Point::value).min().orElse(0);
        double max = points.stream().mapToDouble(Point::value).max().orElse(0);
        return min > 0 && max / min > LOG_SCALE_SPAN;
    }

    static CategoryChart chart(String name, String metric, List<Point> points) {
        List<String> categories = new ArrayList<>(new LinkedHashSet<>(points.stream().map(Point::category).toList()));
        Map<String, Map<String, Double>> bySeries = new LinkedHashMap<>();
        for (Point p : points) bySeries.computeIfAbsent(p.series(), k -> new LinkedHashMap<>()).put(p.category(), p.value());
        boolean log = logScale(points);
        String title = TITLES.getOrDefault(metric, metric) + (log ? ", log scale" : "");
        CategoryChart chart = new CategoryChartBuilder().width(900).height(480)
                .title(name + ": " + title)
                .xAxisTitle("").yAxisTitle(title).build();
        chart.getStyler().setYAxisLogarithmic(log);
        if (log) {   // bars otherwise start at 0, which a logarithmic axis cannot show
            double min = points.stream().mapToDouble(Point::value).min().orElse(1);
            chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
        }
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisLabelRotation(20);
        chart.getStyler().setLocale(Locale.ROOT);
        for (Map.Entry<String, Map<String, Double>> e : bySeries.entrySet()) {
            // a missing cell is a gap: 0 on a linear axis, the smallest value on a logarithmic one
            double missing = log ? Math.pow(10, Math.floor(Math.log10(points.stream().mapToDouble(Point::value).min().orElse(1)))) : 0.0;
            List<Double> values = categories.stream().map(c -> e.getValue().getOrDefault(c, missing)).toList();
            chart.addSeries(e.getKey(), categories, values);
        }
        return chart;
    }
}
