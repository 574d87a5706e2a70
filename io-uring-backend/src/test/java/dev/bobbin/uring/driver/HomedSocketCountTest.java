package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import dev.bobbin.uring.IoTransport;
import dev.bobbin.uring.LeakGuard;
import dev.bobbin.uring.TransportSelectionTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A driver counts the sockets that live on its loop ({@code IoCarrierDriver.homedSockets}, which places new
 * sockets on the least loaded loop): a socket enters the count when it registers there and leaves it exactly
 * once, by its channel's close listener ({@code Endpoint.leave}). After connects, accepts, reads, closes
 * before and after use, an interrupted read and a refused connect, the count is back where it began; a
 * socket that never left would leave it above, one that left twice below.
 */
class HomedSocketCountTest {
    static { LeakGuard.install(); }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void everySocketLeavesTheCountOnce(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        FiberIo io = FiberIo.of(t);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("homed-" + t.id()).parallelism(1).build())) {
            IoCarrierDriver driver = StalledCarrierIoTest.driversOf(scheduler, io, 1)[0];
            int base = driver.homedSockets.get();
            scheduler.startOn(0, () -> {
                try {
                    FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0));
                    FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                    FiberSocket a = server.accept();
                    c.write(ByteBuffer.wrap(new byte[] {1}));
                    a.readFully(ByteBuffer.allocate(1));
                    c.close();
                    a.close();
                    io.openSocket().close();                            // closed before any operation
                    FiberSocket c2 = io.connect(server.localAddress(), Duration.ofSeconds(5));
                    server.accept().close();                            // accepted, closed unused
                    c2.close();
                    FiberSocket c3 = io.connect(server.localAddress(), Duration.ofSeconds(5));
                    FiberSocket a3 = server.accept();
                    CompletableFuture<Throwable> read = new CompletableFuture<>();
                    Thread reader = scheduler.startOn(0, () -> {
                        try {
                            a3.read(ByteBuffer.allocate(1));
                            read.complete(null);
                        } catch (Throwable e) {
                            read.complete(e);
                        }
                    });
                    while (reader.getState() != Thread.State.WAITING) Thread.sleep(1);   // parked in the read
                    reader.interrupt();                                 // closes a3
                    assertInstanceOf(ClosedByInterruptException.class, read.get(10, TimeUnit.SECONDS));
                    c3.close();
                    FiberServerSocket gone = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0));
                    InetSocketAddress refused = gone.localAddress();
                    gone.close();
                    assertThrows(IOException.class, () -> io.connect(refused, Duration.ofSeconds(5)).close());
                    server.close();
                } catch (Throwable e) {
                    failure.set(e);
                }
            }).join();
            if (failure.get() != null) throw new AssertionError(failure.get());
            // the close listeners run on the loop after close() returns: wait for them (a hang guard, not a timing check)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (driver.homedSockets.get() != base && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(base, driver.homedSockets.get(), "sockets counted on the loop after all closed");
        }
    }
}
