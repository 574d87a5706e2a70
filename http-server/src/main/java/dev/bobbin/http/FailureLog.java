package dev.bobbin.http;

import dev.bobbin.base.LogGate;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs failures of handlers and connections without flooding: at most one WARNING line per
 * {@link HttpTunables#HANDLER_FAILURE_LOG_INTERVAL_NANOS}, which also says how many were not logged since;
 * every failure with its stack trace at DEBUG.
 */
final class FailureLog {
    private final System.Logger log;
    private final LogGate gate = new LogGate(HttpTunables.HANDLER_FAILURE_LOG_INTERVAL_NANOS);
    private final AtomicLong total = new AtomicLong();

    FailureLog(System.Logger log) {
        this.log = log;
    }

    void log(String what, Throwable t) {
        total.incrementAndGet();
        long skipped = gate.pass();
        if (skipped >= 0) {
            log.log(System.Logger.Level.WARNING, "{0}: {1}{2}", what, t.toString(),
                    skipped == 0 ? "" : " (" + skipped + " more failures since the last warning; details at DEBUG)");
        }
        if (log.isLoggable(System.Logger.Level.DEBUG)) log.log(System.Logger.Level.DEBUG, what, t);
    }

    /** Failures so far. */
    long count() {
        return total.get();
    }
}
