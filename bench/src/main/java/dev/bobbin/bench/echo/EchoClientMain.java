package dev.bobbin.bench.echo;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * Runs the closed-loop echo client ({@link EchoClient}) against a server on the loopback address and
 * prints one line of results.
 *
 * <pre>
 * EchoClientMain --port P --connections C [--size 64] [--threads 1] [--warmup-ms 3000] [--window-ms 8000]
 *                [--server-pid PID] [--clk-tck 100]
 * </pre>
 *
 * The line is {@code RESULT key=value ...} (see {@link #format}); the exit status is 0 when every
 * connection echoed every message correctly, 1 otherwise, 2 for bad arguments.
 */
public final class EchoClientMain {
    private static final String USAGE = "usage: EchoClientMain --port P --connections C [--size 64] [--threads 1]"
            + " [--warmup-ms 3000] [--window-ms 8000] [--server-pid PID] [--clk-tck 100]";

    private EchoClientMain() { }

    public static void main(String[] args) throws Exception {
        EchoClient.Config config;
        try {
            Flags f = Flags.parse(args, Set.of("port", "connections", "size", "threads", "warmup-ms", "window-ms",
                    "server-pid", "clk-tck"), Set.of());
            if (!f.positional().isEmpty()) throw new IllegalArgumentException("unexpected argument " + f.positional().get(0));
            if (!f.has("port") || !f.has("connections")) throw new IllegalArgumentException("--port and --connections are required");
            int connections = f.intValue("connections", 0, 1, 100_000);
            config = new EchoClient.Config(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), f.intValue("port", 0, 1, 65_535)),
                    connections,
                    f.intValue("size", 64, 8, 65_536),
                    f.intValue("threads", 1, 1, connections),
                    Duration.ofMillis(f.longValue("warmup-ms", 3_000, 0, 600_000)),
                    Duration.ofMillis(f.longValue("window-ms", 8_000, 1, 600_000)),
                    f.longValue("server-pid", 0, 0, Long.MAX_VALUE),
                    f.longValue("clk-tck", 100, 1, 1_000_000));
        } catch (IllegalArgumentException e) {
            System.err.println("EchoClientMain: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(EchoServerMain.EXIT_USAGE);
            return;
        }
        EchoClient.Result r = EchoClient.run(config);
        System.out.println(format(r));
        System.out.flush();
        if (r.errors() > 0) {
            System.err.println("EchoClientMain: " + r.errors() + " error(s); first: " + r.firstError());
            System.exit(1);
        }
    }

    /** The {@code RESULT} line: space-separated {@code key=value} pairs; NaN where not measured. */
    static String format(EchoClient.Result r) {
        return String.format(Locale.ROOT,
                "RESULT connections=%d size=%d client_threads=%d seconds=%.3f round_trips=%d rt_per_s=%.1f"
                        + " p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
                        + " server_cpu_us_per_rt=%.3f client_cpu_us_per_rt=%.3f"
                        + " server_cores=%.3f client_cores=%.3f machine_busy_cores=%.3f errors=%d all_served_ms=%.1f",
                r.config().connections(), r.config().messageSize(), r.config().threads(), r.seconds(), r.roundTrips(),
                r.roundTripsPerSecond(), r.latencyMicros(50), r.latencyMicros(99), r.latencyMicros(99.9),
                r.latencyNanos().getTotalCount() == 0 ? Double.NaN : r.latencyNanos().getMaxValue() / 1e3,
                r.serverCpuMicrosPerRoundTrip(), r.clientCpuMicrosPerRoundTrip(),
                r.cores(r.serverCpuTicks()), r.cores(r.clientCpuTicks()), r.machineBusyCores(), r.errors(),
                r.allServedMillis());
    }
}
