package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./bobbin example echo [port [clients [round-trips]]]}: a bad argument gets a usage line and exit
 * code 2, a port already taken one line and exit code 1; never a stack trace.
 */
class EchoServerExampleArgumentsTest {

    @Test
    void aNegativePortIsRefusedWithAUsageLine() throws Exception {
        assertRefused("-1");
    }

    @Test
    void aPortAbove65535IsRefusedWithAUsageLine() throws Exception {
        assertRefused("70000");
    }

    @Test
    void aNegativeClientCountIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "-5");
    }

    @Test
    void aNegativeRoundTripCountIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "1", "-3");
    }

    @Test
    void anExtraArgumentIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "1", "1", "extra");
    }

    @Test
    void aPortInUseIsReportedInOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(0));
            Result r = run(String.valueOf(taken.getLocalPort()), "1", "1");
            assertEquals(1, r.exit, r.output);
            assertTrue(r.output.contains("cannot listen on port " + taken.getLocalPort()), r.output);
            assertFalse(r.output.contains("\tat "), r.output);
        }
    }

    @Test
    void validArgumentsRun() throws Exception {
        Result r = run("0", "2", "3");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("6 exchanges"), r.output);
        assertFalse(r.output.contains("\tat "), r.output);
    }

    private static void assertRefused(String... args) throws Exception {
        Result r = run(args);
        assertEquals(2, r.exit, r.output);
        assertTrue(r.output.contains("usage: ./bobbin example echo"), r.output);
        assertFalse(r.output.contains("Exception"), r.output);
        assertFalse(r.output.contains("\tat "), r.output);
    }

    record Result(int exit, String output) { }

    private static Result run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), EchoServerExample.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the example did not end: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
