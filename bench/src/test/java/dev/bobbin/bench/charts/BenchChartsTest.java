package dev.bobbin.bench.charts;

import org.junit.jupiter.api.Test;

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
    void rendersOnePngPerMetric() throws Exception {
        Path dir = Files.createTempDirectory("charts");
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
