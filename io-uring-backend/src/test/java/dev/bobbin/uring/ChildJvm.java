package dev.bobbin.uring;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Test support: runs a class's {@code main} in a child JVM with the flags Bobbin's tests need, for settings a JVM reads once. */
public final class ChildJvm {
    private ChildJvm() { }

    /**
     * Runs {@code main} with {@code flags} and {@code args}; its output (stdout and stderr), after checking it
     * exited with 0 within a minute (a child still running then is killed and the test fails).
     */
    public static String run(List<String> flags, Class<?> main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-Dio.netty.leakDetection.level=PARANOID"));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(new File("/dev/null")).start();
        // read on another thread: a child that hangs keeps its output open, and the wait below must still end
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().name("child-jvm-output").start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(output);
            } catch (IOException e) {
                // the child was killed: its output so far is what there is
            }
        });
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            reader.join(10_000);
            fail("child JVM hung: " + output.toString(StandardCharsets.UTF_8));
        }
        reader.join(10_000);
        String out = output.toString(StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
