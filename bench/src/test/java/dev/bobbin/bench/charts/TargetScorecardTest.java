package dev.bobbin.bench.charts;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class TargetScorecardTest {
    private static final String HEADER = "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: kind\",\"Param: scheduler\"";

    private static final List<String> JMH = List.of(HEADER,
            "\"dev.bobbin.bench.HandoffBenchmark.synchronousQueue\",\"avgt\",1,8,600.0,10.0,\"ns/op\",,bobbin",
            "\"dev.bobbin.bench.HandoffBenchmark.synchronousQueue\",\"avgt\",1,8,1500.0,10.0,\"ns/op\",,jdk",
            "\"dev.bobbin.bench.HandoffBenchmark.phaser\",\"avgt\",1,8,300.0,10.0,\"ns/op\",,bobbin",
            "\"dev.bobbin.bench.HandoffBenchmark.phaser\",\"avgt\",1,8,100.0,10.0,\"ns/op\",,jdk",
            "\"dev.bobbin.bench.SpawnJoinBenchmark.spawnJoin\",\"thrpt\",1,8,200000.0,10.0,\"ops/s\",,bobbin",
            "\"dev.bobbin.bench.SpawnJoinBenchmark.spawnJoin\",\"thrpt\",1,8,100000.0,10.0,\"ops/s\",,jdk",
            "\"dev.bobbin.bench.ExecutorBench.invokeAll10k\",\"thrpt\",1,8,5000000.0,10.0,\"ops/s\",bobbin,",
            "\"dev.bobbin.bench.ExecutorBench.invokeAll10k\",\"thrpt\",1,8,4500000.0,10.0,\"ops/s\",jdk-virtual,",
            "\"dev.bobbin.bench.ExecutorCreationBench.bobbinShared\",\"avgt\",1,8,3000.0,10.0,\"ns/op\",,",
            "\"dev.bobbin.bench.ExecutorCreationBench.jdkVirtual\",\"avgt\",1,8,10000.0,10.0,\"ns/op\",,");

    private static final List<String> ECHO = List.of("series,category,metric,value",
            "100 connections,bobbin-uring,server_cpu_us_per_rt,5.0",
            "100 connections,netty-uring,server_cpu_us_per_rt,6.0",
            "1000 connections,bobbin-uring,server_cpu_us_per_rt,9.0",
            "1000 connections,netty-uring,server_cpu_us_per_rt,7.5",
            "1000 connections,bobbin-uring,p99_us,20000",
            "1000 connections,netty-uring,p99_us,25000",
            "100 connections,bobbin-jdksocket,server_cpu_us_per_rt,11.0",
            "100 connections,jdk-vthread,server_cpu_us_per_rt,10.0");

    private static final List<String> HTTP = List.of("series,category,metric,value",
            "hello 64 conns,jdk-vthread,cpu_us_per_req,20.0",
            "hello 64 conns,jdk-fiber,cpu_us_per_req,17.0");

    private static final List<String> FOOTPRINT = List.of(
            "parked fibers: 1,000,000, rounds: 2 (bobbin, then jdk, each in a fresh JVM)",
            "round 1  used heap: bobbin 540, jdk 520 bytes/fiber, ratio 1.038;  histogram: bobbin 537, jdk 529 bytes/fiber, ratio 1.015",
            "round 2  used heap: bobbin 560, jdk 500 bytes/fiber, ratio 1.120;  histogram: bobbin 537, jdk 529 bytes/fiber, ratio 1.015");

    private static Map<String, TargetScorecard.Row> byKey(List<TargetScorecard.Row> rows) {
        return rows.stream().collect(Collectors.toMap(TargetScorecard.Row::key, Function.identity()));
    }

    @Test
    void timesAndCostsAreBobbinsOverTheControlsAndRatesAreInverted() {
        Map<String, TargetScorecard.Row> rows = byKey(TargetScorecard.rows(JMH, ECHO, HTTP, FOOTPRINT));
        assertEquals(0.4, rows.get("synchronousQueue").measured(), 1e-9);
        assertEquals("met", rows.get("synchronousQueue").verdict());
        assertEquals(3.0, rows.get("phaser").measured(), 1e-9);
        assertEquals("**missed**", rows.get("phaser").verdict());
        // rates: twice the JDK's rate is half its time per fiber, inside 1/1.5
        assertEquals(0.5, rows.get("spawnJoin").measured(), 1e-9);
        assertEquals("met", rows.get("spawnJoin").verdict());
        // 1.11x the JDK's rate misses a 1.2x target
        assertEquals(0.9, rows.get("invokeAll10k").measured(), 1e-9);
        assertEquals(1 / 1.2, rows.get("invokeAll10k").atMost(), 1e-9);
        assertEquals("**missed**", rows.get("invokeAll10k").verdict());
        assertEquals(0.3, rows.get("executor creation").measured(), 1e-9);
        assertEquals(0.85, rows.get("HttpServer hello@64").measured(), 1e-9);
        assertEquals("met", rows.get("HttpServer hello@64").verdict());
        assertEquals(1.1, rows.get("Socket echo @100").measured(), 1e-9);
        assertEquals("**missed**", rows.get("Socket echo @100").verdict());
        assertEquals(1.2, rows.get("io_uring CPU @1000").measured(), 1e-9);
        assertEquals(0.8, rows.get("io_uring p99 @1000").measured(), 1e-9);
        assertEquals(5.0 / 6.0, rows.get("io_uring CPU @100").measured(), 1e-9);
        assertEquals(1100.0 / 1020.0, rows.get("heap per fiber").measured(), 1e-9);   // totals over both rounds
        assertEquals("met", rows.get("heap per fiber").verdict());
    }

    @Test
    void aTargetWithoutItsFiguresIsNotMeasuredNeverMet() {
        Map<String, TargetScorecard.Row> rows = byKey(TargetScorecard.rows(JMH, ECHO, HTTP, FOOTPRINT));
        assertEquals("not measured", rows.get("linkedTransferQueue").verdict());   // JMH has no such rows
        assertEquals("not measured", rows.get("Socket echo @1000").verdict());     // the control is missing
        assertEquals("not measured", rows.get("HttpServer sleep@1000").verdict());
        Map<String, TargetScorecard.Row> empty = byKey(TargetScorecard.rows(List.of(), List.of(), List.of(), List.of()));
        assertTrue(empty.values().stream().allMatch(r -> r.verdict().equals("not measured")), empty.toString());
    }

    @Test
    void jmhRunsConcatenatedWithTheirOwnHeadersAreAllRead() {
        List<String> handoffs = List.of("\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: scheduler\"",
                "\"dev.bobbin.bench.HandoffBenchmark.exchanger\",\"avgt\",1,8,200.0,10.0,\"ns/op\",bobbin",
                "\"dev.bobbin.bench.HandoffBenchmark.exchanger\",\"avgt\",1,8,400.0,10.0,\"ns/op\",jdk");
        List<String> executor = List.of("\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: kind\"",
                "\"dev.bobbin.bench.ExecutorBench.invokeAll10k\",\"thrpt\",1,8,6000000.0,10.0,\"ops/s\",bobbin",
                "\"dev.bobbin.bench.ExecutorBench.invokeAll10k\",\"thrpt\",1,8,5000000.0,10.0,\"ops/s\",jdk-virtual");
        List<String> both = new java.util.ArrayList<>(handoffs);
        both.addAll(executor);
        Map<String, TargetScorecard.Row> rows = byKey(TargetScorecard.rows(both, List.of(), List.of(), List.of()));
        assertEquals(0.5, rows.get("exchanger").measured(), 1e-9);
        assertEquals(5.0 / 6.0, rows.get("invokeAll10k").measured(), 1e-9);
        assertEquals("met", rows.get("invokeAll10k").verdict());   // exactly 1.2x the rate
    }

    @Test
    void aResultInAnotherModeThanTheTargetsIsNotMeasured() {
        List<String> timedRates = List.of(HEADER,
                "\"dev.bobbin.bench.ExecutorBench.invokeAll10k\",\"avgt\",1,8,200.0,10.0,\"ns/op\",bobbin,",
                "\"dev.bobbin.bench.ExecutorBench.invokeAll10k\",\"avgt\",1,8,100.0,10.0,\"ns/op\",jdk-virtual,",
                "\"dev.bobbin.bench.HandoffBenchmark.phaser\",\"thrpt\",1,8,100.0,10.0,\"ops/s\",,bobbin",
                "\"dev.bobbin.bench.HandoffBenchmark.phaser\",\"thrpt\",1,8,300.0,10.0,\"ops/s\",,jdk");
        Map<String, TargetScorecard.Row> rows = byKey(TargetScorecard.rows(timedRates, List.of(), List.of(), List.of()));
        assertEquals("not measured", rows.get("invokeAll10k").verdict());
        assertEquals("not measured", rows.get("phaser").verdict());
    }

    @Test
    void theChartRowsHoldEveryMeasuredTargetBesideItsBound() {
        List<TargetScorecard.Row> rows = TargetScorecard.rows(JMH, ECHO, HTTP, FOOTPRINT);
        List<BenchCharts.Point> points = BenchCharts.parse(TargetScorecard.csv(rows));
        long measured = rows.stream().filter(r -> !Double.isNaN(r.measured())).count();
        assertEquals(2 * measured, points.size());
        BenchCharts.Point first = points.getFirst();
        assertEquals("measured", first.series());
        assertEquals("synchronousQueue", first.category());
        assertEquals(0.4, first.value(), 1e-9);
        assertEquals("target (at most)", points.get(1).series());
        assertEquals(1.0, points.get(1).value(), 1e-9);
        String md = TargetScorecard.markdown(rows);
        assertTrue(md.contains("met: " + rows.stream().filter(r -> r.verdict().equals("met")).count() + " of " + measured), md);
    }
}
