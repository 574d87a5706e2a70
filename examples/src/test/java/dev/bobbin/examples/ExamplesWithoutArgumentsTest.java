package dev.bobbin.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The examples that take no arguments refuse one with a usage line and exit code 2, instead of ignoring it
 * ({@code ./bobbin example executor 100} does not run 100 of anything).
 */
class ExamplesWithoutArgumentsTest {

    @ParameterizedTest
    @ValueSource(classes = {ExecutorExample.class, MetricsExample.class, ThreadModelExample.class})
    void anArgumentIsRefusedWithAUsageLine(Class<?> example) throws Exception {
        List<String> cmd = List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), example.getName(), "100");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the example did not end: " + cmd);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains("usage: ./bobbin example ") && output.contains("takes no arguments"), output);
    }
}
