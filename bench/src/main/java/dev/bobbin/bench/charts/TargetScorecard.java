package dev.bobbin.bench.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue #12's targets, each judged from one run of {@code bench/targets-bench.sh}: Bobbin's cost against
 * the control the issue names, beside the most the target allows.
 *
 * <p>Every row is a cost ratio, Bobbin over the control, so lower is better and a row is met when its
 * ratio is at most the target's. Throughput targets are turned into costs: "spawn+join at least 1.5x the
 * JDK's rate" is "at most 1/1.5 of the JDK's time per fiber". The inputs are the files the run wrote:
 * JMH's CSV (hand-offs, spawn+join and {@code invokeAll10k} from a platform thread, executor creation),
 * the echo harness's and the HTTP harness's {@code series,category,metric,value} files, and the output of
 * {@code ParkedFiberFootprint}; the JMH file may hold several runs' CSVs one after another. A target
 * whose input is missing from the run is reported as not measured, never as met.
 *
 * <pre>  TargetScorecard jmh.csv echo.csv http.csv footprint.txt scorecard.csv</pre>
 * prints a markdown table and writes {@code scorecard.csv} ({@code measured} and {@code target} series
 * of the metric {@code cost_vs_control}) for {@link BenchCharts}.
 */
public final class TargetScorecard {
    private TargetScorecard() { }

    /** One target: what is measured against what, and the largest cost ratio that meets it. */
    public record Row(String key, String target, String control, double measured, double atMost, String detail) {
        /** Met, missed, or not measured (no figure in this run). */
        public String verdict() {
            if (Double.isNaN(measured)) return "not measured";
            return measured <= atMost ? "met" : "**missed**";
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: TargetScorecard jmh.csv echo.csv http.csv footprint.txt scorecard.csv");
            System.exit(2);
        }
        List<Row> rows = rows(lines(args[0]), lines(args[1]), lines(args[2]), lines(args[3]));
        System.out.print(markdown(rows));
        Files.write(Path.of(args[4]), csv(rows), StandardCharsets.UTF_8);
        System.out.println("scorecard: " + args[4]);
    }

    private static List<String> lines(String file) throws IOException {
        Path p = Path.of(file);
        return Files.exists(p) ? Files.readAllLines(p, StandardCharsets.UTF_8) : List.of();
    }

    /** The targets, judged from the four inputs (any of which may be empty). */
    public static List<Row> rows(List<String> jmhCsv, List<String> echoCsv, List<String> httpCsv, List<String> footprint) {
        List<JmhRatios.Result> jmh = parseSections(jmhCsv);
        List<BenchCharts.Point> echo = BenchCharts.parse(echoCsv), http = BenchCharts.parse(httpCsv);
        List<Row> rows = new ArrayList<>();
        for (String primitive : List.of("synchronousQueue", "linkedTransferQueue", "exchanger", "phaser", "cachedThreadPoolFromAFiber")) {
            rows.add(jmhTimeRatio(jmh, "HandoffBenchmark." + primitive, "scheduler", 1.0, primitive,
                    "hand-off: " + primitive + ", time per round trip", "JDK virtual threads"));
        }
        rows.add(jmhRateRatio(jmh, "SpawnJoinBenchmark.spawnJoin", "scheduler", 1.5, "spawnJoin",
                "spawn+join from a platform thread, time per fiber (rate >= 1.5x)", "JDK virtual threads"));
        rows.add(jmhRateRatio(jmh, "ExecutorBench.invokeAll10k", "kind", 1.2, "invokeAll10k",
                "invokeAll of 10k tasks from a platform thread, time per task (rate >= 1.2x)", "newVirtualThreadPerTaskExecutor"));
        rows.add(jmhMethods(jmh, "ExecutorCreationBench.bobbinShared", "ExecutorCreationBench.jdkVirtual", 1.5, "executor creation",
                "FiberExecutor create + one task + close", "newVirtualThreadPerTaskExecutor"));
        for (String workload : List.of("hello 64 conns", "hello 1000 conns", "sleep 1000 conns")) {
            rows.add(pointRatio(http, workload, "jdk-fiber", "jdk-vthread", "cpu_us_per_req", 0.9,
                    "HttpServer " + workload.replace(" conns", "").replace(' ', '@'),
                    "JDK HttpServer + FiberExecutor, CPU per request, " + workload, "same server on JDK virtual threads"));
        }
        for (String conns : List.of("100 connections", "1000 connections")) {
            rows.add(pointRatio(echo, conns, "bobbin-jdksocket", "jdk-vthread", "server_cpu_us_per_rt", 1.0,
                    "Socket echo @" + conns.replace(" connections", ""),
                    "java.net.Socket echo in fibers, CPU per round trip, " + conns, "JDK virtual threads"));
        }
        rows.add(pointRatio(echo, "1000 connections", "bobbin-uring", "netty-uring", "server_cpu_us_per_rt", 0.9, "io_uring CPU @1000",
                "io_uring echo, CPU per round trip, 1000 connections", "Netty io_uring"));
        rows.add(pointRatio(echo, "1000 connections", "bobbin-uring", "netty-uring", "p99_us", 1.0, "io_uring p99 @1000",
                "io_uring echo, p99 latency, 1000 connections", "Netty io_uring"));
        rows.add(pointRatio(echo, "100 connections", "bobbin-uring", "netty-uring", "server_cpu_us_per_rt", 1.0, "io_uring CPU @100",
                "io_uring echo, CPU per round trip, 100 connections (keep the lead)", "Netty io_uring"));
        rows.add(footprintRow(footprint));
        return rows;
    }

