package dev.bobbin;

import dev.bobbin.base.LogGate;
import dev.bobbin.scheduler.Tunables;

import java.util.function.LongSupplier;

/**
 * The reports of {@link FiberExecutor}s that their accounting went wrong (a termination nobody took,
 * fibers counted that the registry no longer holds; see {@code ExecutorState}, "The waiters' re-check").
 * Each executor reports at most once; on top of that, the executors of the whole JVM log at most one
 * WARNING per interval ({@link Tunables#EXECUTOR_REPORT_INTERVAL_NANOS}) between them, whichever
 * schedulers they run on, so that an application that makes an executor per request (each with a
 * scheduler of its own, by default) does not log a line per request if one fault hits them all. The
 * others go to DEBUG, and the next WARNING says how many there were. A {@link LogGate} decides, so
 * reports at the same moment log one WARNING between them and none is lost from the count.
 */
final class AccountingReports {
    /** The one every executor reports to. */
    static final AccountingReports JVM =
            new AccountingReports(Tunables.EXECUTOR_REPORT_INTERVAL_NANOS, System::nanoTime);

    private static final System.Logger LOG = System.getLogger("dev.bobbin");

    private final LogGate gate;

    /** Reports at WARNING at most once per {@code intervalNanos} of {@code clock} (nanoTime, or a test's). */
    AccountingReports(long intervalNanos, LongSupplier clock) {
        this.gate = new LogGate(intervalNanos, clock);
    }

    /** Logs {@code what}: at WARNING unless another report was one within the interval, else at DEBUG. */
    void report(String what) {
        long skipped = gate.pass();
        if (skipped < 0) {
            LOG.log(System.Logger.Level.DEBUG, what);
        } else {
            LOG.log(System.Logger.Level.WARNING,
                    skipped == 0 ? what : what + " (" + skipped + " more such report(s) since the last one, at DEBUG)");
        }
    }

    /** For tests: as if no report had been made, so that the next one is a WARNING. */
    void forget() {
        gate.reset();
    }
}
