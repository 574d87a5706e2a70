package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import dev.bobbin.uring.FiberSocketContract;
import dev.bobbin.uring.IoTransport;
import dev.bobbin.uring.LeakGuard;
import dev.bobbin.uring.TransportSelectionTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ring token under a storm of false stall reports: while echo connections run round trips as fast as
 * they can on two healthy carriers, a platform thread reports both carriers stalled every 200 µs, so
 * rescuers keep taking the loops from carriers that are running fibers and the carriers keep taking
 * them back at their next poll. Every byte must come back intact and in order, and the test must see
 * many hand-overs; the ownership assertions (tests run with -ea) check that no loop is used by two
 * threads and that every socket operation runs under its loop's token.
 */
@Tag("reliability")
class RingHandOffStressTest {
    static { LeakGuard.install(); }

    private static final int CONNECTIONS = 16;
    private static final long RUN_MILLIS = 2_000;

    @ParameterizedTest
    @EnumSource(IoTransport.class)     // io_uring: cooperative rings without the single-issuer mode
    void falseStallReportsHandTheLoopsBackAndForthWithoutLosingAByte(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        StalledCarrierIoTest.withRescue(io, () -> run(io, transport));
    }

    /**
     * Write order and wake-ups under the same storm: two fibers bound to the two carriers take turns
     * writing numbers on one socket. A fiber mounted on the socket's home carrier while a rescuer drives
     * that loop must not leave its write in the carrier's local queue, which the rescuer runs only between
     * passes of the loop (the other fiber's later write, routed through the task queue, would go out
     * first); and a wake-up of a carrier consumed by a rescue must not leave that carrier blocked in its
     * loop with the other fiber's turn in its inbox.
     */
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void falseStallReportsKeepWritesFromBothCarriersInOrder(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        StalledCarrierIoTest.withRescue(io, () -> {
            try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("handoff-order-" + transport.id())
                    .parallelism(2).build())) {
                IoCarrierDriver[] drivers = StalledCarrierIoTest.driversOf(scheduler, io, 2);
                AtomicBoolean stop = new AtomicBoolean();
                Thread reporter = reportStallsUntil(stop, drivers);
                try {
                    long outOfTurn = FiberSocketContract.writeInTurnFromBothCarriers(scheduler, io, 50_000);
                    assertEquals(-1L, outOfTurn, () -> "the peer read " + outOfTurn / 1_000_000L + " where it expected "
                            + outOfTurn % 1_000_000L);
                } finally {
                    stop.set(true);
                    reporter.join(10_000);
                }
                long rescues = 0;
                for (IoCarrierDriver d : drivers) rescues += StalledCarrierIoTest.counter(d.stats(), "rescues");
                assertTrue(rescues >= 10, "hand-overs: " + rescues);
            }
        });
    }

    /** A platform thread that reports every driver's carrier stalled every 200 µs until {@code stop}. */
    private static Thread reportStallsUntil(AtomicBoolean stop, IoCarrierDriver[] drivers) {
        return Thread.ofPlatform().daemon().name("false-stall-reports").start(() -> {
            while (!stop.get()) {
                for (IoCarrierDriver d : drivers) d.carrierStalled();
                LockSupport.parkNanos(200_000);
            }
        });
    }

    private void run(FiberIo io, IoTransport transport) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        LongAdder echoed = new LongAdder();
        try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("handoff-" + transport.id())
                .parallelism(2).build());
             FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 1024)) {
            IoCarrierDriver[] drivers = StalledCarrierIoTest.driversOf(scheduler, io, 2);
            scheduler.start(() -> {
                try {
                    for (;;) {
                        FiberSocket s = server.accept();
                        scheduler.start(() -> StalledCarrierIoTest.echo(s, echoed, failure));
                    }
                } catch (ClosedChannelException closed) {
                    // the test is over
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });

            AtomicBoolean stop = new AtomicBoolean();
            Thread reporter = reportStallsUntil(stop, drivers);
            List<Thread> clients = new ArrayList<>();
            long[] bytes = new long[CONNECTIONS];
            for (int i = 0; i < CONNECTIONS; i++) {
                int id = i;
                Socket s = new Socket("127.0.0.1", server.localAddress().getPort());
                s.setTcpNoDelay(true);
                s.setSoTimeout(30_000);
                clients.add(Thread.ofPlatform().daemon().name("handoff-client-" + i).start(() -> {
                    SplittableRandom random = new SplittableRandom(id);
                    byte[] out = new byte[2048], in = new byte[2048];
                    try (s) {
                        OutputStream os = s.getOutputStream();
                        DataInputStream is = new DataInputStream(s.getInputStream());
                        while (!stop.get()) {
                            int len = 1 + random.nextInt(out.length);
                            random.nextBytes(out);
                            os.write(out, 0, len);
                            is.readFully(in, 0, len);
                            for (int k = 0; k < len; k++) {
                                if (in[k] != out[k]) throw new AssertionError("byte " + k + " differs");
                            }
                            bytes[id] += len;
                        }
                        s.shutdownOutput();
                        if (is.read() != -1) throw new AssertionError("data after the echo");
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            Thread.sleep(RUN_MILLIS);
            stop.set(true);
            for (Thread t : clients) t.join(30_000);
            reporter.join(10_000);
            assertNull(failure.get(), () -> "failed: " + failure.get());
            long total = 0;
            for (long b : bytes) total += b;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (echoed.sum() < total && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(total, echoed.sum(), "bytes the server echoed");
            assertTrue(total > 0);
            long rescues = 0;
            for (IoCarrierDriver d : drivers) rescues += StalledCarrierIoTest.counter(d.stats(), "rescues");
            if (Boolean.getBoolean("bobbin.test.verbose")) {
                System.out.printf("%s: %d bytes echoed, %d hand-overs to rescuers%n", transport.id(), total, rescues);
            }
            assertTrue(rescues >= 10, "hand-overs: " + rescues);
            // the last false report may have handed a loop to its rescuer just before the reporter stopped:
            // the carrier takes it back at its next poll or park, so wait for that rather than race it
            for (IoCarrierDriver d : drivers) {
                long r = rescues;
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!d.loop.inEventLoop(d.carrier.carrierThread()) && System.nanoTime() < until) Thread.sleep(1);
                assertTrue(d.loop.inEventLoop(d.carrier.carrierThread()), () -> "a carrier took its loop back; rescues " + r);
            }
        }
    }
}
