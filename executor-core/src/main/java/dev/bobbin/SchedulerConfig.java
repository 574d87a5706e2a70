package dev.bobbin;

import dev.bobbin.spi.CarrierDriverFactory;

import java.util.Objects;

/**
 * The immutable configuration of a {@link FiberScheduler}.
 *
 * <pre>{@code
 * SchedulerConfig config = SchedulerConfig.builder()
 *         .name("api")
 *         .parallelism(4)
 *         .build();
 * }</pre>
 *
 * @param name          the scheduler's name: prefix of its carrier thread names and of its fibers'
 *                      default names; non-blank
 * @param parallelism   the number of carrier threads, at least 1 (default: available processors)
 * @param driverFactory creates each carrier's {@link dev.bobbin.spi.CarrierDriver} (default: a plain
 *                      parking driver; the io_uring backend supplies its own)
 * @param errorHandler  receives errors thrown on a carrier outside any fiber (never expected; the
 *                      default prints them to {@code System.err})
 * @param schedulingDelaySampling how often the time from runnable to running is measured (default:
 *                      one submission in 64 per carrier; see {@link SchedulingDelaySampling})
 * @param trackFibers   whether the scheduler records when each fiber last ran, for
 *                      {@link FiberScheduler#dumpFibers()} (default false: costs a clock read and a short
 *                      uncontended lock per fiber run)
 */
public record SchedulerConfig(String name,
                              int parallelism,
                              CarrierDriverFactory driverFactory,
                              Thread.UncaughtExceptionHandler errorHandler,
                              SchedulingDelaySampling schedulingDelaySampling,
                              boolean trackFibers) {

    /** The largest parallelism accepted: the idle protocol packs carrier counts into 16 bits. */
    public static final int MAX_PARALLELISM = 32_767;

    /** Validates every component. */
    public SchedulerConfig {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
        if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
            throw new IllegalArgumentException("parallelism must be between 1 and " + MAX_PARALLELISM + ": " + parallelism);
        }
        Objects.requireNonNull(driverFactory, "driverFactory");
        Objects.requireNonNull(errorHandler, "errorHandler");
        Objects.requireNonNull(schedulingDelaySampling, "schedulingDelaySampling");
    }

    /** The defaults: name "bobbin", one carrier per available processor, the parking driver. */
    public static SchedulerConfig defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder().name(name).parallelism(parallelism).driverFactory(driverFactory).errorHandler(errorHandler)
                .schedulingDelaySampling(schedulingDelaySampling).trackFibers(trackFibers);
    }

    /** Builds a {@link SchedulerConfig}; each setter validates its argument. Not thread-safe. */
    public static final class Builder {
        private String name = "bobbin";
        private int parallelism = Runtime.getRuntime().availableProcessors();
        private CarrierDriverFactory driverFactory = CarrierDriverFactory.parking();
        private Thread.UncaughtExceptionHandler errorHandler = (t, e) -> {
            System.err.println("bobbin: error on carrier " + t.getName());
            e.printStackTrace();
        };
        private SchedulingDelaySampling schedulingDelaySampling = SchedulingDelaySampling.defaults();
        private boolean trackFibers;

        private Builder() { }

        /** The scheduler's name; non-blank. */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
            this.name = name;
            return this;
        }

        /** The number of carriers, 1 to {@link #MAX_PARALLELISM}. */
        public Builder parallelism(int parallelism) {
            if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
                throw new IllegalArgumentException("parallelism must be between 1 and " + MAX_PARALLELISM + ": " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        /** The factory of each carrier's driver. */
        public Builder driverFactory(CarrierDriverFactory driverFactory) {
            this.driverFactory = Objects.requireNonNull(driverFactory, "driverFactory");
            return this;
        }

        /** The handler for errors thrown on a carrier outside any fiber. */
        public Builder errorHandler(Thread.UncaughtExceptionHandler errorHandler) {
            this.errorHandler = Objects.requireNonNull(errorHandler, "errorHandler");
            return this;
        }

        /** How often scheduling delay is measured; {@link SchedulingDelaySampling#off()} to never. */
        public Builder schedulingDelaySampling(SchedulingDelaySampling sampling) {
            this.schedulingDelaySampling = Objects.requireNonNull(sampling, "sampling");
            return this;
        }

        /** Whether to record each fiber's last-run time for {@link FiberScheduler#dumpFibers()}. */
        public Builder trackFibers(boolean trackFibers) {
            this.trackFibers = trackFibers;
            return this;
        }

        /** The configuration. */
        public SchedulerConfig build() {
            return new SchedulerConfig(name, parallelism, driverFactory, errorHandler, schedulingDelaySampling,
                    trackFibers);
        }
    }
}
