package dev.bobbin.uring.driver;

import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.IoTransport;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class NettyVersionCheckTest {

    @Test
    void netty41IsRefusedWithAMessageNamingFoundAndNeeded() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> NettyVersionCheck.check(
                Map.of("netty-common", "4.1.115.Final", "netty-transport", "4.1.115.Final")));
        assertTrue(e.getMessage().contains("4.1.115.Final"), e.getMessage());
        assertTrue(e.getMessage().contains("needs Netty 4.2"), e.getMessage());
    }

    @Test
    void netty42AndUnknownVersionsPass() {
        NettyVersionCheck.check(Map.of("netty-common", "4.2.18.Final", "netty-transport", "4.2.18.Final"));
        NettyVersionCheck.check(Map.of("netty-transport", "5.0.0.Alpha1"));
        NettyVersionCheck.check(Map.of());                       // a shaded jar without the versions file
        NettyVersionCheck.check(Map.of("netty-codec-http", "4.1.100.Final")); // other artifacts are not judged
    }

    @Test
    void theClassPathOfThisBuildPasses() {
        NettyVersionCheck.require();
    }

    /**
     * The situation the check exists for, in a child JVM: this module's class path with its
     * netty-transport 4.2 jar swapped for a real 4.1 one (what a dependency that pins Netty 4.1 does). Creating
     * an I/O scheduler must fail with the check's message, not with a {@link NoClassDefFoundError} from
     * loading Bobbin's own classes first.
     */
    @Test
    void aNetty41TransportJarFailsSchedulerCreationNamingBothVersions() throws Exception {
        Path netty41;
        try (Stream<Path> jars = Files.list(Path.of("target", "netty-4.1"))) {
            netty41 = jars.filter(p -> p.getFileName().toString().startsWith("netty-transport-4.1.")).findFirst()
                    .orElseThrow(() -> new AssertionError("the build copies a Netty 4.1 jar to target/netty-4.1"));
        }
        List<String> classPath = new ArrayList<>();
        boolean swapped = false;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (Path.of(entry).getFileName().toString().matches("netty-transport-4\\.2\\.[^-]*\\.jar")) {
                classPath.add(netty41.toAbsolutePath().toString());
                swapped = true;
            } else {
                classPath.add(entry);
            }
        }
        assertTrue(swapped, "netty-transport 4.2 was on the test class path");
        String version = netty41.getFileName().toString().replaceAll("^netty-transport-|\\.jar$", "");

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(System.getProperty("bobbin.test.jvm.flags").split(" ")));
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), Child.class.getName()));
        for (String entry : List.of("system", "nio")) {
            Process p = new ProcessBuilder(concat(cmd, entry)).redirectErrorStream(true).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("child JVM hung");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.startsWith("refused: java.lang.IllegalStateException: "), entry + ": " + out);
            assertTrue(out.contains("needs Netty 4.2"), out);
            assertTrue(out.contains("netty-transport " + version), out);
            assertFalse(out.contains("NoClassDefFoundError"), out);
        }
    }

    private static List<String> concat(List<String> list, String last) {
        List<String> all = new ArrayList<>(list);
        all.add(last);
        return all;
    }

    /** Creates an I/O scheduler as an application would (args[0]: system or nio), and prints what stopped it. */
    static final class Child {
        public static void main(String[] args) {
            try (var scheduler = (args[0].equals("nio") ? FiberIo.of(IoTransport.NIO) : FiberIo.system())
                    .newScheduler("netty41", 1)) {
                System.out.println("created " + scheduler);
            } catch (Throwable t) {
                System.out.println("refused: " + t);
                t.printStackTrace(System.out);                   // shown by a failing assertion only
            }
        }
    }
}
