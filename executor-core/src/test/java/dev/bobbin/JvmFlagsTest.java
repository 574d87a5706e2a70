package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Behaviour that depends on the JVM's command line or on what happened first in a JVM, tested in fresh
 * child JVMs: the missing add-opens message, and where the JDK's socket pollers run (hosted by the first
 * scheduler unless the application chose, never on a scheduler by accident, alive after their host).
 */
class JvmFlagsTest {

    @Test
    void withoutAddOpensCreateFailsNamingTheFlag() throws Exception {
        Result r = runJava(List.of(), ChildMain.class.getName(), "create");
        assertNotEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("IllegalStateException"), r.output);
        assertTrue(r.output.contains("--add-opens java.base/java.lang=ALL-UNNAMED"), r.output);
    }

    @Test
    void withAddOpensCreateWorks() throws Exception {
        Result r = runJava(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED"), ChildMain.class.getName(), "create");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("fiber ran"), r.output);
    }

    @Test
    void jdkSocketPollersNeverRunOnBobbinCarriers() throws Exception {
        List<String> opens = List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-Djdk.pollerMode=2");
        // Control: a virtual thread on a custom executor that does socket I/O first captures the pollers.
        // This proves the hazard is real and that the check below can see it.
        Result hazard = runJava(opens, ChildMain.class.getName(), "pollers-raw");
        assertEquals(0, hazard.exit, hazard.output);
        assertTrue(hazard.output.contains("pollers-on-custom-scheduler=true"), hazard.output);
        // Bobbin: the first socket I/O happens in a fiber, yet the pollers stay on the JDK's scheduler.
        Result bobbin = runJava(opens, ChildMain.class.getName(), "pollers-bobbin");
        assertEquals(0, bobbin.exit, bobbin.output);
        assertTrue(bobbin.output.contains("pollers-on-custom-scheduler=false"), bobbin.output);
        assertTrue(bobbin.output.contains("echoed=ok"), bobbin.output);
    }

    @Test
    void theFirstSchedulerHostsTheJdkPollersUnlessTheApplicationChose() throws Exception {
        // No choice made and no socket polled before the first scheduler: its fibers host the sub-pollers.
        childPrints(List.of(), "poller-mode", "property=2", "virtual-pollers=true", "hosted=true");
        // A first scheduler with no second carrier to move them to (single thread) does not host them.
        childPrints(List.of(), "poller-mode-single-thread", "property=1", "virtual-pollers=false", "hosted=false");
        // Nor does one with a single carrier and its default spare (README, "What uses io_uring": at least two
        // carriers; the README once said a spare was enough).
        childPrints(List.of(), "poller-mode-one-carrier", "property=1", "virtual-pollers=false", "hosted=false");
        // -Dbobbin.jdkPollers=threads: platform-thread pollers, nothing on the carriers.
        childPrints(List.of("-Dbobbin.jdkPollers=threads"), "poller-mode", "property=1", "virtual-pollers=false", "hosted=false");
        // The application's explicit choice stands, and its sub-pollers stay on the JDK's scheduler.
        childPrints(List.of("-Djdk.pollerMode=2"), "poller-mode", "property=2", "virtual-pollers=true", "hosted=false");
        // Pollers already running in the JDK's default mode: the property is left unset, so it does not lie.
        childPrints(List.of(), "poller-mode-after-jdk-io", "property=null", "virtual-pollers=true", "hosted=false");
        // A bad value fails the scheduler's creation, naming the property.
        Result refused = runJava(withOpens(List.of("-Dbobbin.jdkPollers=carriers")), ChildMain.class.getName(), "poller-mode");
        assertNotEquals(0, refused.exit, refused.output);
        assertTrue(refused.output.contains("IllegalArgumentException") && refused.output.contains("-Dbobbin.jdkPollers"),
                refused.output);
    }

    /** Runs {@link ChildMain} {@code mode} with {@code jvmArgs} and the opens; it must succeed and print each line. */
    private static void childPrints(List<String> jvmArgs, String mode, String... lines) throws Exception {
        Result r = runJava(withOpens(jvmArgs), ChildMain.class.getName(), mode);
        assertEquals(0, r.exit, r.output);
        for (String line : lines) assertTrue(r.output.contains(line), jvmArgs + " " + mode + ": no '" + line + "' in\n" + r.output);
    }

    private static List<String> withOpens(List<String> jvmArgs) {
        List<String> all = new ArrayList<>(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"));
        all.addAll(jvmArgs);
        return all;
    }

    @Test
    void hostedPollersOutliveTheirScheduler() throws Exception {
        Result r = runJava(withOpens(List.of()), ChildMain.class.getName(), "hosted-lifecycle");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("hosted=true"), r.output);
        assertTrue(r.output.contains("host-live=0"), "the pollers are not counted as live fibers: " + r.output);
        assertTrue(r.output.contains("closed=true"), "close returned with the pollers still running: " + r.output);
        assertTrue(r.output.contains("through-close=ok"), "a JDK virtual thread's echo loop across the close: " + r.output);
        assertTrue(r.output.contains("after-close-vthread=ok"), r.output);
        assertTrue(r.output.contains("after-close-fiber=ok"), r.output);
        assertTrue(r.output.contains("other-hosts=0"), "only the first scheduler hosts: " + r.output);
        assertTrue(r.output.contains("runner=true"), "the pollers moved to their own runner: " + r.output);
        assertFalse(r.output.contains("Exception"), r.output);
    }

    /**
     * The scheduler hosting the JDK's pollers has every carrier and spare held by a spinning fiber: a JDK
     * virtual thread's socket wake-ups still come (the stall monitor runs the pollers off the pool).
     */
    @Test
    void hostedPollersAreNotStarvedByTheHostsComputations() throws Exception {
        Result r = runJava(withOpens(List.of()), ChildMain.class.getName(), "hosted-starvation");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("hosted=true"), r.output);
        assertTrue(r.output.contains("spares-started=2"), "every spare held too: " + r.output);
        assertTrue(r.output.contains("echo-while-spinning=ok"), r.output);
        assertTrue(r.output.contains("poller-rescues=true"), r.output);
    }

    record Result(int exit, String output) { }

    static Result runJava(List<String> jvmArgs, String main, String... args) throws IOException, InterruptedException {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main);
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
            fail("child JVM hung: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