    /** JMH's CSV, or several concatenated (one JMH run per benchmark), each with its own header. */
    static List<JmhRatios.Result> parseSections(List<String> lines) {
        List<JmhRatios.Result> results = new ArrayList<>();
        List<String> section = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("\"Benchmark\"") && !section.isEmpty()) {
                results.addAll(JmhRatios.parse(section));
                section.clear();
            }
            section.add(line);
        }
        if (!section.isEmpty()) results.addAll(JmhRatios.parse(section));
        return results;
    }

    /** Average-time benchmark run with {@code param}=bobbin and =jdk: Bobbin's time over the JDK's. */
    private static Row jmhTimeRatio(List<JmhRatios.Result> jmh, String benchmark, String param, double atMost, String key,
                                    String target, String control) {
        Optional<JmhRatios.Result> b = timed(find(jmh, benchmark, param, "bobbin")), j = timed(jdk(jmh, benchmark, param));
        double ratio = b.isPresent() && j.isPresent() ? b.get().score() / j.get().score() : Double.NaN;
        return new Row(key, target, control, ratio, atMost, detail(b, j, "ns"));
    }

    /** Throughput benchmark: the JDK's rate over Bobbin's (Bobbin's time per operation over the JDK's). */
    private static Row jmhRateRatio(List<JmhRatios.Result> jmh, String benchmark, String param, double minRate, String key,
                                    String target, String control) {
        Optional<JmhRatios.Result> b = rate(find(jmh, benchmark, param, "bobbin")), j = rate(jdk(jmh, benchmark, param));
        double ratio = b.isPresent() && j.isPresent() ? j.get().score() / b.get().score() : Double.NaN;
        return new Row(key, target, control, ratio, 1 / minRate, detail(b, j, "ops/s"));
    }

    /** Two average-time benchmark methods, Bobbin's and the control's. */
    private static Row jmhMethods(List<JmhRatios.Result> jmh, String bobbin, String control, double atMost, String key,
                                  String target, String controlName) {
        Optional<JmhRatios.Result> b = timed(method(jmh, bobbin)), j = timed(method(jmh, control));
        double ratio = b.isPresent() && j.isPresent() ? b.get().score() / j.get().score() : Double.NaN;
        return new Row(key, target, controlName, ratio, atMost, detail(b, j, "ns"));
    }

    /** A result in a time mode (average time), or none: a ratio of times must not be taken of rates. */
    private static Optional<JmhRatios.Result> timed(Optional<JmhRatios.Result> r) {
        return r.filter(x -> x.mode().equals("avgt"));
    }

    /** A result in throughput mode, or none. */
    private static Optional<JmhRatios.Result> rate(Optional<JmhRatios.Result> r) {
        return r.filter(x -> x.mode().equals("thrpt"));
    }

    /** The JDK's result of {@code benchmark}, by {@link JmhRatios#JDK}'s order of preference. */
    private static Optional<JmhRatios.Result> jdk(List<JmhRatios.Result> jmh, String benchmark, String param) {
        for (String value : JmhRatios.JDK) {
            Optional<JmhRatios.Result> j = find(jmh, benchmark, param, value);
            if (j.isPresent()) return j;
        }
        return Optional.empty();
    }

    private static Optional<JmhRatios.Result> find(List<JmhRatios.Result> jmh, String benchmark, String param, String value) {
        return jmh.stream().filter(r -> r.benchmark().endsWith("." + benchmark) && value.equals(r.params().get(param))).findFirst();
    }

    private static Optional<JmhRatios.Result> method(List<JmhRatios.Result> jmh, String benchmark) {
        return jmh.stream().filter(r -> r.benchmark().endsWith("." + benchmark)).findFirst();
    }

    private static String detail(Optional<JmhRatios.Result> b, Optional<JmhRatios.Result> j, String unit) {
        ToDoubleFunction<Optional<JmhRatios.Result>> score = r -> r.map(JmhRatios.Result::score).orElse(Double.NaN);
        return String.format(Locale.ROOT, "Bobbin %s, control %s %s", figure(score.applyAsDouble(b)), figure(score.applyAsDouble(j)), unit);
    }

    /** A harness result: {@code bobbinKind}'s metric over {@code controlKind}'s in the same series. */
    private static Row pointRatio(List<BenchCharts.Point> points, String series, String bobbinKind, String controlKind,
                                  String metric, double atMost, String key, String target, String control) {
        double b = value(points, series, bobbinKind, metric), c = value(points, series, controlKind, metric);
        String unit = metric.endsWith("_us") || metric.contains("_us_") ? "µs" : "";
        return new Row(key, target, control, b / c, atMost,
                String.format(Locale.ROOT, "Bobbin %s, control %s %s", figure(b), figure(c), unit).trim());
    }

    private static double value(List<BenchCharts.Point> points, String series, String category, String metric) {
        for (BenchCharts.Point p : points) {
            if (p.series().equals(series) && p.category().equals(category) && p.metric().equals(metric)) return p.value();
        }
        return Double.NaN;
    }

    private static final Pattern FOOTPRINT_ROUND =
            Pattern.compile("used heap: bobbin ([0-9.]+), jdk ([0-9.]+) bytes/fiber");

    /** {@code ParkedFiberFootprint}'s rounds: total used heap per parked fiber over all rounds, Bobbin over the JDK. */
    private static Row footprintRow(List<String> output) {
        double bobbin = 0, jdk = 0;
        int rounds = 0;
        for (String line : output) {
            Matcher m = FOOTPRINT_ROUND.matcher(line);
            if (m.find()) {
                bobbin += Double.parseDouble(m.group(1));
                jdk += Double.parseDouble(m.group(2));
                rounds++;
            }
        }
        double ratio = rounds == 0 ? Double.NaN : bobbin / jdk;
        String detail = rounds == 0 ? "no round" : String.format(Locale.ROOT, "Bobbin %.0f, control %.0f bytes per fiber (mean of %d rounds)",
                bobbin / rounds, jdk / rounds, rounds);
        return new Row("heap per fiber", "heap per parked fiber (1,000,000 parked)", "JDK virtual threads", ratio, 1.1, detail);
    }

    private static String figure(double v) {
        if (Double.isNaN(v)) return "-";
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    /** The table printed for bench/README.md. */
    public static String markdown(List<Row> rows) {
        StringBuilder s = new StringBuilder();
        s.append("| target | control | Bobbin / control (cost) | at most | verdict | figures |\n");
        s.append("|---|---|---:|---:|---|---|\n");
        for (Row r : rows) {
            s.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %s | %s |%n", r.target(), r.control(),
                    Double.isNaN(r.measured()) ? "-" : String.format(Locale.ROOT, "%.2fx", r.measured()), r.atMost(), r.verdict(), r.detail()));
        }
        long met = rows.stream().filter(r -> r.verdict().equals("met")).count();
        long measured = rows.stream().filter(r -> !Double.isNaN(r.measured())).count();
        s.append(String.format(Locale.ROOT, "%nmet: %d of %d measured targets (%d in all)%n", met, measured, rows.size()));
        return s.toString();
    }

    /** Rows for {@link BenchCharts}: the measured ratio and the target's bound per target. */
    public static List<String> csv(List<Row> rows) {
        List<String> out = new ArrayList<>();
        out.add("# Issue #12's targets from one run of bench/targets-bench.sh: Bobbin's cost over the control's (lower is better)");
        out.add("series,category,metric,value");
        for (Row r : rows) {
            if (Double.isNaN(r.measured())) continue;
            String category = r.key().replace(',', ';');
            out.add(String.format(Locale.ROOT, "measured,%s,cost_vs_control,%.3f", category, r.measured()));
            out.add(String.format(Locale.ROOT, "target (at most),%s,cost_vs_control,%.3f", category, r.atMost()));
        }
        return out;
    }
}
