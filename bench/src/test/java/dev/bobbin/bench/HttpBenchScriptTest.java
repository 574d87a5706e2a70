package dev.bobbin.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code bench/http-bench.sh --help} lists the options and servers: on a machine without wrk it must not
 * install wrk (apt-get) first, nor fail for want of it. The script runs in a sandbox whose {@code ./bobbin},
 * probe and apt-get are stubs, with a PATH that has no wrk.
 */
class HttpBenchScriptTest {

    @Test
    void helpNeedsNoWrkAndInstallsNothing(@TempDir Path root) throws Exception {
        Path calls = root.resolve("calls");
        Files.writeString(calls, "");
        Files.createDirectories(root.resolve("bench/probe"));
        Files.createDirectories(root.resolve("bench/target"));
        Files.copy(Path.of("http-bench.sh"), root.resolve("bench/http-bench.sh"));
        stub(root.resolve("bobbin"), "echo \"bobbin $*\" >> '" + calls + "'\n"
                + "case \"$1\" in mvn) touch '" + root.resolve("bench/target/benchmarks.jar") + "' ;;"
                + " java) echo 'usage: HttpBench [--servers s1,s2,...]' ;; esac");
        stub(root.resolve("bench/probe/probe.sh"), "exit 0");
        Path bin = Files.createDirectories(root.resolve("bin"));       // the system's commands, less wrk
        List<Path> links = new ArrayList<>();
        try {
            run(root, bin, calls, links);
        } finally {
            for (Path l : links) Files.deleteIfExists(l);   // so that the temp dir's removal meets no link to warn of
        }
    }

    private static void run(Path root, Path bin, Path calls, List<Path> links) throws Exception {
        for (String dir : new String[] {"/usr/bin", "/bin"}) {
            try (Stream<Path> files = Files.list(Path.of(dir))) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString();
                    if (name.equals("wrk") || name.equals("apt-get") || Files.exists(bin.resolve(name))) continue;
                    links.add(Files.createSymbolicLink(bin.resolve(name), f));
                }
            } catch (IOException e) {
                // no such directory
            }
        }
        stub(bin.resolve("apt-get"), "echo \"apt-get $*\" >> '" + calls + "'; exit 100");

        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("bench/http-bench.sh").toString(), "--help")
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin.toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "http-bench.sh --help did not end");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String made = Files.readString(calls);
        assertFalse(made.contains("apt-get"), "--help ran apt-get: " + made);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("usage: HttpBench"), output);
    }

    private static void stub(Path file, String body) throws Exception {
        Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
