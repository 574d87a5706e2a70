package dev.bobbin.examples;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One run of an example's {@code main} in a JVM of its own, with Bobbin's two flags (as {@code ./bobbin
 * example} starts it): its exit code and its output, standard error included.
 */
record ExampleRun(int exit, String output) {

    static ExampleRun of(Class<?> example, String... args) throws Exception {
        return withJvmOptions(List.of(), example, args);
    }

    /** As {@link #of}, with JVM options before the main class ({@code ./bobbin example NAME args -- options}). */
    static ExampleRun withJvmOptions(List<String> jvmOptions, Class<?> example, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), example.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the example did not end: " + cmd);
        }
        return new ExampleRun(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** Refused as a user would want: exit code 2, a line containing {@code usage}, no exception. */
    void assertRefusedWith(String usage) {
        assertEquals(2, exit, output);
        assertTrue(output.contains(usage), output);
        assertFalse(output.contains("Exception"), output);
        assertFalse(output.contains("\tat "), output);
    }
}
