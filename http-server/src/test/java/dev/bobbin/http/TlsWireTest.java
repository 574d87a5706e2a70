package dev.bobbin.http;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * TLS over a fiber socket: a {@link TlsWire} server in fibers against the JDK's {@link SSLSocket} client,
 * with a self-signed certificate made by keytool. Netty's leak detector runs at PARANOID; its reports are
 * collected from its logger and fail the leak test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsWireTest {
    private static final Logger LEAK_LOGGER = Logger.getLogger(ResourceLeakDetector.class.getName());
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static final Queue<AutoCloseable> OPEN = new ConcurrentLinkedQueue<>();

    static SSLContext serverCtx;          // the certificate's key; trusts it for client certificates
    static SSLContext clientCtx;          // trusts the certificate, no key
    static SSLContext clientWithKeyCtx;   // trusts it and presents it (mutual TLS)
    static FiberIo io;
    static FiberScheduler s;

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "tests run with -Dio.netty.leakDetection.level=PARANOID");
        assertInstanceOf(JdkLoggerFactory.class, InternalLoggerFactory.getDefaultFactory(),
                "leak reports are collected from java.util.logging");
        LEAK_LOGGER.addHandler(new Handler() {
            @Override public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) LEAKS.add(r.getMessage());
            }
            @Override public void flush() { }
            @Override public void close() { }
        });

        // TLS 1.3 key updates every MiB, so that bulk transfers make the reader answer key updates (NEED_WRAP)
        // while the writer wraps; it takes effect if no TLS cipher was used in this JVM yet
        java.security.Security.setProperty("jdk.tls.keyLimits",
                "AES/GCM/NoPadding KeyUpdate 2^20, ChaCha20-Poly1305 KeyUpdate 2^20");

        TestCertificate cert = TestCertificate.create(tmp);
        serverCtx = cert.server();
        clientCtx = cert.client();
        clientWithKeyCtx = cert.clientWithKey();

        io = FiberIo.system();
        s = io.newScheduler("tls-test", 2);
    }

    /** Closes what a failed test left open, so no fiber stays blocked in accept or receive. */
    @AfterEach
    void closeLeftovers() {
        AutoCloseable c;
        while ((c = OPEN.poll()) != null) {
            try {
                c.close();
            } catch (Exception e) {
                // closing is all that matters here
            }
        }
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        if (s != null) s.close();
        assertNoLeaks();
    }

    // ---- echo ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void echoesSmallPayload(String protocol) throws Exception {
        echo(protocol, 5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void echoesSeveralMebibytesBothWays(String protocol) throws Exception {
        echo(protocol, 4 * 1024 * 1024 + 123);
    }

    /** The client streams {@code n} random bytes while reading them back; the server echoes every chunk. */
    private void echo(String protocol, int n) throws Exception {
        AtomicReference<String> serverProtocol = new AtomicReference<>();
        Server server = serve(1, false, w -> {
            ByteBuf b;
            while ((b = w.receive()) != null) {
                serverProtocol.set(w.sslSession().getProtocol());
                w.write(b);
            }
            w.flush();
        });
        byte[] payload = random(n, n);
        try (SSLSocket c = client(clientCtx, protocol, server.port())) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    for (int off = 0; off < n; off += 100_000) out.write(payload, off, Math.min(100_000, n - off));
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] back = c.getInputStream().readNBytes(n);
            sent.get(30, TimeUnit.SECONDS);
            assertEquals(n, back.length, "echoed length");
            assertArrayEquals(payload, back, "echoed bytes");
            assertEquals(protocol, c.getSession().getProtocol());
        }
        server.await();
        assertEquals(protocol, serverProtocol.get(), "the server's session protocol");
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void serverSendsLargeResponseToSmallRequest(String protocol) throws Exception {
        int n = 3 * 1024 * 1024 + 7;
        byte[] body = random(n, 42);
        Server server = serve(1, false, w -> {
            assertEquals("GET", text(w.receive()));
            ByteBuf out = ByteBufAllocator.DEFAULT.heapBuffer(n);
            out.writeBytes(body);
            w.write(out);
            w.flush();
            // a lingering close, as the HTTP connection does: with key updates every 1 MiB the client
            // answers while it reads, and closing with its answers unread would reset the connection
            w.shutdownOutput();
            ByteBuf b;
            while ((b = w.receive()) != null) b.release();
        });
        try (SSLSocket c = client(clientCtx, protocol, server.port())) {
            c.getOutputStream().write("GET".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            assertArrayEquals(body, c.getInputStream().readNBytes(n));
            assertEquals(-1, c.getInputStream().read(), "end of stream after the server closed");
        }
        server.await();
    }

    /**
     * A reader fiber and a writer fiber on one wire at once: the writer starts before the handshake (it
     * waits for the reader to drive it), and with key updates the reader wraps while the writer does.
     */
    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void concurrentReaderAndWriter(String protocol) throws Exception {
        int n = 6 * 1024 * 1024 + 5;
        byte[] up = random(n, 1);
        byte[] down = random(n, 2);
        CompletableFuture<Void> serverReadAll = new CompletableFuture<>();
        Server server = serve(1, false, w -> {
            CompletableFuture<byte[]> received = fiber(() -> {
                byte[] all = new byte[n];
                int at = 0;
                while (at < n) {
                    ByteBuf b = w.receive();
                    assertNotNull(b, "end of stream after " + at + " bytes");
                    int k = Math.min(b.readableBytes(), n - at);
                    b.readBytes(all, at, k);
                    at += k;
                    assertFalse(b.isReadable(), "more bytes than sent");
                    b.release();
                }
                return all;
            });
            for (int off = 0; off < n; off += 64 * 1024) {
                int k = Math.min(64 * 1024, n - off);
                w.write(ByteBufAllocator.DEFAULT.heapBuffer(k).writeBytes(down, off, k));
            }
            w.flush();
            try {
                assertArrayEquals(up, get(received), "bytes the server read");
            } finally {
                serverReadAll.complete(null);
            }
            assertNull(w.receive(), "end of stream after the client's close");
        });
        try (SSLSocket c = client(clientCtx, protocol, server.port())) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    for (int off = 0; off < n; off += 50_000) out.write(up, off, Math.min(50_000, n - off));
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            // read on a pool thread: the JDK client's reader can block uninterruptibly behind its writer,
            // and a timed out test must close the socket (which frees both) rather than hang
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.getInputStream().readNBytes(n);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertArrayEquals(down, read.get(30, TimeUnit.SECONDS), "bytes the client read");
            sent.get(30, TimeUnit.SECONDS);
            // close only once the server has read everything: with key updates its reader still answers
            // the client's last key update while it reads, and an answer written after the close would
            // meet a reset ("Broken pipe"), as with any TLS peer
            serverReadAll.get(30, TimeUnit.SECONDS);
        }
        server.await();
    }

    // ---- ends of the stream -------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void clientCloseIsEndOfStream(String protocol) throws Exception {
        AtomicReference<String> got = new AtomicReference<>();
        Server server = serve(1, false, w -> {
            got.set(text(w.receive()));
            assertNull(w.receive(), "receive after the client's close_notify");
            assertNull(w.receive(), "end of stream stays");
        });
        try (SSLSocket c = client(clientCtx, protocol, server.port())) {
            c.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
        }
        server.await();
        assertEquals("bye", got.get());
    }

    @Test
    void tcpEndWithoutCloseNotifyIsEndOfStream() throws Exception {
        Server server = serve(1, false, w -> {
            assertEquals("x", text(w.receive()));
            assertNull(w.receive(), "receive after the socket's end of stream");
        });
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), server.port());
             SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(raw, "localhost", server.port(), false)) {
            c.setEnabledProtocols(new String[] {"TLSv1.3"});
            c.getOutputStream().write('x');
            c.getOutputStream().flush();
            raw.shutdownOutput();                      // TCP FIN under TLS: no close_notify
            server.await();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void serverCloseIsEndOfStreamForTheClient(String protocol) throws Exception {
        Server server = serve(1, false, w -> {
            assertEquals("hi", text(w.receive()));
            w.write(Unpooled.copiedBuffer("bye", StandardCharsets.US_ASCII));
            w.flush();
            w.close();
            w.close();                                 // idempotent
            assertThrows(IOException.class, () -> w.write(Unpooled.copiedBuffer("late", StandardCharsets.US_ASCII)));
        });
        try (SSLSocket c = client(clientCtx, protocol, server.port())) {
            c.getOutputStream().write("hi".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            InputStream in = c.getInputStream();
            assertEquals("bye", new String(in.readNBytes(3), StandardCharsets.US_ASCII));
            assertEquals(-1, in.read(), "close_notify is the end of the stream");
        }
        server.await();
    }

    // ---- failures -----------------------------------------------------------------------------------

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void plainTextClientGetsSslExceptionNotAHang() throws Exception {
        Server server = serve(1, false, w -> assertThrows(SSLException.class, w::receive));
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            c.setSoTimeout(10_000);
            c.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            server.await();
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void oversizedRecordGetsSslExceptionNotAHang() throws Exception {
        Server server = serve(1, false, w -> {
            assertThrows(SSLException.class, w::receive);
            assertThrows(SSLException.class, w::receive, "the failure stays");
        });
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            c.setSoTimeout(10_000);
            byte[] junk = new byte[40_000];
            junk[0] = 0x16;                            // a handshake record ...
            junk[1] = 0x03;
            junk[2] = 0x03;
            junk[3] = (byte) 0x7f;                     // ... claiming 32 KiB, more than TLS allows
            junk[4] = (byte) 0xff;
            try {
                c.getOutputStream().write(junk);
            } catch (IOException e) {
                // the server may have failed and closed before all of it was sent
            }
            server.await();
        }
    }

    @Test
    void closeFromAnotherThreadUnblocksReceive() throws Exception {
        CompletableFuture<TlsWire> wire = new CompletableFuture<>();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Server server = serve(1, false, w -> {
            wire.complete(w);
            try {
                ByteBuf b = w.receive();
                if (b != null) b.release();
                outcome.complete(null);
            } catch (IOException e) {
                outcome.complete(e);
            }
        });
        try (SSLSocket c = client(clientCtx, "TLSv1.3", server.port())) {
            c.startHandshake();
            TlsWire w = wire.get(20, TimeUnit.SECONDS);
            Thread.sleep(200);                         // the fiber reaches the socket and blocks there
            assertFalse(outcome.isDone(), "receive returned before any data: " + outcome.getNow(null));
            w.close();                                 // from this (non-fiber) thread
            Throwable t = outcome.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IOException.class, t, "a receive blocked during close fails");
            c.setSoTimeout(10_000);
            assertEquals(-1, c.getInputStream().read(), "the client sees the close_notify");
        }
        server.await();
    }

    /**
     * A close from another thread (the server's sweeper or stop) must not wait for the wrap lock that a
     * writer stuck on a client that reads nothing holds: the server closes such connections one after
     * the other, and each would otherwise queue behind its stuck writer.
     */
    @Test
    void closeFromAnotherThreadDoesNotWaitForAStuckWriter() throws Exception {
        CompletableFuture<TlsWire> wire = new CompletableFuture<>();
        CompletableFuture<Thread> writer = new CompletableFuture<>();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Server server = serve(1, false, w -> {
            wire.complete(w);
            writer.complete(Thread.currentThread());
            try {
                ByteBuf request = w.receive();          // runs the handshake (the client speaks first)
                if (request != null) request.release();
                w.write(Unpooled.wrappedBuffer(new byte[64 << 20]));   // far more than the client's buffers hold
                outcome.complete(null);
            } catch (IOException e) {
                outcome.complete(e);
            }
        });
        Socket raw = new Socket();
        raw.setReceiveBufferSize(4096);
        raw.setSoTimeout(30_000);
        raw.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
        try (SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(raw, "localhost", server.port(), true)) {
            c.getOutputStream().write('x');            // a request; then the client reads nothing
            c.getOutputStream().flush();
            TlsWire w = wire.get(20, TimeUnit.SECONDS);
            Thread t = writer.get(20, TimeUnit.SECONDS);
            // until the writer has waited for the client, holding the lock, for 300 ms on end
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20), waitingSince = 0;
            boolean stuck = false;
            while (!stuck && System.nanoTime() < deadline) {
                if (!(w.wrapLock.isLocked() && t.getState() == Thread.State.WAITING)) waitingSince = 0;
                else if (waitingSince == 0) waitingSince = System.nanoTime();
                else stuck = System.nanoTime() - waitingSince > TimeUnit.MILLISECONDS.toNanos(300);
                Thread.sleep(1);
            }
            assertTrue(stuck, "the writer never got stuck");
            Thread closer = Thread.ofPlatform().start(w::close);
            boolean waitedForTheLock = false;
            while (closer.isAlive()) {
                waitedForTheLock |= w.wrapLock.hasQueuedThread(closer);
                Thread.onSpinWait();
            }
            assertFalse(waitedForTheLock, "close() waited for the stuck writer's wrap lock");
            assertInstanceOf(IOException.class, outcome.get(10, TimeUnit.SECONDS), "the stuck write fails once closed");
        }
        server.await();
    }

    // ---- mutual TLS ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mutualTlsWithClientCertificate(String protocol) throws Exception {
        AtomicReference<String> peer = new AtomicReference<>();
        Server server = serve(1, true, w -> {
            assertEquals("auth", text(w.receive()));
            peer.set(((java.security.cert.X509Certificate) w.sslSession().getPeerCertificates()[0])
                    .getSubjectX500Principal().getName());
            w.write(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
        });
        try (SSLSocket c = client(clientWithKeyCtx, protocol, server.port())) {
            c.getOutputStream().write("auth".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            assertEquals("ok", new String(c.getInputStream().readNBytes(2), StandardCharsets.US_ASCII));
        }
        server.await();
        assertEquals("CN=localhost", peer.get());
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mutualTlsWithoutClientCertificateFailsCleanly(String protocol) throws Exception {
        Server server = serve(1, true, w -> assertThrows(SSLException.class, w::receive));
        try (SSLSocket c = client(clientCtx, protocol, server.port())) {
            assertThrows(IOException.class, () -> {
                c.getOutputStream().write("auth".getBytes(StandardCharsets.US_ASCII));
                c.getOutputStream().flush();
                c.getInputStream().read();
            });
        }
        server.await();
    }

    // ---- leaks --------------------------------------------------------------------------------------

    @Test
    void manySequentialConnectionsLeakNoBuffers() throws Exception {
        int connections = 40;
        Server server = serve(connections, false, w -> {
            ByteBuf b;
            while ((b = w.receive()) != null) w.write(b);
        });
        for (int i = 0; i < connections; i++) {
            String protocol = i % 2 == 0 ? "TLSv1.3" : "TLSv1.2";
            try (SSLSocket c = client(clientCtx, protocol, server.port())) {
                byte[] msg = random(1000 + i * 997, i);
                c.getOutputStream().write(msg);
                c.getOutputStream().flush();
                assertArrayEquals(msg, c.getInputStream().readNBytes(msg.length));
            }
        }
        server.await();
        assertNoLeaks();
    }

    /** Collects garbage, lets the detector poll its queue (it does on allocation), fails on any report. */
    private static void assertNoLeaks() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            for (int j = 0; j < 16; j++) {
                ByteBufAllocator.DEFAULT.directBuffer(16).release();
                ByteBufAllocator.DEFAULT.heapBuffer(16).release();
            }
        }
        assertEquals(List.of(), List.copyOf(LEAKS), "Netty leak detector reported leaks");
    }

    // ---- helpers ------------------------------------------------------------------------------------

    interface Body<T> { T run() throws Exception; }

    interface WireHandler { void handle(TlsWire w) throws Exception; }

    /** A bound server whose fiber serves {@code connections} connections one after the other. */
    record Server(int port, CompletableFuture<Void> done) {
        void await() throws Exception {
            get(done);
        }
    }

    static <T> CompletableFuture<T> fiber(Body<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        s.start(() -> {
            try {
                f.complete(body.run());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            if (e.getCause() instanceof Error x) throw x;
            throw e;
        }
    }

    private static Server serve(int connections, boolean needClientAuth, WireHandler handler) throws Exception {
        FiberServerSocket ss = get(fiber(() -> io.openServer()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128)));
        OPEN.add(ss);
        CompletableFuture<Void> done = fiber(() -> {
            try (ss) {
                for (int i = 0; i < connections; i++) {
                    FiberSocket socket = ss.accept();
                    SSLEngine engine = serverCtx.createSSLEngine();
                    engine.setUseClientMode(false);
                    engine.setNeedClientAuth(needClientAuth);
                    TlsWire wire = new TlsWire(socket, engine);
                    OPEN.add(wire);
                    try (TlsWire w = wire) {
                        handler.handle(w);
                    }
                }
            }
            return null;
        });
        return new Server(ss.localAddress().getPort(), done);
    }

    private static SSLSocket client(SSLContext ctx, String protocol, int port) throws IOException {
        SSLSocket c = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        c.setEnabledProtocols(new String[] {protocol});
        c.setSoTimeout(30_000);
        return c;
    }

    /** The bytes of {@code b} as ASCII; releases it. Fails on end of stream. */
    private static String text(ByteBuf b) {
        assertNotNull(b, "unexpected end of stream");
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
