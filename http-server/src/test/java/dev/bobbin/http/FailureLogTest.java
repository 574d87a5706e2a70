package dev.bobbin.http;

import org.junit.jupiter.api.Test;

import java.text.MessageFormat;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The server's failure log: one WARNING line per interval (the failure's text, no stack trace), every
 * failure with its throwable at DEBUG, and a count of all of them.
 */
class FailureLogTest {
    record Entry(System.Logger.Level level, String message, Throwable thrown) { }

    /** A System.Logger that keeps what it is given. */
    static final class RecordingLogger implements System.Logger {
        final List<Entry> entries = new CopyOnWriteArrayList<>();

        @Override public String getName() { return "failure-log-test"; }
        @Override public boolean isLoggable(Level level) { return true; }
        @Override public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            entries.add(new Entry(level, msg, thrown));
        }
        @Override public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            entries.add(new Entry(level, params == null ? format : MessageFormat.format(format, params), null));
        }

        List<Entry> at(Level level) {
            return entries.stream().filter(e -> e.level() == level).toList();
        }
    }

    @Test
    void oneWarningPerIntervalEveryFailureAtDebug() {
        RecordingLogger logger = new RecordingLogger();
        FailureLog failures = new FailureLog(logger);
        IllegalStateException first = new IllegalStateException("first");
        failures.log("handler failed", first);
        failures.log("handler failed", new IllegalStateException("second"));
        failures.log("connection failed", new IllegalStateException("third"));

        List<Entry> warnings = logger.at(System.Logger.Level.WARNING);
        assertEquals(1, warnings.size(), "one WARNING in the interval: " + warnings);
        assertEquals("handler failed: java.lang.IllegalStateException: first", warnings.getFirst().message());
        List<Entry> debug = logger.at(System.Logger.Level.DEBUG);
        assertEquals(3, debug.size(), "every failure at DEBUG");
        assertSame(first, debug.getFirst().thrown(), "with its stack trace");
        assertEquals(3, failures.count());
    }
}
