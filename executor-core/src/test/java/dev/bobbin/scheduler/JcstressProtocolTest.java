package dev.bobbin.scheduler;

import dev.bobbin.scheduler.queue.InjectionQueueJcstress;
import dev.bobbin.scheduler.queue.RunQueue;
import dev.bobbin.scheduler.queue.RunQueueJcstress;

import org.junit.jupiter.api.Test;
import org.openjdk.jcstress.JCStress;
import org.openjdk.jcstress.Options;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.TestGrading;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the jcstress protocol tests ({@link RunQueueJcstress}, {@link InjectionQueueJcstress}, {@link IdleCarriersJcstress},
 * {@link WakeHandshakeJcstress}, {@link OutlivingFibersJcstress}, {@code dev.bobbin.JobCountJcstress}) from the
 * normal build, in a short bounded mode: every test of the real {@link RunQueue} and {@link IdleCarriers}
 * must pass with no forbidden outcome, and every broken twin must show one, which proves each test can
 * see the bug it is about. jcstress forks one JVM per test; the report goes to
 * {@code target/jcstress-report}.
 *
 * <p>For a longer run by hand: {@code -Dbobbin.jcstress.mode=default} (or {@code tough}).
 */
class JcstressProtocolTest {
    private static final String FILTER =
            "^dev\\.bobbin\\.(scheduler\\.(queue\\.(RunQueue|InjectionQueue)|IdleCarriers|WakeHandshake|OutlivingFibers)|JobCount)Jcstress\\.";

    /** The twins, each with the forbidden outcome it must show. */
    private static final Map<String, String> TWINS = Map.ofEntries(
            Map.entry("dev.bobbin.scheduler.queue.RunQueueJcstress.PollVsStealBroken", "duplicate"),
            Map.entry("dev.bobbin.scheduler.queue.RunQueueJcstress.OfferVsStealBroken", ""),
            Map.entry("dev.bobbin.scheduler.queue.RunQueueJcstress.NextVsStealNextBroken", ""),
            Map.entry("dev.bobbin.scheduler.queue.RunQueueJcstress.SpillVsStealBroken", "duplicate"),
            Map.entry("dev.bobbin.scheduler.IdleCarriersJcstress.PublishVsParkNoRecheck", "asleep"),
            Map.entry("dev.bobbin.scheduler.IdleCarriersJcstress.PublishVsParkNoFence", "asleep"),
            Map.entry("dev.bobbin.scheduler.IdleCarriersJcstress.SearcherLeavesVsPublishNoRecheck", "asleep"),
            Map.entry("dev.bobbin.scheduler.WakeHandshakeJcstress.CommitVsWakeReadFirst", "blocked, driver not woken"),
            Map.entry("dev.bobbin.scheduler.WakeHandshakeJcstress.PauseVsWakeReadFirst", "paused, not unparked"),
            Map.entry("dev.bobbin.JobCountJcstress.StartThenExitVsCheckEnrolsFirst", "true"),
            Map.entry("dev.bobbin.JobCountJcstress.ExitVsShutdownReadFirst", "false"),
            Map.entry("dev.bobbin.JobCountJcstress.StartVsShutdownReadFirst", "true, true"),
            Map.entry("dev.bobbin.scheduler.queue.RunQueueJcstress.ClearVsStealBroken", "lost"),
            Map.entry("dev.bobbin.scheduler.OutlivingFibersJcstress.SubmitVsExitCheckFirst", "lost"),
            Map.entry("dev.bobbin.scheduler.queue.InjectionQueueJcstress.PollVsPollBroken", "duplicate"),
            Map.entry("dev.bobbin.scheduler.queue.InjectionQueueJcstress.PollVsTakeMatchingBroken", "duplicate"));

    private static final List<String> REAL = List.of(
            "dev.bobbin.scheduler.queue.RunQueueJcstress.PollVsSteal",
            "dev.bobbin.scheduler.queue.RunQueueJcstress.OfferVsSteal",
            "dev.bobbin.scheduler.queue.RunQueueJcstress.NextVsStealNext",
            "dev.bobbin.scheduler.queue.RunQueueJcstress.SpillVsSteal",
            "dev.bobbin.scheduler.IdleCarriersJcstress.PublishVsPark",
            "dev.bobbin.scheduler.IdleCarriersJcstress.SearcherLeavesVsPublish",
            "dev.bobbin.scheduler.WakeHandshakeJcstress.CommitVsWake",
            "dev.bobbin.scheduler.WakeHandshakeJcstress.PauseVsWake",
            "dev.bobbin.JobCountJcstress.StartThenExitVsCheck",
            "dev.bobbin.JobCountJcstress.ExitVsShutdown",
            "dev.bobbin.JobCountJcstress.StartVsShutdown",
            "dev.bobbin.scheduler.queue.RunQueueJcstress.ClearVsSteal",
            "dev.bobbin.scheduler.OutlivingFibersJcstress.SubmitVsExit",
            "dev.bobbin.scheduler.queue.InjectionQueueJcstress.PollVsPoll",
            "dev.bobbin.scheduler.queue.InjectionQueueJcstress.PollVsTakeMatching",
            "dev.bobbin.scheduler.queue.InjectionQueueJcstress.PushAllVsPoll");

