package dev.bobbin.bench;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The bench scripts check their arguments before they build or run anything: {@code --help} prints the
 * header and exits 0; a bad argument is one line and exit 2 (never bash's own message, nor a run that
 * fails later in the load generator).
 */
class BenchScriptArgumentsTest {

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "http-profile.sh | --help       | 0 | Where an HTTP server's CPU goes",
            "http-profile.sh | jdk 0 0      | 2 | connections and seconds must be at least 1",
            "http-profile.sh | nosuch       | 2 | kind must be",
            "reliability.sh  | --help       | 0 | The reliability suite as a soak",
            "reliability.sh  | --rounds     | 2 | --rounds needs a number",
            "reliability.sh  | --rounds x   | 2 | --rounds takes a positive number",
    })
    void argumentsAreCheckedFirst(String script, String args, int exit, String expected) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", script));
        cmd.addAll(List.of(args.trim().split(" +")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), script + " " + args + " did not end");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(exit, p.exitValue(), output);
        assertTrue(output.contains(expected.trim()), output);
        if (exit == 0) {
            assertFalse(output.lines().anyMatch(l -> l.startsWith("#")), "the header without '#': " + output);
        } else {
            assertFalse(output.contains("line "), "not bash's own message: " + output);
            assertEquals(1, output.lines().count(), "one line: " + output);
        }
    }
}
