package dev.bobbin.bench.charts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BenchChartsTest {

    @Test
    void parsesRowsAndSkipsHeadersCommentsAndMissingValues() {
        List<BenchCharts.Point> points = BenchCharts.parse(List.of(
                "# a comment", "series,category,metric,value",
                "100 connections,bobbin-uring,rt_per_s,121879", "100 connections,netty,p99_us,NaN", ""));
        assertEquals(List.of(new BenchCharts.Point("100 connections", "bobbin-uring", "rt_per_s", 121879)), points);
        assertThrows(IllegalArgumentException.class, () -> BenchCharts.parse(List.of("too,few")));
    }

    @Test
    void aWideSpanOfPositiveValuesGetsALogarithmicAxis() {
        List<BenchCharts.Point> wide = BenchCharts.parse(List.of("a,jdk,p99_us,2000000", "a,netty,p99_us,4000"));
        List<BenchCharts.Point> narrow = BenchCharts.parse(List.of("a,jdk,p99_us,20000", "a,netty,p99_us,4000"));
        List<BenchCharts.Point> withZero = BenchCharts.parse(List.of("a,jdk,p99_us,2000000", "a,netty,p99_us,0"));
        assertTrue(BenchCharts.logScale(wide));
        assertFalse(BenchCharts.logScale(narrow));
        assertFalse(BenchCharts.logScale(withZero));
        assertTrue(BenchCharts.chart("http", "p99_us", wide).getStyler().isYAxisLogarithmic());
        assertTrue(BenchCharts.chart("http", "p99_us", wide).getTitle().endsWith("log scale"));
        assertFalse(BenchCharts.chart("http", "p99_us", narrow).getStyler().isYAxisLogarithmic());
    }

    @Test
    void rendersALogarithmicChartWithAMissingCell(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("http.csv");
        Files.writeString(csv, """
                series,category,metric,value
                hello 64 conns,jdk,p99_us,2550000
                hello 64 conns,netty-uring,p99_us,4000
                sleep 1000 conns,netty-uring,p99_us,32890
                """);
        System.setProperty("java.awt.headless", "true");
        List<Path> out = BenchCharts.render(csv);
        assertEquals(List.of(csv.resolveSibling("http-p99-us.png")), out);
        assertTrue(Files.size(out.getFirst()) > 1000);
    }

    @Test
    void rendersOnePngPerMetric(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("echo.csv");
        Files.writeString(csv, """
                series,category,metric,value
                100 connections,bobbin-uring,rt_per_s,120000
                1000 connections,bobbin-uring,rt_per_s,90000
                100 connections,netty-uring,rt_per_s,95000
                100 connections,bobbin-uring,server_cpu_us_per_rt,8.3
                """);
        System.setProperty("java.awt.headless", "true");
        List<Path> out = BenchCharts.render(csv);
        assertEquals(List.of(dir.resolve("echo-rt-per-s.png"), dir.resolve("echo-server-cpu-us-per-rt.png")), out);
        for (Path png : out) {
            byte[] b = Files.readAllBytes(png);
            assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is a PNG");
        }
    }
}
