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
        FiberIo io = ioUringWithRescue(true);
        try {
            warmUp(io);
            long rings = FiberSocketContract.openRings(), remade = RescuableRingFactory.remade.sum();
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
            assertEquals(rings, FiberSocketContract.openRings(),
                    "io_uring rings left open: Netty's first ring of a remade loop, or a remade one");
        } finally {
            restoreRescue(io);
        }
        LeakGuard.assertNoLeaks();
    }

    @Test
    void aLoopThatIsNotRescuableKeepsNettysSingleIssuerRing() throws Exception {
        FiberIo io = ioUringWithRescue(false);
        try {
            warmUp(io);
            long remade = RescuableRingFactory.remade.sum();
            try (FiberScheduler s = FiberScheduler.create(io.schedulerConfig().name("plain-rings").parallelism(2).build());
                 FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 16)) {
                s.startOn(1, () -> echoOnce(io, server, "single issuer")).join();
            }
            assertEquals(0, RescuableRingFactory.remade.sum() - remade);
        } finally {
            restoreRescue(io);
        }
    }

    /** The io_uring runtime with ring rescue set to {@code on} for schedulers created from now on. */
    private static FiberIo ioUringWithRescue(boolean on) {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        ((IoDrivers) io.driverFactory()).rescue = on;
        return io;
    }

    /** Puts the runtime's rescue setting back to its default (this JVM sets no property). */
    private static void restoreRescue(FiberIo io) {
        ((IoDrivers) io.driverFactory()).rescue = IoDrivers.rescueSetting(io.transport().rescueCostsCpu(),
                System.getProperty(IoTunables.RESCUE_PROPERTY));
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

}
