package dev.bobbin.bench;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ThreadFactory;

/**
 * The scheduler under test, as a JMH parameter: {@code bobbin} (a {@link FiberScheduler} with its
 * defaults: one carrier per available processor) or {@code jdk} (the JDK's default virtual-thread
 * scheduler, whose parallelism is also the number of available processors). Benchmarks start their
 * fibers through {@link #factory}, so both sides run the same code.
 */
@State(Scope.Benchmark)
public class Fibers {
    @Param({"bobbin", "jdk"})
    public String scheduler;

    FiberScheduler bobbin;
    ThreadFactory factory;

    @Setup(Level.Trial)
    public void setUp() {
        switch (scheduler) {
            case "bobbin" -> {
                bobbin = FiberScheduler.create(SchedulerConfig.builder().name("bench").build());
                factory = bobbin.ofVirtual().factory();
            }
            case "jdk" -> factory = Thread.ofVirtual().factory();
            default -> throw new IllegalArgumentException("scheduler must be bobbin or jdk: " + scheduler);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (bobbin != null) bobbin.close();
    }

    /** Starts a fiber on the scheduler under test. */
    Thread start(Runnable task) {
        Thread t = factory.newThread(task);
        t.start();
        return t;
    }

    /** Joins without a checked exception (benchmark fibers are never interrupted). */
    static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
