package dev.bobbin.bench.charts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code bench/charts.sh [FILE.csv ...]} passes its arguments to BenchCharts: help is help, and a file that
 * is not there is one line and exit code 2, never a stack trace.
 */
class BenchChartsArgumentsTest {

    @Test
    void helpPrintsUsageAndExitsZero() throws Exception {
        Result r = run("--help");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("usage"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
    }

    @Test
    void aMissingFileIsReportedInOneLine(@TempDir Path dir) throws Exception {
        String missing = dir.resolve("nosuch.csv").toString();
        Result r = run(missing);
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains(missing), r.output());
        assertFalse(r.output().contains("Exception"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
    }

    record Result(int exit, String output) { }

    private static Result run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), BenchCharts.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("BenchCharts did not end: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
