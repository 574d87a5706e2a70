package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every {@code java} code block of every README.md in the repository compiles against the real API: each
 * block is the body of a method that may throw, with the usual imports, compiled with the examples' class
 * path. The READMEs are found by walking the repository, so a new one is covered without a change here.
 */
class ReadmeSnippetsCompileTest {
    private static final String IMPORTS = """
            import dev.bobbin.*;
            import dev.bobbin.uring.*;
            import dev.bobbin.metrics.*;
            import dev.bobbin.http.*;
            import com.sun.net.httpserver.*;
            import io.micrometer.core.instrument.*;
            import io.micrometer.core.instrument.simple.*;
            import java.io.*;
            import java.net.*;
            import java.time.*;
            import java.util.*;
            import java.util.concurrent.*;
            """;

    /** Every README.md of the repository (build output and hidden directories aside), root first. */
    static List<Path> readmes(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.getFileName().toString().equals("README.md"))
                    .filter(f -> {
                        for (Path part : root.relativize(f)) {
                            String p = part.toString();
                            if (p.equals("target") || p.equals("node_modules") || p.startsWith(".")) return false;
                        }
                        return true;
                    })
                    .sorted(Comparator.comparing((Path f) -> f.getNameCount()).thenComparing(Path::toString))
                    .toList();
        }
    }

    @Test
    void everyModulesReadmeIsFound() throws Exception {
        Path root = Path.of("..").toRealPath();
        List<Path> found = readmes(root);
        assertEquals(root.resolve("README.md"), found.getFirst());
        for (String module : List.of("executor-core", "io-uring-backend", "metrics", "bench")) {
            assertTrue(found.contains(root.resolve(module).resolve("README.md")), module + " in " + found);
        }
    }

    @Test
    void everyJavaBlockCompiles(@org.junit.jupiter.api.io.TempDir Path out) throws Exception {   // classes go to a directory removed afterwards
        Path root = Path.of("..").toRealPath();
        List<JavaFileObject> units = new ArrayList<>();
        Pattern block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
        for (Path file : readmes(root)) {
            String readme = root.relativize(file).toString();
            Matcher m = block.matcher(Files.readString(file));
            while (m.find()) {
                String name = "Snippet" + units.size();
                String source = IMPORTS + "\n// from " + readme + "\nclass " + name
                        + " {\n static void run() throws Exception {\n" + m.group(1) + "\n }\n}\n";
                units.add(new SimpleJavaFileObject(URI.create("string:///" + name + ".java"), JavaFileObject.Kind.SOURCE) {
                    @Override public CharSequence getCharContent(boolean ignoreEncodingErrors) { return source; }
                });
            }
        }
        assertTrue(units.size() >= 3, "the READMEs' java blocks were found: " + units.size());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        boolean ok = javac.getTask(null, null, diagnostics,
                List.of("-proc:none", "-d", out.toString(), "-classpath", System.getProperty("java.class.path")),
                null, units).call();
        StringBuilder errors = new StringBuilder();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                errors.append(d.getSource() != null ? d.getSource().getName() : "?").append(':')
                        .append(d.getLineNumber()).append(": ").append(d.getMessage(null)).append('\n');
            }
        }
        assertTrue(ok, "README code does not compile:\n" + errors);
    }
}
