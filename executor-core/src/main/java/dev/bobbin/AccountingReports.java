package dev.bobbin;

import dev.bobbin.scheduler.Tunables;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The reports of one scheduler's {@link FiberExecutor}s that their accounting went wrong (a termination
 * nobody took, fibers counted that the registry no longer holds; see {@code ExecutorState}, "The waiters'
 * re-check"). Each executor reports at most once; on top of that, the executors of one scheduler log at
 * most one WARNING per interval ({@link Tunables#EXECUTOR_REPORT_INTERVAL_NANOS}), so that an application
 * that makes an executor per request does not log one line per request if the same fault hits them all.
 * The others go to DEBUG, and the next WARNING says how many there were. The interval's end is claimed
 * with one CAS, so reports at the same moment log one WARNING between them.
 */
final class AccountingReports {
    private static final System.Logger LOG = System.getLogger("dev.bobbin");
    private static final long NEVER = Long.MIN_VALUE;

    private final long intervalNanos;
    private final AtomicLong nextWarning = new AtomicLong(NEVER);  // nanoTime before which reports go to DEBUG
    private final AtomicLong suppressed = new AtomicLong();        // reports at DEBUG since the last WARNING

    AccountingReports() {
        this(Tunables.EXECUTOR_REPORT_INTERVAL_NANOS);
    }

    AccountingReports(long intervalNanos) {
        if (intervalNanos <= 0) throw new IllegalArgumentException("intervalNanos must be > 0: " + intervalNanos);
        this.intervalNanos = intervalNanos;
    }

    /** Logs {@code what}: at WARNING if this scheduler's executors logged none for an interval, else at DEBUG. */
    void report(String what) {
        long now = System.nanoTime();
        long next = nextWarning.get();
        if ((next == NEVER || now - next >= 0) && nextWarning.compareAndSet(next, now + intervalNanos)) {
            long skipped = suppressed.getAndSet(0);
            LOG.log(System.Logger.Level.WARNING,
                    skipped == 0 ? what : what + " (" + skipped + " more such report(s) since the last one, at DEBUG)");
        } else {
            suppressed.incrementAndGet();
            LOG.log(System.Logger.Level.DEBUG, what);
        }
    }
}
