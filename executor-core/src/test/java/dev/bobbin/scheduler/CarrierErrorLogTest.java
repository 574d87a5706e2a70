package dev.bobbin.scheduler;

import dev.bobbin.CapturedLogs;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The default carrier error handler: a pool's own instance logs one ERROR per interval with its throwable
 * (the rest at DEBUG, each with its throwable); the shared default, called directly, logs every error.
 */
class CarrierErrorLogTest {
    private static List<LogRecord> at(CapturedLogs logs, Level level, Thread carrier) {
        return logs.records().stream()
                .filter(r -> r.getLevel() == level && r.getMessage().contains(carrier.getName())).toList();
    }

    @Test
    void aPoolsHandlerLogsOneErrorPerIntervalAndTheRestAtDebug() {
        Thread.UncaughtExceptionHandler handler = CarrierErrorLog.forPool(CarrierErrorLog.DEFAULT);
        Thread carrier = new Thread(() -> { }, "carrier-error-log-test-pool");
        try (CapturedLogs logs = new CapturedLogs(Level.FINE, "dev.bobbin")) {
            IllegalStateException first = new IllegalStateException("first");
            handler.uncaughtException(carrier, first);
            handler.uncaughtException(carrier, new IllegalStateException("second"));
            handler.uncaughtException(carrier, new IllegalStateException("third"));
            List<LogRecord> errors = at(logs, Level.SEVERE, carrier);
            assertEquals(1, errors.size(), "one ERROR in the interval");
            assertSame(first, errors.getFirst().getThrown());
            assertEquals(2, at(logs, Level.FINE, carrier).size(), "the rest at DEBUG");
        }
    }

    @Test
    void theDefaultCalledDirectlyLogsEveryError() {
        Thread carrier = new Thread(() -> { }, "carrier-error-log-test-default");
        try (CapturedLogs logs = new CapturedLogs(Level.FINE, "dev.bobbin")) {
            CarrierErrorLog.DEFAULT.uncaughtException(carrier, new IllegalStateException("one"));
            CarrierErrorLog.DEFAULT.uncaughtException(carrier, new IllegalStateException("two"));
            assertEquals(2, at(logs, Level.SEVERE, carrier).size());
        }
    }

    @Test
    void aConfiguredHandlerIsKept() {
        Thread.UncaughtExceptionHandler mine = (t, e) -> { };
        assertSame(mine, CarrierErrorLog.forPool(mine));
    }
}
