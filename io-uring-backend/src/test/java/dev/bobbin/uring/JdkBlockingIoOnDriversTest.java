package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import dev.bobbin.JdkBlockingIoContract;
import dev.bobbin.SchedulingPolicy;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link JdkBlockingIoContract} on carriers that drive an event loop: io_uring with two carriers (the first
 * scheduler of this JVM's test run to host the JDK's socket pollers, which then run on carriers that also
 * drive a ring), epoll, NIO, and a single io_uring carrier.
 */
class JdkBlockingIoOnDriversTest extends JdkBlockingIoContract {
    @BeforeAll
    static void schedulers() {
        use(FiberIo.of(IoTransport.IO_URING).newScheduler("io-uring", 2),
                FiberIo.of(IoTransport.EPOLL).newScheduler("io-epoll", 2),
                FiberScheduler.create(FiberIo.of(IoTransport.IO_URING).schedulerConfig().name("io-uring-single")
                        .policy(SchedulingPolicy.SINGLE_THREAD).parallelism(1).maxSpareCarriers(0).build()),
                FiberIo.of(IoTransport.NIO).newScheduler("io-nio", 2));
    }
}
