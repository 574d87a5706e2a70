package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One scheduler's executor fault reports: one WARNING per interval, the rest at DEBUG, counted in the next
 * WARNING. The waits only make sure an interval has passed (lower bounds), so a slow machine cannot
 * break them.
 */
class AccountingReportsTest {
    private static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private static List<String> at(CapturedLogs logs, Level level) {
        return logs.records().stream().filter(r -> r.getLevel() == level).map(LogRecord::getMessage).toList();
    }

    @Test
    void oneWarningPerIntervalTheRestAtDebugAndCountedInTheNext() throws Exception {
        try (CapturedLogs logs = new CapturedLogs(Level.FINE, "dev.bobbin")) {
            AccountingReports reports = new AccountingReports(INTERVAL_NANOS);
            reports.report("first");
            reports.report("second");
            reports.report("third");
            assertEquals(List.of("first"), at(logs, Level.WARNING));
            assertEquals(List.of("second", "third"), at(logs, Level.FINE), "the rest at DEBUG");

            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(2 * INTERVAL_NANOS));   // past the interval
            reports.report("fourth");
            List<String> warnings = at(logs, Level.WARNING);
            assertEquals(2, warnings.size(), warnings.toString());
            assertEquals("fourth (2 more such report(s) since the last one, at DEBUG)", warnings.get(1));

            reports.report("fifth");                                          // inside the new interval
            assertEquals(2, at(logs, Level.WARNING).size());
            assertEquals(List.of("second", "third", "fifth"), at(logs, Level.FINE));
        }
    }

    @Test
    void concurrentReportsLogOneWarning() throws Exception {
        try (CapturedLogs logs = new CapturedLogs(Level.FINE, "dev.bobbin")) {
            AccountingReports reports = new AccountingReports(TimeUnit.SECONDS.toNanos(60));
            Thread[] threads = new Thread[8];
            for (int i = 0; i < threads.length; i++) {
                String what = "report " + i;
                threads[i] = Thread.ofPlatform().start(() -> reports.report(what));
            }
            for (Thread t : threads) t.join();
            assertEquals(1, at(logs, Level.WARNING).size(), "one WARNING: " + at(logs, Level.WARNING));
            assertEquals(7, at(logs, Level.FINE).size(), "the others at DEBUG");
            assertTrue(logs.records().size() == 8, "every report logged once");
        }
    }

    @Test
    void rejectsAnIntervalThatIsNotPositive() {
        assertThrows(IllegalArgumentException.class, () -> new AccountingReports(0));
        assertThrows(IllegalArgumentException.class, () -> new AccountingReports(-1));
    }
}
