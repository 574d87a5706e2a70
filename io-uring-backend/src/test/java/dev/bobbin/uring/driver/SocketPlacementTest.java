package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import dev.bobbin.uring.IoTransport;
import dev.bobbin.uring.LeakGuard;
import dev.bobbin.uring.SocketHomes;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Where accepted connections live with a placement slack of 0 ({@code -Dbobbin.io.placementSlack=0}):
 * sockets first used by fibers that may move are spread over the scheduler's loops from the first one,
 * while a bound fiber's sockets stay on its own carrier's loop.
 */
class SocketPlacementTest {
    static { LeakGuard.install(); }

    private static final int CONNECTIONS = 40;

    @Test
    void slackZeroSpreadsAcceptedConnectionsOverTheLoops() throws Exception {
        int[] perLoop = place(-1);
        assertEquals(CONNECTIONS, perLoop[0] + perLoop[1]);
        for (int n : perLoop) assertTrue(n >= CONNECTIONS / 4, () -> "sockets per loop: " + perLoop[0] + ", " + perLoop[1]);
    }

    @Test
    void slackZeroKeepsABoundFibersSocketsOnItsCarrier() throws Exception {
        int[] perLoop = place(1);
        assertArrayEquals(new int[] {0, CONNECTIONS}, perLoop);
    }

    /**
     * Accepts {@link #CONNECTIONS} connections with slack 0 in a fiber started unbound ({@code boundTo} -1)
     * or bound to carrier {@code boundTo}, which also makes each one's first read. Returns the sockets per loop.
     */
    private static int[] place(int boundTo) throws Exception {
        FiberIo io = FiberIo.of(IoTransport.NIO);     // placement is the same on every transport
        int previous = RuntimeDrivers.of(io).placementSlack;
        RuntimeDrivers.of(io).placementSlack = 0;
        List<FiberSocket> placed = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("placement").parallelism(2).build());
             FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 1024)) {
            IoCarrierDriver[] drivers = StalledCarrierIoTest.driversOf(scheduler, io, 2);
            // the acceptor makes each connection's first read itself: it always runs on the carrier whose
            // loop completes its accepts and reads, so without spreading every socket would stay there
            Runnable acceptor = () -> {
                try {
                    for (;;) {
                        FiberSocket s = server.accept();
                        s.readFully(ByteBuffer.allocate(1));
                        placed.add(s);
                    }
                } catch (ClosedChannelException closed) {
                    // the test is over
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            };
            if (boundTo < 0) scheduler.start(acceptor);
            else scheduler.startOn(boundTo, acceptor);
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    Socket c = new Socket("127.0.0.1", server.localAddress().getPort());
                    c.getOutputStream().write(1);
                    clients.add(c);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (placed.size() < CONNECTIONS && System.nanoTime() < deadline) Thread.sleep(5);
                assertNull(failure.get());
                assertEquals(CONNECTIONS, placed.size());
                int[] perLoop = new int[2];
                for (FiberSocket s : placed) {
                    for (int i = 0; i < 2; i++) if (SocketHomes.livesOn(s, drivers[i].loop)) perLoop[i]++;
                }
                return perLoop;
            } finally {
                for (FiberSocket s : placed) s.close();
                for (Socket c : clients) c.close();
            }
        } finally {
            RuntimeDrivers.of(io).placementSlack = previous;
        }
    }
}
