package dev.bobbin.bench.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns JMH's CSV results ({@code -rf csv}) into Bobbin / JDK ratios in the {@code series,category,metric,value}
 * form {@link BenchCharts} renders: for every benchmark run with a parameter value {@code bobbin} and, with
 * all its other parameters equal, {@code jdk} (or {@code jdk-virtual}, the executor benchmarks' JDK
 * counterpart), one {@code ratio_vs_jdk} row. Throughput modes give Bobbin's score over the JDK's; time
 * modes (average, sample, single shot) the JDK's time over Bobbin's, so a ratio above 1 always means
 * Bobbin did better. Benchmarks without a JDK counterpart (policy, metrics variants) are left out.
 *
 * <pre>  java -cp bench/target/benchmarks.jar dev.bobbin.bench.charts.JmhRatios raw/jmh.csv jmh.csv "2026-12-05"</pre>
 */
public final class JmhRatios {
    /** JDK counterparts of {@code bobbin}, in order of preference. */
    static final List<String> JDK = List.of("jdk", "jdk-virtual");

    private JmhRatios() { }

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: JmhRatios jmh-results.csv ratios.csv [series label]");
            System.exit(2);
        }
        String label = args.length == 3 ? args[2] : "this run";
        List<String> rows = ratios(Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8), label);
        List<String> out = new ArrayList<>();
        out.add("# Bobbin / JDK of every JMH benchmark that ran both (" + Path.of(args[0]).getFileName()
                + "; higher is better): written by bench/jmh-bench.sh");
        out.add("series,category,metric,value");
        out.addAll(rows);
        Files.write(Path.of(args[1]), out, StandardCharsets.UTF_8);
        System.out.println(rows.size() + " ratios: " + args[1]);
    }

    /** One result row of JMH's CSV. */
    record Result(String benchmark, String mode, double score, Map<String, String> params) { }

    /** The ratio rows ({@code label,Class.method[ params],ratio_vs_jdk,value}) of JMH's CSV lines. */
    static List<String> ratios(List<String> jmhCsv, String label) {
        List<Result> results = parse(jmhCsv);
        List<String> rows = new ArrayList<>();
        for (Result bobbin : results) {
            for (Map.Entry<String, String> p : bobbin.params().entrySet()) {
                if (!p.getValue().equals("bobbin")) continue;
                Result jdk = counterpart(results, bobbin, p.getKey());
                if (jdk == null || jdk.score() <= 0 || bobbin.score() <= 0) continue;
                boolean throughput = bobbin.mode().equals("thrpt");
                double ratio = throughput ? bobbin.score() / jdk.score() : jdk.score() / bobbin.score();
                rows.add(label.replace(',', ';') + "," + category(bobbin, p.getKey()) + ",ratio_vs_jdk,"
                        + String.format(Locale.ROOT, "%.3f", ratio));
            }
        }
        return rows;
    }

    private static Result counterpart(List<Result> results, Result bobbin, String param) {
        for (String jdkValue : JDK) {
            for (Result r : results) {
                if (!r.benchmark().equals(bobbin.benchmark()) || !r.mode().equals(bobbin.mode())) continue;
                Map<String, String> expected = new TreeMap<>(bobbin.params());
                expected.put(param, jdkValue);
                if (new TreeMap<>(r.params()).equals(expected)) return r;
            }
        }
        return null;
    }

    /** {@code PingPongBenchmark.pingPong}, with the other parameters in brackets when there are any. */
    private static String category(Result r, String schedulerParam) {
        String name = r.benchmark();
        int method = name.lastIndexOf('.');
        int clazz = name.lastIndexOf('.', method - 1);
        StringBuilder c = new StringBuilder(name.substring(clazz + 1));
        List<String> others = new ArrayList<>();
        r.params().forEach((k, v) -> { if (!k.equals(schedulerParam)) others.add(k + "=" + v); });
        if (!others.isEmpty()) c.append(" [").append(String.join(" ", others)).append(']');
        return c.toString().replace(',', ';');
    }

    /**
     * Parses JMH's CSV: a header naming the columns ({@code Param: x} for parameters), then one row per
     * result; profilers' secondary metrics ({@code Benchmark} holding a colon) are skipped.
     */
    static List<Result> parse(List<String> lines) {
        List<Result> results = new ArrayList<>();
        List<String> header = null;
        for (String line : lines) {
            if (line.isBlank()) continue;
            List<String> f = fields(line);
            if (header == null) {
                header = f;
                continue;
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 0; i < header.size() && i < f.size(); i++) {
                if (header.get(i).startsWith("Param: ") && !f.get(i).isEmpty()) params.put(header.get(i).substring(7), f.get(i));
            }
            String benchmark = f.get(header.indexOf("Benchmark"));
            if (benchmark.contains(":")) continue;     // a profiler's secondary metric (-prof gc), not a score
            results.add(new Result(benchmark, f.get(header.indexOf("Mode")),
                    Double.parseDouble(f.get(header.indexOf("Score")).replace(',', '.')), params));   // JMH writes the locale's decimal mark
        }
        return results;
    }

    /** The fields of one CSV line; double quotes enclose fields that may hold commas. */
    private static List<String> fields(String line) {
        List<String> f = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '"') quoted = !quoted;
            else if (ch == ',' && !quoted) { f.add(cur.toString()); cur.setLength(0); }
            else cur.append(ch);
        }
        f.add(cur.toString());
        return f;
    }
}
