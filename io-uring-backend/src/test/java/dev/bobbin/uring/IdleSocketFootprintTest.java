package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import io.netty.channel.RecvByteBufAllocator;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What an idle connection keeps besides its channel. Netty makes a receive-buffer allocator for every
 * channel, although the default one holds only settings (the size it adapts lives in each channel's
 * handle): every socket, accepted or connected, shares one, and still reads as before. A socket whose
 * reader takes every buffer as it arrives keeps no queue of received buffers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdleSocketFootprintTest {

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void socketsShareOneReceiveAllocator(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        FiberIo io = FiberIo.of(t);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (FiberScheduler sched = io.newScheduler("recv-alloc-" + t.id(), 2)) {
            sched.start(() -> {
                try (FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0));
                     FiberSocket c1 = io.connect(server.localAddress(), Duration.ofSeconds(5));
                     FiberSocket a1 = server.accept();
                     FiberSocket c2 = io.connect(server.localAddress(), Duration.ofSeconds(5));
                     FiberSocket a2 = server.accept()) {
                    RecvByteBufAllocator shared = c1.ch.config().getRecvByteBufAllocator();
                    for (FiberSocket s : new FiberSocket[] {a1, c2, a2}) {
                        assertSame(shared, s.ch.config().getRecvByteBufAllocator(), () -> s + " has an allocator of its own");
                    }
                    c2.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                    ByteBuffer in = ByteBuffer.allocate(3);
                    a2.readFully(in);
                    assertArrayEquals(new byte[] {1, 2, 3}, in.array());
                } catch (Throwable e) {
                    failure.set(e);
                }
            }).join();
        }
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aSocketWhoseReaderWaitsKeepsNoQueue(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        FiberIo io = FiberIo.of(t);
        Field inbound = FiberSocket.class.getDeclaredField("inbound");
        inbound.setAccessible(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (FiberScheduler sched = io.newScheduler("idle-queue-" + t.id(), 2)) {
            sched.start(() -> {
                try (FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0));
                     FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                     FiberSocket a = server.accept()) {
                    for (int i = 0; i < 3; i++) {          // auto-read is off: bytes are fetched for the reader who asks
                        c.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                        ByteBuffer one = ByteBuffer.allocate(1);
                        assertEquals(1, a.read(one));
                        assertEquals(i, one.get(0));
                    }
                    assertNull(inbound.get(a), "a queue made although no buffer waited for a reader");
                    c.write(ByteBuffer.wrap(new byte[] {9}));  // with no reader waiting, the next buffer is queued
                    while (a.inputStream().available() == 0) Thread.sleep(1);
                    assertNotNull(inbound.get(a));
                    assertEquals(9, a.inputStream().read());
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }).join();
        }
        if (failure.get() != null) throw new AssertionError(failure.get());
    }
}
