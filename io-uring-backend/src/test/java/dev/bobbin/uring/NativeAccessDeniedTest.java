package dev.bobbin.uring;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Without {@code --enable-native-access=ALL-UNNAMED}, on a JVM that denies native access (the JDK's
 * default to come; {@code --illegal-native-access=deny} today), Bobbin falls back to NIO: the reason it
 * logs and reports must name the missing flag, as the add-opens message does.
 */
class NativeAccessDeniedTest {

    /** Prints the transport {@link FiberIo#system()} chose and why. */
    public static final class Child {
        public static void main(String[] args) {
            FiberIo io = FiberIo.system();
            System.out.println("transport=" + io.transport().id() + " reason=" + io.selectionReason());
        }
    }

    @Test
    void theFallbackReasonNamesTheMissingFlag() throws Exception {
        List<String> cmd = List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--illegal-native-access=deny",
                "-cp", System.getProperty("java.class.path"), Child.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child JVM hung: " + cmd);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("transport=nio"), out);
        assertTrue(out.contains("--enable-native-access=ALL-UNNAMED"), "the reason does not name the flag: " + out);
    }
}
