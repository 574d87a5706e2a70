package dev.bobbin.bench.http;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of wrk's output and of workloads, and the arithmetic of the table and the CSV. */
class HttpReportTest {
    static final String WRK_OUT = """
            Running 10s test @ http://127.0.0.1:40000/hello
              1 threads and 64 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency     1.02ms  812.33us  31.17ms   93.12%
                Req/Sec    63.41k     4.20k   70.11k    72.00%
              Latency Distribution
                 50%  874.00us
                 75%    1.10ms
                 90%    1.52ms
                 99%    4.31ms
              631234 requests in 10.01s, 77.05MB read
              Socket errors: connect 0, read 3, write 1, timeout 2
              Non-2xx or 3xx responses: 4
            Requests/sec:  63061.34
            Transfer/sec:      7.70MB
            """;

    @Test
    void parsesWrkOutputWithUnits() {
        WrkReport r = WrkReport.parse(WRK_OUT);
        assertEquals(631_234, r.requests());
        assertEquals(10.01, r.seconds(), 1e-9);
        assertEquals(63_061.34, r.requestsPerSec(), 1e-9);
        assertEquals(874.0, r.p50Micros(), 1e-9);
        assertEquals(4_310.0, r.p99Micros(), 1e-9);
        assertEquals(6, r.socketErrors());
        assertEquals(4, r.non2xx3xx());
        assertEquals(10, r.errors());
    }

    @Test
    void parsesSecondsAndMinutesAndNoErrorLines() {
        String out = WRK_OUT.replace("874.00us", "1.50s").replace("4.31ms", "1.00m").replace("in 10.01s", "in 1.00m")
                .replaceAll("(?m)^.*(Socket errors|Non-2xx).*\\n", "");
        WrkReport r = WrkReport.parse(out);
        assertEquals(1_500_000.0, r.p50Micros(), 1e-6);
        assertEquals(60_000_000.0, r.p99Micros(), 1e-6);
        assertEquals(60.0, r.seconds(), 1e-9);
        assertEquals(0, r.errors());
    }

    @Test
    void rejectsOutputWithoutTheLinesItNeeds() {
        assertThrows(IllegalArgumentException.class, () -> WrkReport.parse(WRK_OUT.replace("Latency Distribution", "")));
        assertThrows(IllegalArgumentException.class, () -> WrkReport.parse(WRK_OUT.replace("Requests/sec", "Reqs")));
        assertThrows(IllegalArgumentException.class, () -> WrkReport.parse(WRK_OUT.replace("requests in", "reqs in")));
        assertThrows(IllegalArgumentException.class, () -> WrkReport.parse("unable to connect to 127.0.0.1:1 Connection refused"));
    }

    @Test
    void cpuPerRequestComesFromTheServersTicks() {
        WrkReport r = WrkReport.parse(WRK_OUT);
        // 1,262 ticks of 10 ms = 12.62 s of CPU for 631,234 requests: 20 µs per request; over 10 s: 1.262 cores
        Map<String, Double> m = HttpBench.metrics(r, 1_262, 1_900, 10.0, 100);
        assertEquals(12.62e6 / 631_234, m.get(HttpBench.CPU_PER_REQ), 1e-9);
        assertEquals(1.262, m.get(HttpBench.SERVER_CORES), 1e-9);
        assertEquals(1.9, m.get(HttpBench.MACHINE_BUSY_CORES), 1e-9);
        assertEquals(10.0, m.get(HttpBench.ERRORS));
    }

    @Test
    void parsesWorkloads() {
        assertEquals(new HttpBench.Workload("json", 1000), HttpBench.Workload.parse("json@1000"));
        assertEquals("/sleep", HttpBench.Workload.parse("sleep@1").path());
        assertEquals("hello 64 conns", HttpBench.Workload.parse("hello@64").label());
        assertEquals(new HttpBench.Workload("hello", 64, true), HttpBench.Workload.parse("hello@64/close"));
        assertEquals("hello 64 conns close", HttpBench.Workload.parse("hello@64/close").label());
        assertFalse(HttpBench.Workload.parse("hello@64").closeEach());
        assertThrows(IllegalArgumentException.class, () -> HttpBench.Workload.parse("hello@64/open"));
        assertThrows(IllegalArgumentException.class, () -> HttpBench.Workload.parse("hello"));
        assertThrows(IllegalArgumentException.class, () -> HttpBench.Workload.parse("bye@64"));
        assertThrows(IllegalArgumentException.class, () -> HttpBench.Workload.parse("hello@0"));
        assertThrows(IllegalArgumentException.class, () -> HttpBench.Workload.parse("hello@x"));
    }

    @Test
    void tableRatiosAndCsv() {
        HttpBench.Workload w = HttpBench.Workload.parse("hello@64");
        List<HttpBench.Row> rows = List.of(
                row("jdk", w, 20_000, 40.0), row("helidon", w, 40_000, 25.0), row("netty-uring", w, 50_000, 10.0),
                new HttpBench.Row("bobbin", w, Map.of(), "skipped: no http-server module"));
        String table = HttpBench.table(rows, List.of(w));
        // jdk: CPU 40 vs Helidon 25 -> 1.60x, vs itself 1.00x, vs Netty 10 -> 4.00x; req/s 20k vs 40k -> 0.50x
        assertTrue(table.contains("| hello 64 conns | jdk | 20,000 | 500 | 2,000 | 40.00 | 1.60x | 1.00x | 4.00x | 0.50x |"), table);
        assertTrue(table.contains("| hello 64 conns | netty-uring | 50,000 | 500 | 2,000 | 10.00 | 0.40x | 0.25x | 1.00x | 1.25x |"), table);
        assertTrue(table.contains("| hello 64 conns | bobbin | skipped: no http-server module |"), table);
        String csv = HttpBench.csv(rows);
        assertTrue(csv.startsWith("series,category,metric,value\n"), csv);
        assertTrue(csv.contains("hello 64 conns,helidon,cpu_us_per_req,25.0\n"), csv);
        assertTrue(csv.contains("hello 64 conns,jdk,req_per_s,20000.0\n"), csv);
        assertEquals(1 + 3 * 4, csv.lines().count(), "a header and four metrics per measured row; the skipped row has none");
        // what the chart program reads back: every row has its four fields
        List<dev.bobbin.bench.charts.BenchCharts.Point> points = dev.bobbin.bench.charts.BenchCharts.parse(csv.lines().toList());
        assertEquals(12, points.size());
        assertTrue(points.contains(new dev.bobbin.bench.charts.BenchCharts.Point("hello 64 conns", "netty-uring", "cpu_us_per_req", 10.0)));
        assertThrows(IllegalArgumentException.class,
                () -> HttpBench.csv(List.of(row("a,b", w, 1, 1))), "a comma in a field would shift the columns");
    }

    private static HttpBench.Row row(String server, HttpBench.Workload w, double rps, double cpu) {
        return new HttpBench.Row(server, w, Map.of(HttpBench.REQ_PER_S, rps, HttpBench.P50, 500.0, HttpBench.P99, 2_000.0,
                HttpBench.CPU_PER_REQ, cpu, HttpBench.ERRORS, 0.0, HttpBench.SERVER_CORES, 1.0, HttpBench.MACHINE_BUSY_CORES, 1.9), null);
    }
}
