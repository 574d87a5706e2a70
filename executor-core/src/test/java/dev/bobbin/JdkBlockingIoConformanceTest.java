package dev.bobbin;

import org.junit.jupiter.api.BeforeAll;

/**
 * {@link JdkBlockingIoContract} on parking carriers: work stealing with two carriers (the first scheduler
 * of the JVM, so the JDK's socket pollers run on its carriers), thread per core, a single thread, and one
 * carrier with spares.
 */
class JdkBlockingIoConformanceTest extends JdkBlockingIoContract {
    @BeforeAll
    static void schedulers() {
        use(FiberScheduler.create(SchedulerConfig.builder().name("io-ws").parallelism(2).build()),
                FiberScheduler.create(SchedulerConfig.builder().name("io-tpc").parallelism(2)
                        .policy(SchedulingPolicy.THREAD_PER_CORE).build()),
                FiberScheduler.create(SchedulerConfig.builder().name("io-single")
                        .policy(SchedulingPolicy.SINGLE_THREAD).maxSpareCarriers(0).build()),
                FiberScheduler.create(SchedulerConfig.builder().name("io-one").parallelism(1).build()));
    }
}
