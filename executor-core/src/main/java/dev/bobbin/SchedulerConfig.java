package dev.bobbin;

import dev.bobbin.scheduler.CarrierErrorLog;
import dev.bobbin.scheduler.EngineConfig;
import dev.bobbin.scheduler.Tunables;
import dev.bobbin.spi.CarrierDriverFactory;

import java.time.Duration;
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
 *                      default logs them at ERROR on the {@code System.Logger} named {@code dev.bobbin},
 *                      at most one every 10 s per scheduler with a count of those left out, the others
 *                      at DEBUG)
 * @param policy        how fibers relate to carriers (default {@link SchedulingPolicy#WORK_STEALING});
 *                      {@link SchedulingPolicy#SINGLE_THREAD} requires parallelism 1
 * @param placement     how {@link SchedulingPolicy#THREAD_PER_CORE} deals starting fibers to carriers
 *                      (default round robin); ignored by the other policies
 * @param stallThreshold how long a carrier may run one fiber without a blocking point, or sit in a
 *                      pinning call, before it counts as stalled (default 100 ms); {@link Duration#ZERO}
 *                      turns stall protection off (cooperative {@link FiberScheduler#checkpoint()} still works)
 * @param maxSpareCarriers how many extra carriers may start while every carrier is stalled, 0 to
 *                      {@link #MAX_PARALLELISM} - parallelism (default: parallelism, capped, under
 *                      {@link SchedulingPolicy#WORK_STEALING}, the only policy that uses them; 0 under the
 *                      others); must be 0 under {@link SchedulingPolicy#SINGLE_THREAD}, ignored under
 *                      {@link SchedulingPolicy#THREAD_PER_CORE} (a fiber never moves once started) and
 *                      when stall protection is off (a zero {@code stallThreshold}: no carrier counts as stalled)
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
                              SchedulingPolicy policy,
                              SchedulingPolicy.Placement placement,
                              Duration stallThreshold,
                              int maxSpareCarriers,
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
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(placement, "placement");
        checkStallThreshold(stallThreshold);
        if (maxSpareCarriers < 0 || maxSpareCarriers > MAX_PARALLELISM - parallelism) {
            throw new IllegalArgumentException("maxSpareCarriers must be between 0 and " + (MAX_PARALLELISM - parallelism)
                    + " (MAX_PARALLELISM - parallelism): " + maxSpareCarriers);
        }
        if (policy == SchedulingPolicy.SINGLE_THREAD && parallelism != 1) {
            throw new IllegalArgumentException("the SINGLE_THREAD policy runs exactly one carrier; parallelism is " + parallelism);
        }
        if (policy == SchedulingPolicy.SINGLE_THREAD && maxSpareCarriers != 0) {
            throw new IllegalArgumentException("the SINGLE_THREAD policy cannot use spare carriers (they would run its"
                    + " fibers in parallel); maxSpareCarriers is " + maxSpareCarriers);
        }
    }

    private static void checkStallThreshold(Duration stallThreshold) {
        Objects.requireNonNull(stallThreshold, "stallThreshold");
        if (stallThreshold.isNegative()) throw new IllegalArgumentException("stallThreshold must not be negative: " + stallThreshold);
        if (!stallThreshold.isZero() && stallThreshold.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("stallThreshold must be zero (off) or at least 1 ms: " + stallThreshold);
        }
        if (stallThreshold.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("stallThreshold must be at most one day: " + stallThreshold);
        }
    }

    /** The engine's copy of this configuration (the facade's mapping; the engine never reads this type). */
    EngineConfig engineConfig() {
        EngineConfig.TaskModel model = switch (policy) {
            case WORK_STEALING -> EngineConfig.TaskModel.WORK_STEALING;
            case THREAD_PER_CORE -> EngineConfig.TaskModel.THREAD_PER_CORE;
            case SINGLE_THREAD -> EngineConfig.TaskModel.SINGLE_THREAD;
        };
        EngineConfig.Placement deal = switch (placement) {
            case ROUND_ROBIN -> EngineConfig.Placement.ROUND_ROBIN;
            case LEAST_LOADED -> EngineConfig.Placement.LEAST_LOADED;
        };
        return new EngineConfig(name, parallelism, model, deal, maxSpareCarriers, stallThreshold.toNanos(),
                driverFactory, errorHandler, schedulingDelaySampling.period(), trackFibers);
    }

    /** Whether stall protection is on ({@link #stallThreshold()} is not zero). */
    public boolean stallProtection() {
        return !stallThreshold.isZero();
    }

    /** The defaults: name "bobbin", one carrier per available processor, the parking driver. */
    public static SchedulerConfig defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from this configuration, every value set as this configuration holds it, those it
     * derived included: the parallelism and spare carriers a builder chose for the policy stay as they are
     * when the policy is changed (so {@code defaults().toBuilder().policy(SINGLE_THREAD)} needs
     * {@code parallelism(1)} and {@code maxSpareCarriers(0)} too, and {@link Builder#build()} says which is
     * missing), where {@link #builder()} derives them for the policy it is given.
     */
    public Builder toBuilder() {
        return new Builder().name(name).parallelism(parallelism).driverFactory(driverFactory).errorHandler(errorHandler)
                .policy(policy).placement(placement).stallThreshold(stallThreshold).maxSpareCarriers(maxSpareCarriers)
                .schedulingDelaySampling(schedulingDelaySampling).trackFibers(trackFibers);
    }

    /** Builds a {@link SchedulerConfig}; each setter validates its argument. Not thread-safe. */
    public static final class Builder {
        private String name = "bobbin";
        private int parallelism = -1;            // -1: available processors (1 under SINGLE_THREAD)
        private SchedulingPolicy policy = SchedulingPolicy.WORK_STEALING;
        private SchedulingPolicy.Placement placement = SchedulingPolicy.Placement.ROUND_ROBIN;
        private Duration stallThreshold = Duration.ofNanos(Tunables.DEFAULT_STALL_THRESHOLD_NANOS);
        private int maxSpareCarriers = -1;       // -1: parallelism under WORK_STEALING, else 0
        private CarrierDriverFactory driverFactory = CarrierDriverFactory.parking();
        private Thread.UncaughtExceptionHandler errorHandler = CarrierErrorLog.DEFAULT;
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

        /** The scheduling policy; see {@link SchedulingPolicy}. */
        public Builder policy(SchedulingPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** How {@link SchedulingPolicy#THREAD_PER_CORE} deals starting fibers to carriers. */
        public Builder placement(SchedulingPolicy.Placement placement) {
            this.placement = Objects.requireNonNull(placement, "placement");
            return this;
        }

        /** The stall threshold: zero (off) or 1 ms to one day. */
        public Builder stallThreshold(Duration stallThreshold) {
            checkStallThreshold(stallThreshold);
            this.stallThreshold = stallThreshold;
            return this;
        }

        /** The most spare carriers that may run at once while every carrier is stalled; 0 for none. */
        public Builder maxSpareCarriers(int maxSpareCarriers) {
            if (maxSpareCarriers < 0 || maxSpareCarriers > MAX_PARALLELISM - 1) {
                throw new IllegalArgumentException("maxSpareCarriers must be between 0 and " + (MAX_PARALLELISM - 1)
                        + ": " + maxSpareCarriers);
            }
            this.maxSpareCarriers = maxSpareCarriers;
            return this;
        }

        /**
         * Builds the configuration.
         *
         * @throws IllegalArgumentException if the settings contradict each other (e.g. SINGLE_THREAD with
         *                                  a parallelism other than 1)
         */
        public SchedulerConfig build() {
            int p = parallelism > 0 ? parallelism
                    : policy == SchedulingPolicy.SINGLE_THREAD ? 1 : Runtime.getRuntime().availableProcessors();
            int spares = maxSpareCarriers >= 0 ? maxSpareCarriers
                    : policy == SchedulingPolicy.WORK_STEALING ? Math.min(p, MAX_PARALLELISM - p) : 0;
            return new SchedulerConfig(name, p, driverFactory, errorHandler, policy, placement, stallThreshold, spares,
                    schedulingDelaySampling, trackFibers);
        }
    }
}
