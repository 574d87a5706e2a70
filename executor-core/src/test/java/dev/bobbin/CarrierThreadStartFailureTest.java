package dev.bobbin;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A scheduler whose creation fails part-way because the JVM cannot start one more carrier thread
 * ({@code OutOfMemoryError: unable to create native thread}) must leave nothing behind, as one whose
 * driver fails to open does ({@link PartialStartTest}): the carriers it did start must stop and close their
 * drivers before create() throws. The child JVM runs under an address-space limit with large thread
 * stacks, so only a few dozen threads can start.
 */
@Tag("reliability")
@Timeout(120)
class CarrierThreadStartFailureTest {

    /** The child: creates a scheduler with more carriers than the JVM can start, then counts what is left. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Throwable failure = null;
            try {
                FiberScheduler.create(SchedulerConfig.builder().name("too-many").parallelism(4_000)
                        .stallThreshold(java.time.Duration.ZERO).build()).close();
            } catch (Throwable t) {
                failure = t;
            }
            System.out.println("failure=" + failure);
            Thread.sleep(1_000);                                  // anything still stopping has stopped
            long left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("too-many-") && t.isAlive()).count();
            System.out.println("threads-left=" + left);
            System.exit(0);
        }
    }

    @Test
    void carriersStartedBeforeAThreadStartFailureAreStopped() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String cmd = "ulimit -v 8000000 && exec " + java + " --add-opens java.base/java.lang=ALL-UNNAMED"
                + " -Xmx64m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=32m -XX:CompressedClassSpaceSize=32m"
                + " -XX:MaxMetaspaceSize=64m -Xss64m -cp " + System.getProperty("java.class.path") + " '" + Child.class.getName() + "'";
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", "-c", cmd)).redirectErrorStream(true);
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        Process p = pb.start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "child JVM hung");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("failure=") && !out.contains("failure=null"), "creation should have failed: " + out);
        assertTrue(out.contains("unable to create native thread"), out);
        assertTrue(out.contains("threads-left=0"), "carrier threads of the failed scheduler left running: " + out);
    }
}
