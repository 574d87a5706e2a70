package dev.bobbin.bench.echo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The echo benchmark's driver: for every connection count and every {@link ServerKind}, starts the
 * server in its own JVM ({@link EchoServerMain}), runs the closed-loop client in another
 * ({@link EchoClientMain}, which samples the server's CPU ticks around its measured window), stops the
 * server, and finally prints a markdown table with the ratios of server CPU per round trip to
 * {@code jdk-vthread} and {@code netty-uring}.
 *
 * <p>Two load clients print the same {@code RESULT} line: {@code --client java} (the default here) runs
 * {@link EchoClientMain} on NIO selectors; {@code --client native --native-client PATH} runs the C
 * program compiled from {@code bench/echo-client/echo_client.c} (one epoll thread), a client that owes
 * nothing to Bobbin or the JVM; {@code bench/echo-bench.sh} compiles it and uses it by default.
 *
 * <pre>
 * EchoBench [--kinds k1,k2,...] [--connections 100,1000] [--size 64] [--warmup-ms 3000] [--window-ms 8000]
 *           [--client java|native] [--native-client PATH] [--client-threads 1] [--server-threads N]
 *           [--server-jvm-opts "..."] [--rounds 1] [--pin] [--out file.md] [--csv file.csv]
 * </pre>
 *
 * {@code --pin} runs the server with {@code taskset -c 0} and the client with {@code taskset -c 1}, so
 * they do not compete for a core (the server then sees one CPU and sizes its pools to it). With
 * {@code --rounds R} the whole matrix runs R times, round after round, and each cell reports the
 * median of each metric. Every child process is bounded in time (servers also stop when this JVM's
 * pipe to them closes) and destroyed when this JVM exits.
 */
public final class EchoBench {
    private static final String USAGE = "usage: EchoBench [--kinds k1,k2,...] [--connections 100,1000] [--size 64]"
            + " [--warmup-ms 3000] [--window-ms 8000] [--client java|native] [--native-client PATH] [--client-threads 1] [--server-threads N]"
            + " [--server-jvm-opts \"...\"] [--rounds 1] [--pin] [--out file.md] [--csv file.csv] [--help]";

    /** JVM options of every server unless --server-jvm-opts says otherwise: same heap and GC for all kinds. */
    static final String DEFAULT_SERVER_JVM_OPTS = "-Xms512m -Xmx512m -XX:+UseG1GC";
    private static final String BOBBIN_JVM_FLAGS = "--add-opens java.base/java.lang=ALL-UNNAMED --enable-native-access=ALL-UNNAMED";
    private static final long READY_TIMEOUT_SECONDS = 30;
    private static final long STOP_TIMEOUT_SECONDS = 10;

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    private EchoBench() { }

    /** One cell of the matrix: measured metrics from the client's RESULT line, or why there are none. */
    record Row(String kind, int connections, Map<String, Double> metrics, String problem) {
        double get(String key) {
            return metrics.getOrDefault(key, Double.NaN);
        }
    }

    public static void main(String[] args) throws Exception {
        Flags f;
        List<ServerKind> kinds;
        List<Integer> connectionCounts;
        int rounds;
        try {
            f = Flags.parse(args, Set.of("kinds", "connections", "size", "warmup-ms", "window-ms", "client-threads",
                    "server-threads", "server-jvm-opts", "rounds", "out", "csv", "client", "native-client"), Set.of("pin", "help"));
            if (f.has("help") || f.positional().contains("-h")) {
                System.out.println(USAGE);
                System.out.println("server kinds:\n" + ServerKind.describeAll());
                return;
            }
            if (!f.positional().isEmpty()) throw new IllegalArgumentException("unexpected argument " + f.positional().get(0));
            kinds = f.has("kinds")
                    ? Arrays.stream(f.string("kinds", "").split(",")).map(String::trim).map(ServerKind::of).toList()
                    : List.of(ServerKind.values());
            connectionCounts = Arrays.stream(f.string("connections", "100,1000").split(","))
                    .map(s -> (int) Flags.parseLong("--connections", s, 1, 100_000)).toList();
            rounds = f.intValue("rounds", 1, 1, 100);
            f.intValue("size", 64, 8, 65_536);
            f.longValue("warmup-ms", 3_000, 0, 600_000);
            f.longValue("window-ms", 8_000, 1, 600_000);
            f.intValue("client-threads", 1, 1, 4096);
            if (f.has("server-threads")) f.intValue("server-threads", 1, 1, 4096);
            String client = f.string("client", "java");
            if (!client.equals("java") && !client.equals("native")) throw new IllegalArgumentException("--client is java or native: " + client);
            if (client.equals("native")) {
                if (!f.has("native-client")) throw new IllegalArgumentException("--client native needs --native-client PATH (bench/echo-bench.sh compiles it)");
                if (!Files.isExecutable(Path.of(f.string("native-client", "")))) {
                    throw new IllegalArgumentException("--native-client is not an executable file: " + f.string("native-client", ""));
                }
                if (f.has("client-threads")) throw new IllegalArgumentException("--client-threads applies to the java client only");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("EchoBench: " + e.getMessage());
            System.err.println(USAGE);
            System.err.println("server kinds:\n" + ServerKind.describeAll());
            System.exit(EchoServerMain.EXIT_USAGE);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "echo-bench-cleanup"));

        long clkTck = clockTicksPerSecond();
        boolean pin = f.has("pin");
        StringBuilder header = new StringBuilder();
        header.append(String.format(Locale.ROOT, "Echo (loopback), %s%n%n", Instant.now()));
        header.append(String.format(Locale.ROOT, "- machine: %d CPUs (%s), Linux %s, %s %s, CLK_TCK %d%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("os.version"),
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"), clkTck));
        header.append(String.format(Locale.ROOT, "- %s%n", pin
                ? "pinned: server `taskset -c 0`, client `taskset -c 1`"
                : "not pinned: server and client share all CPUs"));
        String clientText = f.string("client", "java").equals("native")
                ? "the C epoll client (bench/echo-client/echo_client.c, one thread)"
                : "Bobbin's Java client, " + f.string("client-threads", "1") + " NIO selector thread(s)";
        header.append(String.format(Locale.ROOT, "- %s-byte messages, closed loop, client: %s;"
                        + " warmup %s ms, window %s ms, %d round(s)%s%n",
                f.string("size", "64"), clientText, f.string("warmup-ms", "3000"),
                f.string("window-ms", "8000"), rounds, rounds > 1 ? " (medians)" : ""));
        header.append(String.format(Locale.ROOT, "- server JVM: %s %s%s%n", BOBBIN_JVM_FLAGS,
                f.string("server-jvm-opts", DEFAULT_SERVER_JVM_OPTS),
                f.has("server-threads") ? ", --threads " + f.string("server-threads", "") : ", threads: one per CPU it may use"));
        System.err.print(header);

        Map<String, List<Row>> cells = new LinkedHashMap<>();
        int total = rounds * connectionCounts.size() * kinds.size(), n = 0;
        for (int round = 0; round < rounds; round++) {
            for (int connections : connectionCounts) {
                for (ServerKind kind : kinds) {
                    n++;
                    System.err.printf(Locale.ROOT, "[%d/%d] %s, %d connections ... ", n, total, kind.id(), connections);
                    Row row = runOne(kind, connections, f, pin, clkTck);
                    System.err.println(row.problem() != null ? row.problem()
                            : String.format(Locale.ROOT, "%.0f rt/s, %.2f us CPU/rt", row.get("rt_per_s"), row.get("server_cpu_us_per_rt")));
                    cells.computeIfAbsent(kind.id() + "/" + connections, k -> new ArrayList<>()).add(row);
                }
            }
        }
        List<Row> rows = cells.values().stream().map(EchoBench::median).toList();
        String report = header + "\n" + table(rows);
        System.out.print(report);
        if (f.has("out")) Files.writeString(Path.of(f.string("out", "")), report, StandardCharsets.UTF_8);
        if (f.has("csv")) Files.writeString(Path.of(f.string("csv", "")), csv(rows), StandardCharsets.UTF_8);
        boolean failed = rows.stream().anyMatch(r -> r.problem() != null && !r.problem().startsWith("unavailable"));
        System.exit(failed ? 1 : 0);
    }

    private static Row runOne(ServerKind kind, int connections, Flags f, boolean pin, long clkTck) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        long warmup = f.longValue("warmup-ms", 3_000, 0, 600_000), window = f.longValue("window-ms", 8_000, 1, 600_000);
        long budgetSeconds = (warmup + window) / 1000 + 120;

        List<String> server = new ArrayList<>();
        if (pin) server.addAll(List.of("taskset", "-c", "0"));
        server.add(java);
        server.addAll(Arrays.asList(BOBBIN_JVM_FLAGS.split(" ")));
        for (String o : f.string("server-jvm-opts", DEFAULT_SERVER_JVM_OPTS).trim().split("\\s+")) if (!o.isEmpty()) server.add(o);
        server.addAll(List.of("-cp", cp, EchoServerMain.class.getName(), kind.id(), "0",
                "--stop-on-stdin-eof", "--max-seconds", Long.toString(budgetSeconds)));
        if (f.has("server-threads")) server.addAll(List.of("--threads", f.string("server-threads", "")));

        Process sp = start(new ProcessBuilder(server).redirectError(ProcessBuilder.Redirect.INHERIT));
        try {
            BlockingQueue<String> serverOut = lines(sp, "echo-bench-server-out");
            String ready = null;   // the first READY or UNAVAILABLE line; anything printed before it is passed on
            long readyDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
            for (String line; ready == null
                    && (line = serverOut.poll(readyDeadline - System.nanoTime(), TimeUnit.NANOSECONDS)) != null
                    && !line.isEmpty(); ) {
                if (line.startsWith("READY") || line.startsWith("UNAVAILABLE")) ready = line;
                else System.err.println("server: " + line);
            }
            if (ready == null) {
                return new Row(kind.id(), connections, Map.of(), "failed: server not ready (exit " + exitStatus(sp) + ")");
            }
            if (ready.startsWith("UNAVAILABLE")) {
                return new Row(kind.id(), connections, Map.of(), "unavailable: " + keyValues(ready).getOrDefault("reason", ready));
            }
            Map<String, String> r = keyValues(ready);
            List<String> client = new ArrayList<>();
            if (pin) client.addAll(List.of("taskset", "-c", "1"));
            if (f.string("client", "java").equals("native")) {
                client.add(f.string("native-client", ""));
            } else {
                client.addAll(List.of(java, "-Xms256m", "-Xmx256m", "-cp", cp, EchoClientMain.class.getName(),
                        "--threads", f.string("client-threads", "1")));
            }
            client.addAll(List.of("--port", r.get("port"), "--connections", Integer.toString(connections),
                    "--size", f.string("size", "64"),
                    "--warmup-ms", Long.toString(warmup), "--window-ms", Long.toString(window),
                    "--server-pid", Long.toString(sp.pid()), "--clk-tck", Long.toString(clkTck)));
            Process cpr = start(new ProcessBuilder(client).redirectError(ProcessBuilder.Redirect.INHERIT));
            try {
                BlockingQueue<String> clientOut = lines(cpr, "echo-bench-client-out");
                if (!cpr.waitFor(budgetSeconds, TimeUnit.SECONDS)) {
                    return new Row(kind.id(), connections, Map.of(), "failed: client did not finish in " + budgetSeconds + " s");
                }
                String result = null;
                for (String line; (line = clientOut.poll(5, TimeUnit.SECONDS)) != null && !line.isEmpty(); ) {
                    if (line.startsWith("RESULT")) result = line;
                }
                if (result == null) return new Row(kind.id(), connections, Map.of(), "failed: client exit " + cpr.exitValue() + ", no result");
                Map<String, Double> metrics = new HashMap<>();
                keyValues(result).forEach((k, v) -> metrics.put(k, parseDouble(v)));
                metrics.put("server_threads", parseDouble(r.getOrDefault("threads", "NaN")));
                String problem = cpr.exitValue() == 0 ? null : "failed: client reported " + metrics.get("errors").longValue() + " error(s)";
                return new Row(kind.id(), connections, metrics, problem);
            } finally {
                stop(cpr);
            }
        } finally {
            stop(sp);
        }
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
    private static BlockingQueue<String> lines(Process p, String threadName) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().name(threadName).start(() -> {
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

    /** {@code key=value} pairs of a space-separated line; a value runs to the next {@code " key="} or the end. */
    static Map<String, String> keyValues(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        String[] tokens = line.trim().split(" ");
        String key = null;
        StringBuilder value = new StringBuilder();
        for (String t : tokens) {
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

    private static double parseDouble(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static final String CPU_PER_RT = "server_cpu_us_per_rt";
    private static final String CPU_PER_RT_MIN = "server_cpu_us_per_rt_min", CPU_PER_RT_MAX = "server_cpu_us_per_rt_max";
    /** The client's time until every connection had its first echo: accepting under load (echo_client.c). */
    private static final String ALL_SERVED_MS = "all_served_ms";

    /**
     * One row from several rounds of the same cell: the median of each metric, plus the range of the
     * server CPU per round trip; a failure wins.
     */
    static Row median(List<Row> rounds) {
        Row first = rounds.getFirst();
        for (Row r : rounds) if (r.problem() != null) return r;
        Map<String, Double> m = new HashMap<>();
        for (String key : first.metrics().keySet()) {
            double[] v = rounds.stream().mapToDouble(r -> r.get(key)).sorted().toArray();
            m.put(key, v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2);
            if (key.equals(CPU_PER_RT) && v.length > 1) {
                m.put(CPU_PER_RT_MIN, v[0]);
                m.put(CPU_PER_RT_MAX, v[v.length - 1]);
            }
        }
        return new Row(first.kind(), first.connections(), m, null);
    }

    /**
     * The results as a markdown table, one row per kind and connection count, grouped by connection
     * count. The ratio columns divide a row's server CPU per round trip by that of {@code jdk-vthread}
     * and of {@code netty-uring} at the same connection count (below 1 means less CPU). Rows merged
     * from several rounds show the range of server CPU per round trip after its median. The last column
     * is the time until every connection had its first echo (the accepts of a server busy with the
     * connections it already serves), "–" where the client did not report it.
     */
    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| server | conns | rt/s | p50 µs | p99 µs | server CPU µs/rt | CPU/rt vs jdk-vthread | CPU/rt vs netty-uring"
                + " | server cores | client cores | machine busy cores | all served ms |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        List<Integer> counts = rows.stream().map(Row::connections).distinct().toList();
        for (int c : counts) {
            Map<String, Row> byKind = rows.stream().filter(r -> r.connections() == c)
                    .collect(Collectors.toMap(Row::kind, r -> r, (a, b) -> a, LinkedHashMap::new));
            double vthread = cpuPerRt(byKind.get(ServerKind.JDK_VTHREAD.id()));
            double netty = cpuPerRt(byKind.get(ServerKind.NETTY_URING.id()));
            for (Row r : byKind.values()) {
                if (r.problem() != null) {
                    sb.append(String.format(Locale.ROOT, "| %s | %d | %s | | | | | | | | | |%n", r.kind(), c, r.problem()));
                    continue;
                }
                double cpu = r.get(CPU_PER_RT);
                String cpuText = String.format(Locale.ROOT, "%.2f", cpu);
                if (r.metrics().containsKey(CPU_PER_RT_MIN)) {
                    cpuText += String.format(Locale.ROOT, " (%.2f–%.2f)", r.get(CPU_PER_RT_MIN), r.get(CPU_PER_RT_MAX));
                }
                double allServed = r.get(ALL_SERVED_MS);
                sb.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %s |%n",
                        r.kind(), c, r.get("rt_per_s"), micros(r.get("p50_us")), micros(r.get("p99_us")), cpuText,
                        ratio(cpu, vthread), ratio(cpu, netty),
                        r.get("server_cores"), r.get("client_cores"), r.get("machine_busy_cores"),
                        Double.isNaN(allServed) ? "–" : String.format(Locale.ROOT, "%,.0f", allServed)));
            }
        }
        return sb.toString();
    }

    /** The rows as {@code series,category,metric,value} lines (the format {@code BenchCharts} reads). */
    static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("series,category,metric,value\n");
        for (Row r : rows) {
            if (r.problem() != null) continue;
            for (String metric : List.of("rt_per_s", "p50_us", "p99_us", CPU_PER_RT)) {
                sb.append(String.format(Locale.ROOT, "%d connections,%s,%s,%s%n", r.connections(), r.kind(), metric, r.get(metric)));
            }
        }
        return sb.toString();
    }

    private static double cpuPerRt(Row r) {
        return r == null || r.problem() != null ? Double.NaN : r.get(CPU_PER_RT);
    }

    private static String ratio(double x, double base) {
        return Double.isNaN(x) || Double.isNaN(base) || base == 0 ? "–" : String.format(Locale.ROOT, "%.2fx", x / base);
    }

    private static String micros(double us) {
        return Double.isNaN(us) ? "–" : us >= 100 ? String.format(Locale.ROOT, "%,.0f", us) : String.format(Locale.ROOT, "%.1f", us);
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
        System.err.println("EchoBench: getconf CLK_TCK failed; assuming 100");
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
