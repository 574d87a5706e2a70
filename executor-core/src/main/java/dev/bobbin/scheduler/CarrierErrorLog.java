package dev.bobbin.scheduler;

import dev.bobbin.base.LogGate;

/**
 * The default handler of errors thrown on a carrier outside any fiber ({@code SchedulerConfig.errorHandler}):
 * an ERROR record with the throwable on the {@code System.Logger} named {@code dev.bobbin}, at most once per
 * {@link Tunables#CARRIER_ERROR_LOG_INTERVAL_NANOS} per scheduler, which also says how many it left out
 * since; each one left out goes to DEBUG with its stack trace.
 *
 * <p>{@link #DEFAULT} is the configuration's default (one instance, so that default configurations stay
 * equal); a pool configured with it makes its own instance ({@link #forPool}), so that each scheduler's
 * first error is always logged. A {@link LogGate} decides, so concurrent errors log once.
 */
public final class CarrierErrorLog implements Thread.UncaughtExceptionHandler {
    /** The configuration's default handler; unlimited if called directly, per-scheduler limited in a pool. */
    public static final CarrierErrorLog DEFAULT = new CarrierErrorLog();

    private static final System.Logger LOG = System.getLogger("dev.bobbin");

    private final LogGate gate = new LogGate(Tunables.CARRIER_ERROR_LOG_INTERVAL_NANOS);

    private CarrierErrorLog() { }

    /** The handler a pool uses for {@code configured}: a limited one of its own in place of the default. */
    static Thread.UncaughtExceptionHandler forPool(Thread.UncaughtExceptionHandler configured) {
        return configured == DEFAULT ? new CarrierErrorLog() : configured;
    }

    @Override
    public void uncaughtException(Thread carrier, Throwable error) {
        String what = "bobbin: error on carrier " + carrier.getName();
        long skipped = this == DEFAULT ? 0 : gate.pass();
        if (skipped < 0) {
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) LOG.log(System.Logger.Level.DEBUG, what, error);
        } else {
            LOG.log(System.Logger.Level.ERROR,
                    skipped == 0 ? what : what + " (" + skipped + " more since the last one, at DEBUG)", error);
        }
    }
}
