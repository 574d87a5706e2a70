package dev.bobbin.bench;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code java -jar bench/target/benchmarks.jar ...} (README: "the benchmark jar already pass[es] both"
 * flags): the host JVM gets the flags from the jar's manifest, not from its command line, so JMH's forks
 * must get them from the jar's main class. Run here as the jar runs it: a host JVM without the flags.
 */
class BenchJarForkFlagsTest {

    @Test
    void aBobbinBenchmarkRunsInAForkOfAHostWithoutTheFlags() throws Exception {
        String mainClass = BenchMain.class.getName();   // the jar's Main-Class (bench/pom.xml)
        Result r = run(mainClass, "ExecutorCreationBench.bobbinSharedEmpty", "-f", "1", "-wi", "0", "-i", "1", "-r", "100ms");
        assertEquals(0, r.exit, r.output);
        assertFalse(r.output.contains("<failure>"), r.output);
        assertFalse(r.output.contains("--add-opens java.base/java.lang"), r.output);
        assertTrue(r.output.contains("Result \"dev.bobbin.bench.ExecutorCreationBench.bobbinSharedEmpty\""), r.output);
    }

    @Test
    void aGivenJvmArgsPrependKeepsItsOptions() {
        String[] args = BenchMain.withForkFlags(new String[] {"X", "-jvmArgsPrepend", "-Xmx1g"});
        assertArrayEquals(new String[] {"X", "-jvmArgsPrepend", BenchMain.FORK_FLAGS + " -Xmx1g"}, args);
    }

    record Result(int exit, String output) { }

    private static Result run(String main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("JMH did not end: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