    /** Outcome counts of one test, merged over its forks. */
    private record Summary(Map<String, Long> outcomes, boolean passed, Status status, List<String> messages) {
        String describe(String name) {
            return name + " status=" + status + " outcomes=" + outcomes
                    + (messages.isEmpty() ? "" : " messages=" + messages);
        }
    }

    @Test
    void realProtocolsPassAndBrokenTwinsAreCaught() throws Exception {
        Path report = Path.of("target", "jcstress-report");
        Files.createDirectories(report);
        String mode = System.getProperty("bobbin.jcstress.mode", "quick");
        String[] args = {
                "-t", FILTER,
                "-m", mode,
                "-c", "2",
                "-f", "1",
                "-sc", "false",                      // one compilation mode per test keeps the run short
                "-iters", "3",
                "-time", "300",
                "-jvmArgs", "-Xmx256m -Xss1m -XX:+UseParallelGC",
                "-r", report.toString(),
                "-v",
        };
        Options opts = new Options(args);
        assertTrue(opts.parse(), "jcstress rejected its options");

        Path resultFile = Path.of(opts.getResultFile());   // jcstress writes it to the working directory
        PrintStream originalOut = System.out;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Map<String, Summary> results;
        try {
            System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));   // jcstress writes progress here
            try {
                new JCStress(opts).run();
            } catch (AssertionError expected) {
                // jcstress ends its report by throwing when any test saw a forbidden outcome, which the
                // broken twins must; the verdict per test is read from the result file.
            }
            results = read(resultFile);
        } finally {
            System.setOut(originalOut);
            Files.writeString(report.resolve("console.txt"), console.toString(StandardCharsets.UTF_8));
            Files.deleteIfExists(resultFile);
        }

        StringBuilder all = new StringBuilder();
        results.forEach((name, s) -> all.append("\n  ").append(s.describe(name)));
        System.out.println("jcstress results:" + all);

        List<String> problems = new ArrayList<>();
        for (String name : REAL) {
            Summary s = results.get(name);
            if (s == null) { problems.add(name + " did not run"); continue; }
            if (s.status() != Status.NORMAL || !s.passed() || s.outcomes().isEmpty()) {
                problems.add("real implementation failed: " + s.describe(name));
            }
        }
        for (Map.Entry<String, String> twin : TWINS.entrySet()) {
            Summary s = results.get(twin.getKey());
            if (s == null) { problems.add(twin.getKey() + " did not run"); continue; }
            boolean caught = s.status() == Status.NORMAL && !s.passed()
                    && s.outcomes().keySet().stream().anyMatch(o -> !o.startsWith("ok") && !o.startsWith("awake")
                                                                    && o.startsWith(twin.getValue()));
            if (!caught) problems.add("broken twin not caught: " + s.describe(twin.getKey()));
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems) + "\nall results:" + all + "\nreport: " + report.toAbsolutePath());
        }
        assertEquals(REAL.size() + TWINS.size(), results.size(), "unexpected tests ran:" + all);
    }

    private static Map<String, Summary> read(Path resultFile) throws Exception {
        InProcessCollector collector = new InProcessCollector();
        DiskReadCollector reader = new DiskReadCollector(resultFile.toString(), collector);
        try {
            reader.dump();
        } finally {
            reader.close();
        }
        Map<String, Summary> byTest = new TreeMap<>();
        for (TestResult r : collector.getTestResults()) {
            TestGrading grading = r.grading();
            Map<String, Long> outcomes = new TreeMap<>();
            for (String state : r.getStateKeys()) outcomes.merge(state, r.getCount(state), Long::sum);
            Summary s = new Summary(outcomes, grading.isPassed, r.status(), new ArrayList<>(r.getMessages()));
            byTest.merge(r.getName(), s, (a, b) -> {
                Map<String, Long> merged = new TreeMap<>(a.outcomes());
                b.outcomes().forEach((k, v) -> merged.merge(k, v, Long::sum));
                List<String> messages = new ArrayList<>(a.messages());
                messages.addAll(b.messages());
                return new Summary(merged, a.passed() && b.passed(), a.status().combine(b.status()), messages);
            });
        }
        return byTest;
    }
}
