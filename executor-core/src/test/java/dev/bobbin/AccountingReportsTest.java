package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Executors' accounting reports: one WARNING per interval, the rest at DEBUG, counted in the next
 * WARNING. The sequence runs on a test clock, so no timing of the machine matters.
 */
class AccountingReportsTest {
    private static final long INTERVAL = 1_000;

    /** This test's records (by message prefix) on the {@code dev.bobbin} logger at {@code level}. */
    private static List<String> at(CapturedLogs logs, Level level, String prefix) {
        return logs.records().stream()
                .filter(r -> r.getLevel() == level && "dev.bobbin".equals(r.getLoggerName()))
                .filter(r -> r.getMessage().startsWith(prefix))
                .map(LogRecord::getMessage).toList();
    }

    @Test
    void oneWarningPerIntervalTheRestAtDebugCountedInTheNext() {
        AtomicLong now = new AtomicLong(Long.MAX_VALUE - 2_500);      // crosses the clock's wrap on the way
        AccountingReports reports = new AccountingReports(INTERVAL, now::get);
        try (CapturedLogs logs = new CapturedLogs(Level.FINE, "dev.bobbin")) {
            reports.report("seq 1");
            now.addAndGet(10);
            reports.report("seq 2");
            reports.report("seq 3");
            assertEquals(List.of("seq 1"), at(logs, Level.WARNING, "seq"));
            assertEquals(List.of("seq 2", "seq 3"), at(logs, Level.FINE, "seq"), "the rest at DEBUG");

            now.addAndGet(INTERVAL);                                  // the interval since "seq 1" is over
            reports.report("seq 4");
            reports.report("seq 5");
            now.addAndGet(INTERVAL);
            reports.report("seq 6");
            now.addAndGet(INTERVAL);
            reports.report("seq 7");
            assertEquals(List.of("seq 1",
                            "seq 4 (2 more such report(s) since the last one, at DEBUG)",
                            "seq 6 (1 more such report(s) since the last one, at DEBUG)",
                            "seq 7"),
                    at(logs, Level.WARNING, "seq"));
            assertEquals(List.of("seq 2", "seq 3", "seq 5"), at(logs, Level.FINE, "seq"));

            reports.forget();
            reports.report("seq 8");                                  // inside the interval, yet forgotten
            assertEquals("seq 8", at(logs, Level.WARNING, "seq").getLast());
        }
    }

    /** Reports racing for one interval: exactly one of them is the WARNING, in every round. */
    @Test
    void racingReportsLogOneWarningBetweenThem() throws Exception {
        int rounds = 300;
        int threads = 4;
        try (CapturedLogs logs = new CapturedLogs(Level.FINE, "dev.bobbin")) {
            for (int round = 0; round < rounds; round++) {
                AccountingReports reports = new AccountingReports(TimeUnit.SECONDS.toNanos(60), System::nanoTime);
                CountDownLatch go = new CountDownLatch(1);
                List<Thread> racers = new ArrayList<>();
                String prefix = "race " + round + ":";
                for (int i = 0; i < threads; i++) {
                    String what = prefix + i;
                    racers.add(Thread.ofPlatform().start(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        reports.report(what);
                    }));
                }
                go.countDown();
                for (Thread t : racers) t.join();
                List<String> warnings = at(logs, Level.WARNING, prefix);
                assertEquals(1, warnings.size(), "round " + round + ": " + warnings);
                assertEquals(threads - 1, at(logs, Level.FINE, prefix).size(), "round " + round + ": the rest at DEBUG");
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new AccountingReports(0, System::nanoTime));
        assertThrows(IllegalArgumentException.class, () -> new AccountingReports(-1, System::nanoTime));
        assertThrows(NullPointerException.class, () -> new AccountingReports(1, null));
    }
}
