package dev.bobbin;

import dev.bobbin.scheduler.Tunables;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The reports of {@link FiberExecutor}s that their accounting went wrong (a termination nobody took,
 * fibers counted that the registry no longer holds; see {@code ExecutorState}, "The waiters' re-check").
 * Each executor reports at most once; on top of that, the executors of the whole JVM log at most one
 * WARNING per interval ({@link Tunables#EXECUTOR_REPORT_INTERVAL_NANOS}) between them, whichever
 * schedulers they run on, so that an application that makes an executor per request (each with a
 * scheduler of its own, by default) does not log a line per request if one fault hits them all. The
 * others go to DEBUG, and the next WARNING says how many there were. The interval's end is claimed with
 * one CAS, so reports at the same moment log one WARNING between them. Memory ordering: the two atomics
 * only decide who logs at WARNING and count the rest; they publish nothing else, so they pair with
 * nothing but each other's reads. A report made as another claims the interval is counted in that
 * WARNING or in the next one; none is lost from the count.
 */
final class AccountingReports {
    /** The one every executor reports to. */
    static final AccountingReports JVM =
            new AccountingReports(Tunables.EXECUTOR_REPORT_INTERVAL_NANOS, System::nanoTime);

    private static final System.Logger LOG = System.getLogger("dev.bobbin");
    private static final long NEVER = Long.MIN_VALUE;

    private final long intervalNanos;
    private final LongSupplier clock;                              // nanoTime, or a test's
    private final AtomicLong nextWarning = new AtomicLong(NEVER);  // clock time before which reports go to DEBUG
    private final AtomicLong suppressed = new AtomicLong();        // reports at DEBUG since the last WARNING

    AccountingReports(long intervalNanos, LongSupplier clock) {
        if (intervalNanos <= 0) throw new IllegalArgumentException("intervalNanos must be > 0: " + intervalNanos);
        this.intervalNanos = intervalNanos;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Logs {@code what}: at WARNING unless another report was one within the interval, else at DEBUG. */
    void report(String what) {
        long now = clock.getAsLong();
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

    /** For tests: as if no report had been made, so that the next one is a WARNING. */
    void forget() {
        suppressed.set(0);
        nextWarning.set(NEVER);
    }
}
