package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.driver.IoDrivers;
import dev.bobbin.uring.driver.IoTunables;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The rings of rescuable io_uring loops are remade multi-issuer and cooperative (RescuableRingFactory):
 * on this machine's kernel (io_uring tests run here) the remake is supported, every carrier of a
 * rescuable scheduler gets a remade ring that serves sockets, Netty's first ring is closed (no ring
 * descriptor outlives its scheduler), and a loop that is not rescuable keeps Netty's single-issuer ring.
 * That such a ring can be driven by a rescuer while its carrier is hogged is {@code StalledCarrierIoTest}'s.
 */
class RescuableRingFactoryTest {
    static { LeakGuard.install(); }

    @Test
    void rescuableRingsAreMultiIssuerAndCooperativeHere() {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        assertTrue(RescuableRingFactory.SUPPORTED, "this kernel (5.19+) takes IORING_SETUP_COOP_TASKRUN");
        int f = RescuableRingFactory.FLAGS;
        assertNotEquals(0, f & RescuableRingFactory.IORING_SETUP_COOP_TASKRUN, "cooperative task run");
        assertNotEquals(0, f & RescuableRingFactory.IORING_SETUP_TASKRUN_FLAG, "Netty's loop enters a ring whose flags show task work");
        assertEquals(0, f & RescuableRingFactory.IORING_SETUP_SINGLE_ISSUER, "another thread may enter the ring");
        assertEquals(0, f & RescuableRingFactory.IORING_SETUP_DEFER_TASKRUN, "needs single issuer, so never set");
        assertNotEquals(0, f & RescuableRingFactory.IORING_SETUP_CQSIZE, "the completion queue keeps Bobbin's size");
        assertFalse(IoTransport.IO_URING.rescueCostsCpu());
        assertFalse(IoTransport.EPOLL.rescueCostsCpu());
    }

    @Test
    void everyCarrierOfARescuableSchedulerServesSocketsOnARemadeRingAndNoRingOutlivesIt() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        IoDrivers drivers = (IoDrivers) io.driverFactory();
        boolean before = drivers.rescue;
        drivers.rescue = true;
        try {
            warmUp(io);
            long rings = rings(), remade = RescuableRingFactory.remade.sum();
            for (int i = 0; i < 3; i++) {
                try (FiberScheduler s = FiberScheduler.create(io.schedulerConfig().name("remade-rings-" + i).parallelism(2).build());
                     FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 16)) {
                    for (int carrier = 0; carrier < 2; carrier++) {
                        int c = carrier;
                        // a bound fiber's accepted and connected sockets live on its own carrier's ring
                        s.startOn(c, () -> echoOnce(io, server, "carrier " + c)).join();
                    }
                }
            }
            assertEquals(6, RescuableRingFactory.remade.sum() - remade, "one remade ring per carrier of each scheduler");
            assertEquals(rings, rings(), "io_uring rings left open: Netty's first ring of a remade loop, or a remade one");
        } finally {
            drivers.rescue = before;
        }
        LeakGuard.assertNoLeaks();
    }

    @Test
    void aLoopThatIsNotRescuableKeepsNettysSingleIssuerRing() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        IoDrivers drivers = (IoDrivers) io.driverFactory();
        boolean before = drivers.rescue;
        drivers.rescue = false;
        try {
            warmUp(io);
            long remade = RescuableRingFactory.remade.sum();
            try (FiberScheduler s = FiberScheduler.create(io.schedulerConfig().name("plain-rings").parallelism(2).build());
                 FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 16)) {
                s.startOn(1, () -> echoOnce(io, server, "single issuer")).join();
            }
            assertEquals(0, RescuableRingFactory.remade.sum() - remade);
        } finally {
            drivers.rescue = before;
        }
    }

    @Test
    void aConfigThatRegistersOnNettysRingIsRefusedSinceTheRemakeWouldLoseIt() {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        assertThrows(NullPointerException.class, () -> RescuableRingFactory.of(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RescuableRingFactory.of(new IoUringIoHandlerConfig().setMaxBoundedWorker(2)));
        assertTrue(e.getMessage().contains("registers"), e.getMessage());
        assertNotNull(RescuableRingFactory.of(new IoUringIoHandlerConfig().setCqSize(IoTunables.URING_CQ_ENTRIES)));
    }

    /** The transport's first scheduler loads native code, and the first socket used off the carriers (the
     *  test's server, bound by the test thread) makes the runtime's fallback loop, whose ring stays open. */
    @SuppressWarnings("try")                        // the server is bound for its side effect, the fallback loop
    private static void warmUp(FiberIo io) throws Exception {
        try (FiberScheduler warm = FiberScheduler.create(io.schedulerConfig().name("warm-rings").parallelism(1).build());
             FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 16)) {
            warm.start(() -> { }).join();
        }
    }

    /** Connects to {@code server}, accepts, and echoes {@code text} once, all from the calling fiber. */
    private static void echoOnce(FiberIo io, FiberServerSocket server, String text) {
        try (FiberSocket client = io.openSocket()) {
            client.connect(server.localAddress(), java.time.Duration.ofSeconds(10));
            try (FiberSocket accepted = server.accept()) {
                byte[] sent = text.getBytes(StandardCharsets.UTF_8);
                client.write(ByteBuffer.wrap(sent));
                ByteBuffer got = ByteBuffer.allocate(sent.length);
                accepted.readFully(got);
                accepted.write(got.flip());
                ByteBuffer back = ByteBuffer.allocate(sent.length);
                client.readFully(back);
                assertArrayEquals(sent, back.array());
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long rings() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().contains("io_uring");
                } catch (IOException closedMeanwhile) {
                    return false;
                }
            }).count();
        }
    }
}
