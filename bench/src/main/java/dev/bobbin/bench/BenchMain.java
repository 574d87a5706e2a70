package dev.bobbin.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmark jar's entry point: JMH's own, with Bobbin's two JVM flags given to every forked benchmark
 * JVM. The jar's manifest ({@code Add-Opens}, {@code Enable-Native-Access}) only covers the JVM that
 * {@code java -jar} starts; JMH runs each benchmark in a new JVM with the host's command-line options,
 * to which a manifest adds nothing, so without this a plain {@code java -jar benchmarks.jar} fails in
 * every Bobbin benchmark for lack of the add-opens.
 */
public final class BenchMain {
    static final String FORK_FLAGS = "--add-opens=java.base/java.lang=ALL-UNNAMED --enable-native-access=ALL-UNNAMED";

    private BenchMain() { }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(withForkFlags(args));
    }

    /** {@code args} with the flags prepended to the forks' JVM options (merged into a given -jvmArgsPrepend). */
    static String[] withForkFlags(String[] args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        int i = all.indexOf("-jvmArgsPrepend");
        if (i >= 0 && i + 1 < all.size()) {
            all.set(i + 1, FORK_FLAGS + " " + all.get(i + 1));
        } else {
            all.addAll(0, List.of("-jvmArgsPrepend", FORK_FLAGS));
        }
        return all.toArray(String[]::new);
    }
}
