package dev.bobbin.scheduler;

import dev.bobbin.spi.CarrierDriverFactory;

import java.util.Objects;

/**
 * What a {@link CarrierPool} is built from: the engine's own copy of a scheduler's settings. The public
 * configuration ({@code dev.bobbin.SchedulerConfig}) validates what a user gives and the facade maps it
 * here, so the engine reads no type of the public API package.
 *
 * @param name                 the scheduler's name, for thread names and messages
 * @param parallelism          regular carriers
 * @param model                how fibers relate to carriers
 * @param placement            how {@link TaskModel#THREAD_PER_CORE} deals a starting fiber
 * @param maxSpareCarriers     spare carriers the stall monitor may start (used under
 *                             {@link TaskModel#WORK_STEALING} only)
 * @param stallThresholdNanos  how long a carrier may run one fiber before it counts as stalled; 0: off
 * @param driverFactory        opens each carrier's driver
 * @param errorHandler         receives errors of the carriers themselves
 * @param delaySamplingPeriod  scheduling delays: 0 none, 1 every wake-up, n one in n
 * @param trackFibers          keep each fiber's last-run time
 */
public record EngineConfig(String name,
                           int parallelism,
                           TaskModel model,
                           Placement placement,
                           int maxSpareCarriers,
                           long stallThresholdNanos,
                           CarrierDriverFactory driverFactory,
                           Thread.UncaughtExceptionHandler errorHandler,
                           int delaySamplingPeriod,
                           boolean trackFibers) {

    /** The task models the engine runs (the public {@code SchedulingPolicy} constants, one to one). */
    public enum TaskModel {
        /** Carriers steal from each other; a fiber may resume anywhere. */
        WORK_STEALING,
        /** A fiber is dealt to one carrier when it starts and stays there; no stealing. */
        THREAD_PER_CORE,
        /** One carrier. */
        SINGLE_THREAD
    }

    /** How a starting fiber is dealt under {@link TaskModel#THREAD_PER_CORE}. */
    public enum Placement {
        /** Carriers in turn. */
        ROUND_ROBIN,
        /** The carrier with the fewest live bound fibers. */
        LEAST_LOADED
    }

    /** Checks what the engine relies on; the public configuration has already validated the values. */
    public EngineConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(placement, "placement");
        Objects.requireNonNull(driverFactory, "driverFactory");
        Objects.requireNonNull(errorHandler, "errorHandler");
        if (parallelism < 1) throw new IllegalArgumentException("parallelism must be >= 1: " + parallelism);
        if (maxSpareCarriers < 0) throw new IllegalArgumentException("maxSpareCarriers must be >= 0: " + maxSpareCarriers);
        if (stallThresholdNanos < 0) throw new IllegalArgumentException("stallThresholdNanos must be >= 0: " + stallThresholdNanos);
        if (delaySamplingPeriod < 0) throw new IllegalArgumentException("delaySamplingPeriod must be >= 0: " + delaySamplingPeriod);
    }
}
