package dev.bobbin.bench.charts;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class JmhRatiosTest {
    private static final List<String> JMH_CSV = List.of(
            "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: kind\",\"Param: scheduler\",\"Param: size\"",
            "\"dev.bobbin.bench.ExecutorBench.submitGet\",\"thrpt\",1,5,800000.0,1000.0,\"ops/s\",bobbin,,",
            "\"dev.bobbin.bench.ExecutorBench.submitGet\",\"thrpt\",1,5,100000.0,1000.0,\"ops/s\",jdk-fixed,,",
            "\"dev.bobbin.bench.ExecutorBench.submitGet\",\"thrpt\",1,5,160000.0,1000.0,\"ops/s\",jdk-virtual,,",
            "\"dev.bobbin.bench.PingPongBenchmark.pingPong\",\"thrpt\",1,5,2500000.0,100.0,\"ops/s\",,bobbin,",
            "\"dev.bobbin.bench.PingPongBenchmark.pingPong\",\"thrpt\",1,5,1250000.0,100.0,\"ops/s\",,jdk,",
            "\"dev.bobbin.bench.PingPongBenchmark.pingPong:gc.alloc.rate\",\"thrpt\",1,5,10.0,1.0,\"MB/sec\",,bobbin,",
            "\"dev.bobbin.bench.PingPongBenchmark.pingPong:gc.alloc.rate\",\"thrpt\",1,5,20.0,1.0,\"MB/sec\",,jdk,",
            "\"dev.bobbin.bench.HandoffBenchmark.phaser\",\"avgt\",1,3,4000.0,10.0,\"ns/op\",,bobbin,",
            "\"dev.bobbin.bench.HandoffBenchmark.phaser\",\"avgt\",1,3,100.0,10.0,\"ns/op\",,jdk,",
            "\"dev.bobbin.bench.SkewedSpawnBenchmark.skewedSpawn\",\"avgt\",1,3,11.0,1.0,\"ms/op\",,bobbin,10000",
            "\"dev.bobbin.bench.SkewedSpawnBenchmark.skewedSpawn\",\"avgt\",1,3,12.1,1.0,\"ms/op\",,jdk,10000",
            "\"dev.bobbin.bench.PolicyBench.run\",\"thrpt\",1,3,5.0,1.0,\"ops/s\",,,");

    @Test
    void pairsBobbinWithItsJdkCounterpartAndKeepsHigherIsBetter() {
        assertEquals(List.of(
                "run A,ExecutorBench.submitGet,ratio_vs_jdk,5.000",           // against jdk-virtual, not jdk-fixed
                "run A,PingPongBenchmark.pingPong,ratio_vs_jdk,2.000",
                "run A,HandoffBenchmark.phaser,ratio_vs_jdk,0.025",           // time per op: the JDK's over Bobbin's
                "run A,SkewedSpawnBenchmark.skewedSpawn [size=10000],ratio_vs_jdk,1.100"),
                JmhRatios.ratios(JMH_CSV, "run A"));
    }

    @Test
    void theRowsRenderAsAChart() {
        List<String> rows = JmhRatios.ratios(JMH_CSV, "x");
        List<BenchCharts.Point> points = BenchCharts.parse(rows);
        assertEquals(rows.size(), points.size());
        assertEquals("ratio_vs_jdk", points.getFirst().metric());
    }
}
