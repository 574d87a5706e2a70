package dev.bobbin.bench;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code bench/jmh-bench.sh -h} (or a listing: {@code -l}, {@code -lp}, ...) runs no benchmark, so it must not
 * rewrite the committed {@code bench/results/jmh.csv} and its chart from the old raw file under a new date.
 * The script runs in a sandbox whose {@code ./bobbin}, probe and charts.sh are stubs recording their calls.
 */
class JmhBenchScriptTest {

    @ParameterizedTest
    @ValueSource(strings = {"-h", "-l", "-lp"})
    void helpAndListingsLeaveTheResultsAlone(String option, @TempDir Path root) throws Exception {
        Path calls = root.resolve("calls");
        Files.createDirectories(root.resolve("bench/probe"));
        Files.createDirectories(root.resolve("bench/results/raw"));
        Files.copy(Path.of("jmh-bench.sh"), root.resolve("bench/jmh-bench.sh"));
        stub(root.resolve("bobbin"), "echo \"bobbin $*\" >> '" + calls + "'");
        stub(root.resolve("bench/probe/probe.sh"), "exit 0");
        stub(root.resolve("bench/charts.sh"), "echo \"charts.sh $*\" >> '" + calls + "'");
        Files.writeString(root.resolve("bench/results/raw/jmh.csv"), "\"Benchmark\",\"Mode\"\n");
        String committed = "series,category,metric,value\n2000-01-01,X.y,ratio_vs_jdk,1.0\n";
        Files.writeString(root.resolve("bench/results/jmh.csv"), committed);

        Process p = new ProcessBuilder("bash", root.resolve("bench/jmh-bench.sh").toString(), option)
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jmh-bench.sh did not end");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        String made = Files.readString(calls);
        assertTrue(made.contains("bobbin bench " + option), made);
        assertFalse(made.contains("JmhRatios"), "ratios recomputed from the old raw file: " + made);
        assertFalse(made.contains("charts.sh"), "chart re-rendered: " + made);
        assertEquals(committed, Files.readString(root.resolve("bench/results/jmh.csv")));
    }

    private static void stub(Path file, String body) throws Exception {
        Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
