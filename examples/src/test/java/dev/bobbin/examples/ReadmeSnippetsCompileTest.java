package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every {@code java} code block of the project's READMEs compiles against the real API: each block is
 * the body of a method that may throw, with the usual imports, compiled with the examples' class path.
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

    private static final List<String> READMES = List.of(
            "README.md", "executor-core/README.md", "io-uring-backend/README.md", "metrics/README.md", "bench/README.md");

    @Test
    void everyJavaBlockCompiles() throws Exception {
        Path root = Path.of("..").toRealPath();
        List<JavaFileObject> units = new ArrayList<>();
        Pattern block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
        for (String readme : READMES) {
            Path file = root.resolve(readme);
            if (!Files.exists(file)) continue;
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
        Path out = Files.createTempDirectory("readme-snippets");
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
