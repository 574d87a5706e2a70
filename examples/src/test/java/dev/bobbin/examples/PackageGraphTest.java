package dev.bobbin.examples;

import dev.bobbin.FiberScheduler;
import dev.bobbin.http.BobbinHttpServerProvider;
import dev.bobbin.metrics.BobbinMetrics;
import dev.bobbin.uring.FiberIo;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The package graph of Bobbin's main code is the architecture: read from the compiled classes of every
 * library module with the JDK's {@code jdeps}, it has no cycle, and the layering rules of the package
 * overviews hold (the engine names nothing of the public API, the I/O driver only the SPI and the
 * JDK-only bottom package {@code dev.bobbin.base}, the bottom packages nothing of Bobbin, and no module
 * outside executor-core reaches into the engine).
 */
class PackageGraphTest {

    /** Package to the Bobbin packages it uses, from the compiled classes of the four library modules. */
    static Map<String, Set<String>> bobbinGraph() throws URISyntaxException {
        List<String> args = new ArrayList<>(List.of("-verbose:package", "-filter:none"));
        for (Class<?> c : List.of(FiberScheduler.class, FiberIo.class, BobbinMetrics.class, BobbinHttpServerProvider.class)) {
            args.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("this JDK has no jdeps"));
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        assertEquals(0, rc, () -> "jdeps failed: " + err);
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            String[] f = line.trim().split("\\s+");
            // "dev.bobbin.x -> dev.bobbin.y <where>": a package-level edge
            if (f.length >= 3 && f[1].equals("->") && f[0].startsWith("dev.bobbin") && f[2].startsWith("dev.bobbin")
                    && !f[0].equals(f[2])) {
                graph.computeIfAbsent(f[0], k -> new TreeSet<>()).add(f[2]);
                graph.computeIfAbsent(f[2], k -> new TreeSet<>());
            }
        }
        return graph;
    }

    /** The graph's cycles: its strongly connected components of more than one package (Tarjan). */
    static List<Set<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> result = new ArrayList<>();
        int[] next = {0};
        for (String v : graph.keySet()) {
            if (!index.containsKey(v)) connect(v, graph, index, low, stack, onStack, result, next);
        }
        return result;
    }

    private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                List<Set<String>> result, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : graph.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, graph, index, low, stack, onStack, result, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) result.add(component);
        }
    }

    @Test
    void theCycleFinderFindsCycles() {
        // the check below is only as good as this: a graph with a back-arrow must be reported
        Map<String, Set<String>> broken = Map.of(
                "dev.bobbin", Set.of("dev.bobbin.scheduler", "dev.bobbin.spi"),
                "dev.bobbin.scheduler", Set.of("dev.bobbin.scheduler.queue", "dev.bobbin"),
                "dev.bobbin.scheduler.queue", Set.of(),
                "dev.bobbin.spi", Set.of());
        assertEquals(List.of(Set.of("dev.bobbin", "dev.bobbin.scheduler")), cycles(new TreeMap<>(broken)));
        Map<String, Set<String>> layered = Map.of(
                "dev.bobbin", Set.of("dev.bobbin.scheduler", "dev.bobbin.spi"),
                "dev.bobbin.scheduler", Set.of("dev.bobbin.scheduler.queue", "dev.bobbin.spi"),
                "dev.bobbin.scheduler.queue", Set.of(),
                "dev.bobbin.spi", Set.of());
        assertEquals(List.of(), cycles(new TreeMap<>(layered)));
    }

    @Test
    void bobbinsPackagesFormNoCycle() throws Exception {
        Map<String, Set<String>> graph = bobbinGraph();
        // the graph was really read: the facade's arrow into the engine is there
        assertTrue(graph.getOrDefault("dev.bobbin", Set.of()).contains("dev.bobbin.scheduler"), graph::toString);
        assertEquals(List.of(), cycles(graph), () -> "package cycles in " + graph);
    }

    @Test
    void layersUseOnlyWhatTheirOverviewsAllow() throws Exception {
        Map<String, Set<String>> graph = bobbinGraph();
        assertEquals(Set.of(), uses(graph, "dev.bobbin.base"), "the bottom package uses no other Bobbin package");
        assertEquals(Set.of(), uses(graph, "dev.bobbin.spi"), "the SPI uses no other Bobbin package");
        assertEquals(Set.of("dev.bobbin.base"), uses(graph, "dev.bobbin.scheduler.queue"));
        assertEquals(Set.of("dev.bobbin.base", "dev.bobbin.scheduler.queue", "dev.bobbin.spi"),
                uses(graph, "dev.bobbin.scheduler"), "the engine names nothing of the public API");
        assertEquals(Set.of("dev.bobbin.base", "dev.bobbin.spi"), uses(graph, "dev.bobbin.uring.driver"),
                "the I/O driver uses only the SPI (and the JDK-only bottom package)");
        for (String pkg : graph.keySet()) {
            if (pkg.equals("dev.bobbin") || pkg.startsWith("dev.bobbin.scheduler")) continue;
            for (String used : uses(graph, pkg)) {
                assertFalse(used.startsWith("dev.bobbin.scheduler"), pkg + " reaches into the engine: " + used);
            }
        }
    }

    private static Set<String> uses(Map<String, Set<String>> graph, String pkg) {
        assertTrue(graph.containsKey(pkg), () -> pkg + " is missing from the graph " + graph.keySet());
        return graph.get(pkg);
    }
}
