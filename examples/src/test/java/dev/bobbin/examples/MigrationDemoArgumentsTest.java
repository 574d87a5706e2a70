package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ./bobbin example migration [fibers]}: a bad argument gets a usage line and exit code 2, not a stack trace. */
class MigrationDemoArgumentsTest {

    @Test
    void aNonNumberIsRefusedWithAUsageLine() throws Exception {
        assertRefused("x");
    }

    @Test
    void aNegativeCountIsRefusedWithAUsageLine() throws Exception {
        assertRefused("-1");
    }

    @Test
    void anExtraArgumentIsRefusedWithAUsageLine() throws Exception {
        assertRefused("2", "3");
    }

    @Test
    void aValidCountRuns() throws Exception {
        Result r = run("2");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("identity stable: true"), r.output);
    }

    private static void assertRefused(String... args) throws Exception {
        Result r = run(args);
        assertEquals(2, r.exit, r.output);
        assertTrue(r.output.contains("usage: ./bobbin example migration"), r.output);
        assertFalse(r.output.contains("Exception"), r.output);
        assertFalse(r.output.contains("\tat "), r.output);
    }

    record Result(int exit, String output) { }

    private static Result run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), MigrationDemo.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the example did not end: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
