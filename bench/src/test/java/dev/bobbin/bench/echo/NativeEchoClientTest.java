package dev.bobbin.bench.echo;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The C load client of the echo benchmark ({@code bench/echo-client/echo_client.c}), compiled with gcc
 * as {@code bench/echo-bench.sh} compiles it: it counts round trips and reads the server's CPU against a
 * correct server, and reports an error (exit status 1) against one that corrupts a byte or hangs up.
 * Needs gcc; without it the tests are skipped and say why.
 */
class NativeEchoClientTest {
    private static Path binary;

    @BeforeAll
    static void compile(@TempDir Path dir) throws Exception {
        Path source = Path.of(System.getProperty("user.dir"), "echo-client", "echo_client.c");
        assertTrue(Files.isRegularFile(source), "source at " + source);
        boolean gcc;
        try {
            gcc = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            gcc = false;
        }
        assumeTrue(gcc, "gcc is not installed; the native echo client cannot be built here");
        binary = dir.resolve("echo_client");
        Process p = new ProcessBuilder("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(), source.toString(), "-lm")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "gcc: " + out);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void countsRoundTripsAndReadsTheServersCpu() throws Exception {
        try (EchoServer server = ServerKind.JDK_VTHREAD.start(ServerOptions.defaults())) {
            long t0 = System.nanoTime();
            Run r = run(server.port(), "--connections", "3", "--size", "100", "--warmup-ms", "100", "--window-ms", "700",
                    "--server-pid", Long.toString(ProcessHandle.current().pid()));
            double ranMillis = (System.nanoTime() - t0) / 1e6;
            assertEquals(0, r.exit(), r.stderr());
            Map<String, String> m = r.result();
            assertEquals("3", m.get("connections"));
            assertEquals("100", m.get("size"));
            assertEquals("0", m.get("errors"));
            long roundTrips = Long.parseLong(m.get("round_trips"));
            assertTrue(roundTrips > 0, r.stdout());
            double p50 = Double.parseDouble(m.get("p50_us")), p99 = Double.parseDouble(m.get("p99_us"));
            assertTrue(p50 > 0 && p50 <= p99 && p99 <= Double.parseDouble(m.get("max_us")) * 1.01, r.stdout());
            assertTrue(Double.parseDouble(m.get("server_cpu_us_per_rt")) >= 0, r.stdout());
            double allServed = Double.parseDouble(m.get("all_served_ms"));
            assertTrue(allServed >= 0 && allServed <= ranMillis, "every connection's first echo came during the run: " + r.stdout());
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    @SuppressWarnings("try")   // closes a resource inside its try on purpose
    void aCorruptedByteOrAHangUpIsAnError() throws Exception {
        for (boolean hangUp : new boolean[] {false, true}) {
            try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                Thread server = Thread.ofPlatform().daemon().start(() -> badEcho(listener, hangUp));
                Run r = run(listener.getLocalPort(), "--connections", "1", "--warmup-ms", "0", "--window-ms", "2000");
                assertEquals(1, r.exit(), r.stdout() + r.stderr());
                assertEquals("1", r.result().get("errors"), r.stdout());
                assertTrue(r.result().get("all_served_ms").endsWith("nan"), "never served: " + r.stdout());
                assertTrue(r.stderr().contains(hangUp ? "closed by the server" : "wrong bytes"), r.stderr());
                listener.close();
                server.join(5_000);
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theDriverRunsItAsTheLoadClient(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("echo.md");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), EchoBench.class.getName(),
                "--client", "native", "--native-client", binary.toString(), "--kinds", "jdk-vthread", "--connections", "4",
                "--warmup-ms", "200", "--window-ms", "500", "--server-jvm-opts", "-Xmx128m", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        try {
            assertTrue(p.waitFor(100, TimeUnit.SECONDS), "driver finished");
            String log = Files.readString(dir.resolve("log"), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), log);
            String report = Files.readString(out, StandardCharsets.UTF_8);
            assertTrue(report.contains("client: the C epoll client"), report);
            String row = report.lines().filter(l -> l.startsWith("| jdk-vthread | 4 |")).findFirst().orElseThrow(() -> new AssertionError(report));
            assertTrue(Double.parseDouble(row.split("\\|")[3].trim().replace(",", "")) > 0, row);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void rejectsBadArguments() throws Exception {
        assertEquals(2, run(0, "--connections", "0").exit());
        assertEquals(2, run(0, "--size", "7").exit());
        assertEquals(2, run(0, "--bogus", "1").exit());
    }

    /** Echoes the first message with its last byte changed, or reads it and hangs up. */
    private static void badEcho(ServerSocket listener, boolean hangUp) {
        try (Socket s = listener.accept()) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] msg = in.readNBytes(64);
            if (hangUp) return;
            msg[63] ^= 0x5a;
            out.write(msg);
            out.flush();
            in.read();   // until the client closes
        } catch (IOException e) {
            // the client went away
        }
    }

    record Run(int exit, String stdout, String stderr) {
        Map<String, String> result() {
            String line = stdout.lines().filter(l -> l.startsWith("RESULT ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no RESULT line in: " + stdout + stderr));
            return EchoBench.keyValues(line);
        }
    }

    /** Runs the client; {@code port} 0 leaves --port out. */
    private static Run run(int port, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary.toString()));
        if (port > 0) cmd.addAll(List.of("--port", Integer.toString(port)));
        cmd.addAll(List.of(args));
        if (port == 0 && !cmd.contains("--connections")) cmd.addAll(List.of("--connections", "1"));
        if (port == 0) cmd.addAll(List.of("--port", "9"));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] err = p.getErrorStream().readAllBytes();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "client finished");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
