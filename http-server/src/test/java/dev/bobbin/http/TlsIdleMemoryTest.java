package dev.bobbin.http;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What a TLS wire holds while its reader waits for the peer's next bytes: the ciphertext buffer, but no
 * buffer for decrypted data (a server keeps thousands of idle TLS connections, each reader parked there).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsIdleMemoryTest {
    static TestCertificate cert;
    static FiberScheduler s;
    static FiberIo io;

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        cert = TestCertificate.create(tmp);
        io = FiberIo.system();
        s = io.newScheduler("tls-idle-test", 2);
    }

    @AfterAll
    static void tearDown() {
        if (s != null) s.close();
    }

    /** Unpooled buffers (never recycled, so a released one stays at refCnt 0), every heap one recorded. */
    private static final class RecordingAllocator extends AbstractByteBufAllocator {
        final List<ByteBuf> heap = new CopyOnWriteArrayList<>();

        RecordingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            heap.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 40_000})   // a small request, and one of full records (the decrypt buffer grows to a record)
    void aReaderWaitingForTheNextRecordHoldsNoDecryptBuffer(int n) throws Exception {
        RecordingAllocator alloc = new RecordingAllocator();
        AtomicReference<Thread> reader = new AtomicReference<>();
        AtomicReference<TlsWire> wireRef = new AtomicReference<>();
        CompletableFuture<FiberServerSocket> bound = new CompletableFuture<>();
        CompletableFuture<Void> served = new CompletableFuture<>();
        s.start(() -> {
            try (FiberServerSocket ss = io.openServer().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16)) {
                bound.complete(ss);
                FiberSocket socket = ss.accept();
                SSLEngine engine = cert.server().createSSLEngine();
                engine.setUseClientMode(false);
                try (TlsWire w = new TlsWire(socket, engine, alloc)) {
                    wireRef.set(w);
                    reader.set(Thread.currentThread());
                    int got = 0;
                    ByteBuf b;
                    while ((b = w.receive()) != null) {
                        got += b.readableBytes();
                        b.release();
                        if (got == n) w.write(alloc.directBuffer().writeBytes("done".getBytes(ISO_8859_1)));
                    }
                }
                served.complete(null);
            } catch (Throwable t) {
                bound.completeExceptionally(t);
                served.completeExceptionally(t);
            }
        });
        int port = bound.get(20, TimeUnit.SECONDS).localAddress().getPort();
        try (SSLSocket c = (SSLSocket) cert.client().getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
            c.setSoTimeout(30_000);
            byte[] payload = new byte[n];
            Arrays.fill(payload, (byte) 'x');
            c.getOutputStream().write(payload);
            c.getOutputStream().flush();
            assertEquals("done", new String(c.getInputStream().readNBytes(4), ISO_8859_1));
            awaitParkedInSocketReceive(reader.get());
            for (ByteBuf b : alloc.heap) {
                assertEquals(0, b.refCnt(), "a TLS reader waiting for the next record holds a " + b.capacity() + "-byte buffer");
            }
        } finally {
            TlsWire w = wireRef.get();
            if (w != null) w.close();
        }
        served.get(20, TimeUnit.SECONDS);
        for (ByteBuf b : alloc.heap) assertEquals(0, b.refCnt(), "a buffer outlived the wire");
    }

    /** Waits (a hang guard bounds it) until {@code t} is parked in its socket's receive. */
    private static void awaitParkedInSocketReceive(Thread t) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (;;) {
            Thread.State st = t.getState();
            if (st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING) {
                boolean inReceive = Arrays.stream(t.getStackTrace())
                        .anyMatch(f -> f.getClassName().equals(FiberSocket.class.getName()) && f.getMethodName().equals("receive"));
                if (inReceive && t.getState() == st) return;
            }
            if (System.nanoTime() - end > 0) throw new AssertionError("the reader never waited in receive: " + st);
            Thread.sleep(1);
        }
    }
}
