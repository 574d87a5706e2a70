package dev.bobbin.metrics;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerStats;

import java.util.function.LongConsumer;

/**
 * What {@link BobbinMetrics} observes: anything that can hand out {@link SchedulerStats} snapshots,
 * stream scheduling delays and announce its termination. A scheduler is one; an executor built on a
 * scheduler is another (it adds its own task counters on top, see the module README).
 */
interface StatsSource {
    String name();

    /** The scheduler observed: the object its meters report on, whichever binder registered them. */
    Object observed();

    SchedulerStats stats();

    /** Whether scheduling delays are measured at all (a delay timer would otherwise read 0 forever). */
    boolean samplesDelays();

    /** Adds a delay listener; false if sampling is off or an equal listener is present. */
    boolean addDelayListener(LongConsumer listener);

    void removeDelayListener(LongConsumer listener);

    /** Runs {@code action} once the source is terminated (at once if it already is). */
    void onTermination(Runnable action);

    /** A source over a {@link FiberScheduler}. */
    static StatsSource of(FiberScheduler s) {
        return new StatsSource() {
            @Override public String name() { return s.name(); }
            @Override public Object observed() { return s; }
            @Override public SchedulerStats stats() { return s.stats(); }
            @Override public boolean samplesDelays() { return !s.config().schedulingDelaySampling().isOff(); }
            @Override public boolean addDelayListener(LongConsumer l) { return s.addSchedulingDelayListener(l); }
            @Override public void removeDelayListener(LongConsumer l) { s.removeSchedulingDelayListener(l); }
            @Override public void onTermination(Runnable action) { s.onTermination(action); }
        };
    }
}
