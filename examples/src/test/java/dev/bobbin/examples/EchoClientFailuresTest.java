package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./bobbin example echo 0 400 1} where the process may hold only 256 descriptors: the clients that
 * connected hold the descriptors the server needs to accept them, and wait for an answer. The example must
 * end anyway, with one line saying how many clients failed and a non-zero exit, not wait forever.
 */
class EchoClientFailuresTest {

    @Test
    void clientsBeyondTheDescriptorLimitFailAndTheExampleEnds() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String cmd = "ulimit -n 256 && exec '" + java + "' --add-opens java.base/java.lang=ALL-UNNAMED"
                + " --enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path") + "' "
                + EchoServerExample.class.getName() + " 0 400 1";
        File log = File.createTempFile("echo-fd-limit", ".log");   // a file: a full pipe would stall the example
        log.deleteOnExit();
        Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true)
                .redirectOutput(log).start();
        boolean ended = p.waitFor(90, TimeUnit.SECONDS);
        if (!ended) p.destroyForcibly().waitFor();
        String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        assertTrue(ended, "the example did not end:\n" + output.lines().limit(20).reduce("", (a, b) -> a + b + "\n"));
        assertEquals(1, p.exitValue(), output);
        assertTrue(output.contains("clients failed"), output);
        assertTrue(output.lines().filter(l -> l.startsWith("client failed")).count() == 0, output);
    }
}
