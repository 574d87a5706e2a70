package dev.bobbin.bench.http;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one {@code wrk --latency} run printed, parsed: requests completed and the run's length, requests
 * per second, the 50th and 99th latency percentiles of wrk's latency distribution, and the errors wrk
 * counts (socket connect/read/write errors, timeouts, responses other than 2xx/3xx).
 *
 * <p>wrk prints times with a unit ({@code us}, {@code ms}, {@code s}, {@code m}, {@code h}) and counts
 * that way too in places; this parser reads the lines:
 * <pre>
 *   Latency Distribution
 *      50%  612.00us
 *      99%    2.31ms
 *   1234567 requests in 10.00s, 150.71MB read
 *   Socket errors: connect 0, read 3, write 0, timeout 1
 *   Non-2xx or 3xx responses: 2
 * Requests/sec: 123456.78
 * </pre>
 *
 * @param requests       requests completed
 * @param seconds        the run's length as wrk reports it
 * @param requestsPerSec wrk's {@code Requests/sec}
 * @param p50Micros      median latency, µs
 * @param p99Micros      99th percentile latency, µs
 * @param socketErrors   connect + read + write errors and timeouts (0 if wrk printed no such line)
 * @param non2xx3xx      responses with another status (0 if wrk printed no such line)
 */
record WrkReport(long requests, double seconds, double requestsPerSec, double p50Micros, double p99Micros,
                 long socketErrors, long non2xx3xx) {

    private static final Pattern TOTAL = Pattern.compile("^\\s*(\\d+) requests in ([0-9.]+)(us|ms|s|m|h),", Pattern.MULTILINE);
    private static final Pattern RPS = Pattern.compile("^Requests/sec:\\s+([0-9.]+)\\s*$", Pattern.MULTILINE);
    private static final Pattern SOCKET = Pattern.compile(
            "^\\s*Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)\\s*$", Pattern.MULTILINE);
    private static final Pattern NON_2XX = Pattern.compile("^\\s*Non-2xx or 3xx responses: (\\d+)\\s*$", Pattern.MULTILINE);

    /** All errors together. */
    long errors() {
        return socketErrors + non2xx3xx;
    }

    /**
     * Parses wrk's standard output.
     *
     * @throws IllegalArgumentException if a line this needs is missing (e.g. wrk ran without {@code --latency})
     */
    static WrkReport parse(String out) {
        Objects.requireNonNull(out, "out");
        Matcher total = find(TOTAL, out, "the 'N requests in T' line");
        Matcher rps = find(RPS, out, "the 'Requests/sec:' line");
        long socketErrors = 0;
        Matcher socket = SOCKET.matcher(out);
        if (socket.find()) {
            for (int g = 1; g <= 4; g++) socketErrors += Long.parseLong(socket.group(g));
        }
        Matcher non2xx = NON_2XX.matcher(out);
        long non = non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0;
        return new WrkReport(Long.parseLong(total.group(1)),
                micros(Double.parseDouble(total.group(2)), total.group(3)) / 1e6,
                Double.parseDouble(rps.group(1)),
                percentile(out, "50"), percentile(out, "99"), socketErrors, non);
    }

    /** A percentile of the "Latency Distribution" block, in µs. */
    private static double percentile(String out, String pct) {
        int block = out.indexOf("Latency Distribution");
        if (block < 0) throw new IllegalArgumentException("no 'Latency Distribution' in wrk's output (run it with --latency)");
        Matcher m = Pattern.compile("^\\s*" + pct + "(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s|m|h)\\s*$", Pattern.MULTILINE)
                .matcher(out.substring(block));
        if (!m.find()) throw new IllegalArgumentException("no " + pct + "% line in wrk's latency distribution");
        return micros(Double.parseDouble(m.group(1)), m.group(2));
    }

    private static double micros(double value, String unit) {
        return switch (unit) {
            case "us" -> value;
            case "ms" -> value * 1e3;
            case "s" -> value * 1e6;
            case "m" -> value * 60e6;
            case "h" -> value * 3600e6;
            default -> throw new IllegalArgumentException("unknown time unit " + unit);
        };
    }

    private static Matcher find(Pattern p, String out, String what) {
        Matcher m = p.matcher(out);
        if (!m.find()) throw new IllegalArgumentException("no " + what + " in wrk's output");
        return m;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d requests in %.2f s, %.1f req/s, p50 %.1f us, p99 %.1f us, %d error(s)",
                requests, seconds, requestsPerSec, p50Micros, p99Micros, errors());
    }
}
