package dev.bobbin.bench.http;

import dev.bobbin.bench.echo.Flags;
import dev.bobbin.bench.echo.ProcStat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP benchmark's driver: for every {@link HttpServerKind}, starts the server in its own JVM
 * ({@link HttpServerMain}), then for every workload runs wrk against it on the loopback address, once to
 * warm up and once measured, reading the server's CPU time ({@code utime + stime} of
 * {@code /proc/<pid>/stat}) right before and after the measured run; finally prints a markdown table
 * with requests/s, wrk's p50 and p99, server CPU per request and the ratios to Helidon, the JDK server
 * and Netty, and optionally writes the figures as CSV for {@code BenchCharts}.
 *
 * <pre>
 * HttpBench [--servers jdk,jdk-vthread,jdk-fiber,bobbin,helidon,netty-uring] [--workloads hello@64,hello@1000,json@64,json@1000,sleep@1000]
 *           [--duration-s 10] [--warmup-s 3] [--wrk wrk] [--wrk-threads 1] [--timeout-s 5]
 *           [--bobbin-classpath CP] [--server-jvm-opts "..."] [--out file.md] [--csv file.csv]
 * </pre>
 *
 * A workload is {@code route@connections}, the route one of {@code hello}, {@code json}, {@code sleep}
 * ({@link HttpWorkloads}); connections stay open (HTTP/1.1 keep-alive) for the whole run, unless the
 * spec ends in {@code /close} ({@code hello@64/close}): then every request asks the server to close its
 * connection ({@code Connection: close}) and wrk opens a new one for the next, so each request costs
 * an accept and a close. The
 * {@code bobbin} server needs {@code --bobbin-classpath} (the http-server module's jar and its
 * dependencies) and is skipped with a note without it. Every child process is bounded in time, and the
 * servers also stop when this JVM's pipe to them closes.
 */
public final class HttpBench {
    private static final String USAGE = "usage: HttpBench [--servers s1,s2,...] [--workloads hello@64,...] [--duration-s 10]"
            + " [--warmup-s 3] [--wrk wrk] [--wrk-threads 1] [--timeout-s 5] [--bobbin-classpath CP]"
            + " [--server-jvm-opts \"...\"] [--out file.md] [--csv file.csv] [--help]";
    static final String DEFAULT_WORKLOADS = "hello@64,hello@1000,json@64,json@1000,sleep@1000";
    /** JVM options of every server unless --server-jvm-opts says otherwise: the same heap and GC for all. */
    static final String DEFAULT_SERVER_JVM_OPTS = "-Xms512m -Xmx512m -XX:+UseG1GC";
    private static final String BOBBIN_JVM_FLAGS = "--add-opens java.base/java.lang=ALL-UNNAMED --enable-native-access=ALL-UNNAMED";
    private static final long READY_TIMEOUT_SECONDS = 60;
    private static final long STOP_TIMEOUT_SECONDS = 10;
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static final String REQ_PER_S = "req_per_s", P50 = "p50_us", P99 = "p99_us", CPU_PER_REQ = "cpu_us_per_req";
    static final String ERRORS = "errors", SERVER_CORES = "server_cores", MACHINE_BUSY_CORES = "machine_busy_cores";

    private HttpBench() { }

    /**
     * A route under a number of connections, written {@code route@connections}: kept alive, or with
     * {@code /close} after it closed after every request.
     */
    record Workload(String route, int connections, boolean closeEach) {
        Workload(String route, int connections) {
            this(route, connections, false);
        }

        Workload {
            if (!Set.of("hello", "json", "sleep").contains(route)) {
                throw new IllegalArgumentException("unknown route '" + route + "'; the routes are hello, json, sleep");
            }
            if (connections < 1 || connections > 100_000) throw new IllegalArgumentException("connections must be 1 to 100000: " + connections);
        }

        static Workload parse(String spec) {
            int at = spec.indexOf('@');
            if (at < 0) throw new IllegalArgumentException("a workload is route@connections[/close], e.g. hello@64: '" + spec + "'");
            String count = spec.substring(at + 1);
            boolean close = count.endsWith(CLOSE_SUFFIX);
            if (close) count = count.substring(0, count.length() - CLOSE_SUFFIX.length());
            return new Workload(spec.substring(0, at).trim(), (int) Flags.parseLong("connections of " + spec, count, 1, 100_000), close);
        }

