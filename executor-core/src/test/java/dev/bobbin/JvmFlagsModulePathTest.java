package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * On the module path Bobbin is a named (automatic) module, {@code dev.bobbin.core} from its jar: the missing
 * add-opens message must name the flag that works there, which opens {@code java.lang} to that module, not
 * to {@code ALL-UNNAMED}. Following the message has to make the program run.
 */
class JvmFlagsModulePathTest {

    @Test
    void onTheModulePathTheMessageNamesAFlagThatWorks(@TempDir Path dir) throws Exception {
        // the library jar as the build makes it: target/classes with the Automatic-Module-Name
        Path manifest = Files.writeString(dir.resolve("MANIFEST.MF"), "Automatic-Module-Name: dev.bobbin.core\n");
        Path classes = dir.resolve("bobbin-executor-core.jar");
        int jar = ToolProvider.findFirst("jar").orElseThrow().run(System.out, System.err, "--create",
                "--file", classes.toString(), "--manifest", manifest.toString(), "-C", Path.of("target", "classes").toString(), ".");
        assertEquals(0, jar);
        String module = ModuleFinder.of(classes).findAll().iterator().next().descriptor().name();
        assertEquals("dev.bobbin.core", module);
        Path main = dir.resolve("Main.java");
        Files.writeString(main, """
                public class Main {
                    public static void main(String[] args) throws Exception {
                        try (dev.bobbin.FiberScheduler s = dev.bobbin.FiberScheduler.create()) {
                            s.start(() -> System.out.println("fiber ran")).join();
                        }
                    }
                }
                """);
        // as the README says: the flag for the class path
        Result first = run(classes, module, "--add-opens", "java.base/java.lang=ALL-UNNAMED", main);
        assertNotEquals(0, first.exit, first.output);
        Matcher named = Pattern.compile("(--add-opens) (java\\.base/java\\.lang=\\S+)").matcher(first.output);
        assertTrue(named.find(), first.output);
        assertNotEquals("java.base/java.lang=ALL-UNNAMED", named.group(2),
                "the message repeats the flag the JVM already has: " + first.output);
        // following the message runs the program
        Result second = run(classes, module, named.group(1), named.group(2), main);
        assertEquals(0, second.exit, second.output);
        assertTrue(second.output.contains("fiber ran"), second.output);
    }

    record Result(int exit, String output) { }

    private static Result run(Path modulePath, String module, String flag, String value, Path main) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                flag, value, "--module-path", modulePath.toString(), "--add-modules", module, main.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child JVM hung: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
