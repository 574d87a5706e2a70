package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./bobbin example http [port] [--check]}: a bad port gets a usage line and exit code 2, a port
 * already taken one line and exit code 1; never a stack trace.
 */
class HttpServerExampleArgumentsTest {

    @Test
    void aNegativePortIsRefusedWithAUsageLine() throws Exception {
        assertRefused("-1", "--check");
    }

    @Test
    void aPortAbove65535IsRefusedWithAUsageLine() throws Exception {
        assertRefused("70000", "--check");
    }

    @Test
    void aSecondPortIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "0", "--check");
    }

    @Test
    void aPortInUseIsReportedInOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Result r = run(String.valueOf(taken.getLocalPort()), "--check");
            assertEquals(1, r.exit, r.output);
            assertTrue(r.output.contains("cannot listen on port " + taken.getLocalPort()), r.output);
            assertFalse(r.output.contains("\tat "), r.output);
        }
    }

    @Test
    void checkRunsEveryContextAndEnds() throws Exception {
        Result r = run("0", "--check");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("GET /metrics -> 200"), r.output);
        assertFalse(r.output.contains("\tat "), r.output);
    }

    private static void assertRefused(String... args) throws Exception {
        Result r = run(args);
        assertEquals(2, r.exit, r.output);
        assertTrue(r.output.contains("usage: ./bobbin example http"), r.output);
        assertFalse(r.output.contains("Exception"), r.output);
        assertFalse(r.output.contains("\tat "), r.output);
    }

    record Result(int exit, String output) { }

    private static Result run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), HttpServerExample.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the example did not end: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