        String path() {
            return "/" + route;
        }

        /** The series name in tables and charts (no comma: it is a CSV field). */
        String label() {
            return route + " " + connections + " conns" + (closeEach ? " close" : "");
        }

        private static final String CLOSE_SUFFIX = "/close";
    }

    /** One measured cell: metrics, or why there are none. */
    record Row(String server, Workload workload, Map<String, Double> metrics, String problem) {
        double get(String key) {
            return metrics.getOrDefault(key, Double.NaN);
        }
    }

    public static void main(String[] args) throws Exception {
        Flags f;
        List<HttpServerKind> kinds;
        List<Workload> workloads;
        try {
            f = Flags.parse(args, Set.of("servers", "workloads", "duration-s", "warmup-s", "wrk", "wrk-threads", "timeout-s",
                    "bobbin-classpath", "server-jvm-opts", "out", "csv"), Set.of("help"));
            if (f.has("help")) {
                System.out.println(USAGE);
                System.out.println("servers:\n" + HttpServerKind.describeAll());
                return;
            }
            if (!f.positional().isEmpty()) throw new IllegalArgumentException("unexpected argument " + f.positional().getFirst());
            kinds = f.has("servers")
                    ? Arrays.stream(f.string("servers", "").split(",")).map(String::trim).map(HttpServerKind::of).toList()
                    : List.of(HttpServerKind.values());
            workloads = Arrays.stream(f.string("workloads", DEFAULT_WORKLOADS).split(",")).map(String::trim).map(Workload::parse).toList();
            f.intValue("duration-s", 10, 1, 3_600);
            f.intValue("warmup-s", 3, 0, 3_600);
            f.intValue("wrk-threads", 1, 1, 256);
            f.intValue("timeout-s", 5, 1, 600);
            for (Workload w : workloads) {
                if (w.connections() < f.intValue("wrk-threads", 1, 1, 256)) {
                    throw new IllegalArgumentException("wrk needs at least as many connections as threads: " + w.label());
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("HttpBench: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(HttpServerMain.EXIT_USAGE);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "http-bench-cleanup"));
        long clkTck = clockTicksPerSecond();
        String wrk = f.string("wrk", "wrk");
        String header = String.format(Locale.ROOT, "HTTP (loopback), %s%n%n", Instant.now())
                + String.format(Locale.ROOT, "- machine: %d CPUs (%s), Linux %s, %s %s, CLK_TCK %d%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("os.version"),
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"), clkTck)
                + String.format(Locale.ROOT, "- load: %s, %s thread(s), keep-alive, --timeout %ss; %s s warm-up then %s s measured per cell;"
                        + " server and wrk share all CPUs%n", wrkVersion(wrk), f.string("wrk-threads", "1"),
                f.string("timeout-s", "5"), f.string("warmup-s", "3"), f.string("duration-s", "10"))
                + String.format(Locale.ROOT, "- server JVM: %s %s, each server with its defaults%n", BOBBIN_JVM_FLAGS,
                f.string("server-jvm-opts", DEFAULT_SERVER_JVM_OPTS));
        System.err.print(header);

        List<Row> rows = new ArrayList<>();
        for (HttpServerKind kind : kinds) rows.addAll(runServer(kind, workloads, f, wrk, clkTck));
        String report = header + "\n" + table(rows, workloads);
        System.out.print(report);
        if (f.has("out")) Files.writeString(Path.of(f.string("out", "")), report, StandardCharsets.UTF_8);
        if (f.has("csv")) Files.writeString(Path.of(f.string("csv", "")), csv(rows), StandardCharsets.UTF_8);
        boolean failed = rows.stream().anyMatch(r -> r.problem() != null && r.problem().startsWith("failed"));
        System.exit(failed ? 1 : 0);
    }

    private static List<Row> runServer(HttpServerKind kind, List<Workload> workloads, Flags f, String wrk, long clkTck)
            throws IOException, InterruptedException {
        List<Row> rows = new ArrayList<>();
        String cp = System.getProperty("java.class.path");
        if (kind == HttpServerKind.BOBBIN) {
            if (!f.has("bobbin-classpath")) {
                System.err.println(kind.id() + ": skipped (no --bobbin-classpath: this checkout has no http-server module)");
                for (Workload w : workloads) rows.add(new Row(kind.id(), w, Map.of(), "skipped: no http-server module"));
                return rows;
            }
            cp = cp + File.pathSeparator + f.string("bobbin-classpath", "");
        }
        int duration = f.intValue("duration-s", 10, 1, 3_600), warmup = f.intValue("warmup-s", 3, 0, 3_600);
        long budgetSeconds = (long) workloads.size() * (duration + warmup + 2L * f.intValue("timeout-s", 5, 1, 600)) + 120;
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(BOBBIN_JVM_FLAGS.split(" ")));
        for (String o : f.string("server-jvm-opts", DEFAULT_SERVER_JVM_OPTS).trim().split("\\s+")) if (!o.isEmpty()) cmd.add(o);
        cmd.addAll(kind.jvmOptions());
        cmd.addAll(List.of("-cp", cp, HttpServerMain.class.getName(), kind.id(),
                "--stop-on-stdin-eof", "--max-seconds", Long.toString(budgetSeconds)));
        Process sp = start(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT));
        try {
            BlockingQueue<String> out = lines(sp);
            String ready = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
            for (String line; ready == null && (line = out.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) != null
                    && !line.isEmpty(); ) {
                if (line.startsWith("READY") || line.startsWith("UNAVAILABLE")) ready = line;
                else System.err.println("server: " + line);
            }
            if (ready == null || ready.startsWith("UNAVAILABLE")) {
                String problem = ready == null ? "failed: server not ready (exit " + exitStatus(sp) + ")"
                        : "unavailable: " + ready.substring(ready.indexOf("reason=") + 7);
                System.err.println(kind.id() + ": " + problem);
                for (Workload w : workloads) rows.add(new Row(kind.id(), w, Map.of(), problem));
                return rows;
            }
            Map<String, String> r = keyValues(ready);
            long pid = Long.parseLong(r.get("pid"));
            System.err.println(kind.id() + ": pid " + pid + ", " + r.get("impl"));
            String url = "http://127.0.0.1:" + r.get("port");
            for (Workload w : workloads) {
                System.err.printf(Locale.ROOT, "  %s ... ", w.label());
                Row row = measure(kind, w, url, pid, sp, f, wrk, clkTck);
                System.err.println(row.problem() != null ? row.problem() : String.format(Locale.ROOT,
                        "%,.0f req/s, p99 %s us, %.2f us CPU/req, %.0f error(s)", row.get(REQ_PER_S), micros(row.get(P99)),
                        row.get(CPU_PER_REQ), row.get(ERRORS)));
                rows.add(row);
            }
            return rows;
        } finally {
            stop(sp);
        }
    }

    private static Row measure(HttpServerKind kind, Workload w, String url, long pid, Process server, Flags f, String wrk, long clkTck)
            throws IOException, InterruptedException {
        int duration = f.intValue("duration-s", 10, 1, 3_600), warmup = f.intValue("warmup-s", 3, 0, 3_600);
        if (warmup > 0) {
            String warm = runWrk(wrk, w, url, warmup, f);
            if (warm == null) return new Row(kind.id(), w, Map.of(), "failed: wrk warm-up did not finish");
        }
        if (!server.isAlive()) return new Row(kind.id(), w, Map.of(), "failed: server exited (" + server.exitValue() + ")");
        long cpu0 = ProcStat.processCpuTicks(pid);
        ProcStat.MachineTicks m0 = ProcStat.machineTicks();
        long t0 = System.nanoTime();
        String text = runWrk(wrk, w, url, duration, f);
        long t1 = System.nanoTime();
        if (!server.isAlive()) return new Row(kind.id(), w, Map.of(), "failed: server exited (" + server.exitValue() + ")");
        long cpu1 = ProcStat.processCpuTicks(pid);
        ProcStat.MachineTicks m1 = ProcStat.machineTicks();
        if (text == null) return new Row(kind.id(), w, Map.of(), "failed: wrk did not finish");
        WrkReport report;
        try {
            report = WrkReport.parse(text);
        } catch (IllegalArgumentException e) {
            System.err.println(text);
            return new Row(kind.id(), w, Map.of(), "failed: " + e.getMessage());
        }
        return new Row(kind.id(), w, metrics(report, cpu1 - cpu0, m1.busy() - m0.busy(), (t1 - t0) / 1e9, clkTck), null);
    }

    /** The figures of one cell from wrk's report and the CPU ticks around it. */
    static Map<String, Double> metrics(WrkReport report, long serverTicks, long machineBusyTicks, double wallSeconds, long clkTck) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(REQ_PER_S, report.requestsPerSec());
        m.put(P50, report.p50Micros());
        m.put(P99, report.p99Micros());
        m.put(CPU_PER_REQ, report.requests() == 0 ? Double.NaN : serverTicks * 1e6 / clkTck / report.requests());
        m.put(ERRORS, (double) report.errors());
        m.put(SERVER_CORES, serverTicks / (double) clkTck / wallSeconds);
        m.put(MACHINE_BUSY_CORES, machineBusyTicks / (double) clkTck / wallSeconds);
        return m;
    }

    /** Runs wrk and returns its standard output, or null if it did not end in time. */
    private static String runWrk(String wrk, Workload w, String url, int seconds, Flags f) throws IOException, InterruptedException {
        int timeout = f.intValue("timeout-s", 5, 1, 600);
        List<String> cmd = new ArrayList<>(List.of(wrk, "-t", f.string("wrk-threads", "1"), "-c", Integer.toString(w.connections()),
                "-d", seconds + "s", "--timeout", timeout + "s", "--latency"));
        if (w.closeEach()) cmd.addAll(List.of("-H", "Connection: close"));
        cmd.add(url + w.path());
        Process p = start(new ProcessBuilder(cmd).redirectErrorStream(true));
        try {
            BlockingQueue<String> out = lines(p);
            if (!p.waitFor(seconds + 2L * timeout + 30, TimeUnit.SECONDS)) return null;
            StringBuilder sb = new StringBuilder();
            for (String line; (line = out.poll(5, TimeUnit.SECONDS)) != null && !line.isEmpty(); ) sb.append(line).append('\n');
            return sb.toString();
        } finally {
            stop(p);
        }
    }

    /**
     * The rows as a markdown table, grouped by workload. The ratio columns divide a row's CPU per request
     * by that of {@code helidon}, {@code jdk} and {@code netty-uring} in the same workload (below 1: less
     * CPU), and its requests/s by Helidon's (above 1: more).
     */
    static String table(List<Row> rows, List<Workload> workloads) {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | server | req/s | p50 µs | p99 µs | CPU µs/req | CPU/req vs helidon | vs jdk | vs netty-uring"
                + " | req/s vs helidon | errors | server cores | machine busy cores |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Workload w : workloads) {
            Map<String, Row> byServer = new LinkedHashMap<>();
            for (Row r : rows) if (r.workload().equals(w)) byServer.putIfAbsent(r.server(), r);
            double helidonCpu = figure(byServer.get(HttpServerKind.HELIDON.id()), CPU_PER_REQ);
            double jdkCpu = figure(byServer.get(HttpServerKind.JDK.id()), CPU_PER_REQ);
            double nettyCpu = figure(byServer.get(HttpServerKind.NETTY_URING.id()), CPU_PER_REQ);
            double helidonRps = figure(byServer.get(HttpServerKind.HELIDON.id()), REQ_PER_S);
            for (Row r : byServer.values()) {
                if (r.problem() != null) {
                    sb.append(String.format(Locale.ROOT, "| %s | %s | %s | | | | | | | | | | |%n", w.label(), r.server(), r.problem()));
                    continue;
                }
                double cpu = r.get(CPU_PER_REQ);
                sb.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %s | %s | %.2f | %s | %s | %s | %s | %.0f | %.2f | %.2f |%n",
                        w.label(), r.server(), r.get(REQ_PER_S), micros(r.get(P50)), micros(r.get(P99)), cpu,
                        ratio(cpu, helidonCpu), ratio(cpu, jdkCpu), ratio(cpu, nettyCpu), ratio(r.get(REQ_PER_S), helidonRps),
                        r.get(ERRORS), r.get(SERVER_CORES), r.get(MACHINE_BUSY_CORES)));
            }
        }
        return sb.toString();
    }

    /** The rows as {@code series,category,metric,value} lines (the format {@code BenchCharts} reads). */
    static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("series,category,metric,value\n");
        for (Row r : rows) {
            if (r.problem() != null) continue;
            for (String metric : List.of(REQ_PER_S, P50, P99, CPU_PER_REQ)) {
                if (r.workload().label().contains(",") || r.server().contains(",")) {
                    throw new IllegalArgumentException("a CSV field holds a comma: " + r.workload().label() + " / " + r.server());
                }
                sb.append(String.format(Locale.ROOT, "%s,%s,%s,%s%n", r.workload().label(), r.server(), metric, r.get(metric)));
            }
        }
        return sb.toString();
    }

    private static double figure(Row r, String metric) {
        return r == null || r.problem() != null ? Double.NaN : r.get(metric);
    }

    private static String ratio(double x, double base) {
        return Double.isNaN(x) || Double.isNaN(base) || base == 0 ? "–" : String.format(Locale.ROOT, "%.2fx", x / base);
    }

    private static String micros(double us) {
        return Double.isNaN(us) ? "–" : us >= 100 ? String.format(Locale.ROOT, "%,.0f", us) : String.format(Locale.ROOT, "%.1f", us);
    }

    /** {@code key=value} pairs of a space-separated line; a value runs to the next {@code " key="} or the end. */
    static Map<String, String> keyValues(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        String key = null;
        StringBuilder value = new StringBuilder();
        for (String t : line.trim().split(" ")) {
            int eq = t.indexOf('=');
            if (eq > 0 && t.substring(0, eq).matches("[a-z0-9_]+")) {
                if (key != null) m.put(key, value.toString());
                key = t.substring(0, eq);
                value.setLength(0);
                value.append(t.substring(eq + 1));
            } else if (key != null) {
                value.append(' ').append(t);
            }
        }
        if (key != null) m.put(key, value.toString());
        return m;
    }

    private static Process start(ProcessBuilder pb) throws IOException {
        Process p = pb.start();
        LIVE.add(p);
        return p;
    }

    /** Closes the process's stdin (a server then stops by itself), then escalates, each step bounded. */
    private static void stop(Process p) throws InterruptedException {
        try {
            p.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        if (!p.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroy();
            if (!p.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        }
        LIVE.remove(p);
    }

    private static String exitStatus(Process p) throws InterruptedException {
        return p.waitFor(2, TimeUnit.SECONDS) ? Integer.toString(p.exitValue()) : "still running";
    }

    /** The process's stdout as a queue of lines; an empty string marks its end. */
    private static BlockingQueue<String> lines(Process p) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().name("http-bench-out-" + p.pid()).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) if (!line.isEmpty()) q.add(line);
            } catch (IOException e) {
                // the process ended
            } finally {
                q.add("");
            }
        });
        return q;
    }

    private static String wrkVersion(String wrk) {
        try {
            Process p = new ProcessBuilder(wrk, "-v").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(5, TimeUnit.SECONDS);
            String first = out.lines().findFirst().orElse("wrk").trim();
            int copy = first.indexOf(" Copyright");
            return copy > 0 ? first.substring(0, copy) : first;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run wrk ('" + wrk + "'): " + e.getMessage()
                    + "; install it with 'apt-get install -y wrk' or pass --wrk PATH", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "wrk";
        }
    }

    private static long clockTicksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) return Long.parseLong(out);
        } catch (IOException | NumberFormatException e) {
            // fall through
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.err.println("HttpBench: getconf CLK_TCK failed; assuming 100");
        return 100;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }
}
