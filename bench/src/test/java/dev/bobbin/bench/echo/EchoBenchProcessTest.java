package dev.bobbin.bench.echo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole harness end to end, as {@code bench/echo-bench.sh} runs it: the driver starts each server in
 * its own JVM, runs the client in another, reads the server's CPU from /proc, and prints the table.
 * Tiny windows: this checks the plumbing, not the figures.
 */
class EchoBenchProcessTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void driverRunsServersAndClientsInTheirOwnProcessesAndPrintsTheTable(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path out = dir.resolve("echo.md");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(System.getProperty("bobbin.test.jvm.flags",
                "--add-opens java.base/java.lang=ALL-UNNAMED --enable-native-access=ALL-UNNAMED").trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), EchoBench.class.getName(),
                "--kinds", "jdk-vthread,bobbin-uring,netty-uring", "--connections", "4",
                "--warmup-ms", "200", "--window-ms", "500", "--server-jvm-opts", "-Xmx128m", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        try {
            assertTrue(p.waitFor(100, TimeUnit.SECONDS), "driver finished");
            String log = Files.readString(dir.resolve("log"), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), log);
            String table = Files.readString(out, StandardCharsets.UTF_8);
            String vthread = line(table, "| jdk-vthread | 4 |");
            String netty = line(table, "| netty-uring | 4 |");
            String bobbin = line(table, "| bobbin-uring | 4 |");
            for (String row : List.of(vthread, bobbin, netty)) {
                String[] cells = row.split("\\|");
                double rtPerSec = Double.parseDouble(cells[3].trim().replace(",", ""));
                double cpuPerRt = Double.parseDouble(cells[6].trim());
                assertTrue(rtPerSec > 0, row);
                assertTrue(cpuPerRt >= 0 && Double.isFinite(cpuPerRt), row);
            }
            assertTrue(vthread.contains("| 1.00x |"), vthread);
            assertTrue(netty.endsWith("|") && netty.split("\\|")[8].trim().equals("1.00x"), netty);
        } finally {
            p.destroyForcibly();
        }
    }

    private static String line(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no row starting " + prefix + " in:\n" + text));
    }

}
