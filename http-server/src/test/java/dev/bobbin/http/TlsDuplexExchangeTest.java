package dev.bobbin.http;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HTTPS exchanges whose handler reads the request body on one thread while another writes the response,
 * with large bodies both ways, TLS 1.3 key updates and TLS 1.2 renegotiation in the middle; the JDK's
 * provider is the control.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsDuplexExchangeTest {
    private static final Logger LEAK_LOGGER = Logger.getLogger(ResourceLeakDetector.class.getName());
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static SSLContext serverContext, clientContext;
    /** the client's reader and writer: the common pool may have a single thread */
    private static final java.util.concurrent.Executor THREADS = r -> Thread.ofPlatform().daemon().start(r);

    @BeforeAll
    static void setUp(@TempDir Path dir) throws Exception {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        LEAK_LOGGER.addHandler(new Handler() {
            @Override public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) LEAKS.add(r.getMessage());
            }
            @Override public void flush() { }
            @Override public void close() { }
        });
        // no jdk.tls.keyLimits here: the JDK's SSLSocket client races itself (its reader's and writer's key
        // updates at once fail with an IndexOutOfBoundsException in SSLSocketOutputRecord), and its reader
        // blocks behind its writer to answer a server's key update; the client's writer starts them instead
        TestCertificate cert = TestCertificate.create(dir);
        serverContext = cert.server();
        clientContext = cert.client();
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
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

    private static HttpServerProvider provider(String name) throws Exception {
        return name.equals("bobbin") ? new BobbinHttpServerProvider()
                : (HttpServerProvider) Class.forName("sun.net.httpserver.DefaultHttpServerProvider").getConstructor().newInstance();
    }

    private static HttpsServer server(String providerName, String protocol) throws Exception {
        HttpsServer s = provider(providerName).createHttpsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setHttpsConfigurator(new HttpsConfigurator(serverContext) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters sp = getSSLContext().getDefaultSSLParameters();
                sp.setProtocols(new String[] {protocol});
                params.setSSLParameters(sp);
            }
        });
        return s;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * mode "independent": the handler writes its own 20 MB while another thread reads the client's 20 MB;
     * mode "echo": a reader thread hands each piece of the body to the handler's thread, which writes it back.
     * rehandshake: the client calls startHandshake() every eighth of its body (TLS 1.3: a key update,
     * TLS 1.2: a renegotiation, made so that the JDK's client does not race itself: see Renegotiations).
     */
    @ParameterizedTest(name = "{0} {1} {2} rehandshake={3}")
    @CsvSource({
            "bobbin, TLSv1.3, independent, false",
            "bobbin, TLSv1.3, independent, true",
            "bobbin, TLSv1.3, echo, false",
            "bobbin, TLSv1.3, echo, true",
            "bobbin, TLSv1.2, independent, false",
            "bobbin, TLSv1.2, independent, true",
            "bobbin, TLSv1.2, echo, false",
            "bobbin, TLSv1.2, echo, true",
    })
    void largeBodiesBothWaysAtOnce(String providerName, String protocol, String mode, boolean rehandshake) throws Exception {
        int n = 20 * 1024 * 1024 + 7;
        byte[] up = random(n, 1);
        byte[] down = mode.equals("echo") ? up : random(n, 2);
        CompletableFuture<String> serverRead = new CompletableFuture<>();
        HttpsServer s = server(providerName, protocol);
        s.createContext("/", x -> {
            x.sendResponseHeaders(200, n);
            OutputStream os = x.getResponseBody();
            InputStream is = x.getRequestBody();
            if (mode.equals("echo")) {
                // Unbounded: the server's reader must never stop reading for the writer. The JDK's SSLSocket
                // client answers a renegotiation's Finished from its reading thread, which needs the record
                // lock its writing thread holds while blocked in a socket write; if the server stopped
                // reading until its writer got through, each side's reader would wait for the other's writer.
                BlockingQueue<byte[]> q = new LinkedBlockingQueue<>();
                byte[] eof = new byte[0];
                Thread.ofPlatform().start(() -> {
                    byte[] buf = new byte[32 * 1024];
                    try {
                        for (int k; (k = is.read(buf)) > 0; ) q.put(Arrays.copyOf(buf, k));
                        serverRead.complete("ok");
                    } catch (Exception e) {
                        serverRead.complete(e.toString());
                    } finally {
                        try { q.put(eof); } catch (InterruptedException ignored) { }
                    }
                });
                try {
                    for (byte[] b; (b = q.take()) != eof; ) os.write(b);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            } else {
                Thread.ofPlatform().start(() -> {
                    try {
                        byte[] got = is.readAllBytes();
                        serverRead.complete(Arrays.equals(up, got) ? "ok" : "server read " + got.length + " bytes, not the ones sent");
                    } catch (Exception e) {
                        serverRead.complete(e.toString());
                    }
                });
                for (int off = 0; off < n; off += 64 * 1024) os.write(down, off, Math.min(64 * 1024, n - off));
                os.flush();
                try {
                    serverRead.get(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
            os.close();
        });
        s.start();
        java.net.Socket raw = new java.net.Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort());
        try (raw; SSLSocket c = (SSLSocket) clientContext.getSocketFactory().createSocket(raw, "127.0.0.1", s.getAddress().getPort(), true)) {
            c.setEnabledProtocols(new String[] {protocol});
            c.setSoTimeout(30_000);
            c.startHandshake();
            // TLS 1.2: the JDK's SSLSocket client fails (or drops its own handshake messages) when its writing
            // thread renegotiates while its reading thread reads on; see Renegotiations
            Renegotiations quiet = rehandshake && protocol.equals("TLSv1.2") ? new Renegotiations(c) : null;
            int inFlight = Math.min(256 * 1024, n / 16);   // echoed bytes still to read while a renegotiation runs
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    out.write(("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + n + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    int next = n / 8;
                    boolean asked = false;
                    for (int off = 0; off < n; off += 16 * 1024) {
                        if (quiet != null && !asked && off >= next - inFlight) {
                            quiet.stopReader();
                            asked = true;
                        }
                        if (rehandshake && off >= next) {  // TLS 1.3: a key update; TLS 1.2: a renegotiation
                            next += n / 8;
                            if (quiet != null) {
                                quiet.renegotiate();
                                asked = false;
                            } else {
                                c.startHandshake();
                            }
                        }
                        out.write(up, off, Math.min(16 * 1024, n - off));
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, THREADS);
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try {
                    InputStream in = c.getInputStream();
                    ByteArrayOutputStream head = new ByteArrayOutputStream();
                    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                        int b = in.read();
                        if (b < 0) throw new IOException("end of stream in the head: " + head);
                        head.write(b);
                    }
                    assertTrue(head.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 200"), head.toString(StandardCharsets.ISO_8859_1));
                    if (quiet == null) return in.readNBytes(n);
                    byte[] got = new byte[n];
                    int have = 0;
                    for (int k; have < n; have += k) {
                        quiet.pause();
                        if ((k = in.read(got, have, Math.min(16 * 1024, n - have))) < 0) break;
                    }
                    return have == n ? got : Arrays.copyOf(got, have);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } finally {
                    if (quiet != null) quiet.readerDone();
                }
            }, THREADS);
            byte[] got = read.get(40, TimeUnit.SECONDS);
            assertEquals(n, got.length, "response length");
            assertArrayEquals(down, got, "response bytes");
            sent.get(30, TimeUnit.SECONDS);
            assertEquals("ok", serverRead.get(30, TimeUnit.SECONDS), "the server's read of the body");
        } catch (Throwable t) {
            raw.close();                                 // frees the client's threads (an SSLSocket close may wait for its writer)
            throw t;
        } finally {
            long t0 = System.nanoTime();
            s.stop(0);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "stop(0) took " + ms + " ms");
        }
    }

    /**
     * TLS 1.2 renegotiations of a JDK SSLSocket client that writes on one thread and reads on another,
     * ordered around two races inside the JDK's client (JDK 25, sun.security.ssl). startHandshake() only
     * sends the ClientHello; the reading thread consumes the server's messages and sends the client's
     * next flight, while the writing thread goes on delivering application records.
     * <ul>
     * <li>A handshake message the reading thread sends (ClientKeyExchange, Finished) is buffered by
     * {@code SSLSocketOutputRecord.encodeHandshake} (from {@code HandshakeOutStream.complete}) and written
     * by a later {@code flush()}, each under its own hold of the record lock. An application record that
     * {@code deliver} writes in between starts at {@code count = position} and overwrites the buffered
     * message, which is never sent: after a resumed renegotiation the server waits for a Finished that
     * never comes, and fails with unexpected_message ("Unexpected handshake message: client_hello") at
     * the client's next ClientHello. So the writing thread writes nothing from its startHandshake() until
     * the handshake has completed (or the reading thread has stopped reading).</li>
     * <li>{@code ClientHello.ClientHelloKickstartProducer} flushes the ClientHello and only then registers
     * the ServerHello consumer; a reading thread that dispatches the ServerHello in between fails with
     * unexpected_message ("Unexpected handshake message: server_hello"). So the reading thread waits
     * between two reads while the writing thread sends the ClientHello.</li>
     * </ul>
     * The writer asks the reader to stop a little before it renegotiates, so echoed data is still in
     * flight towards the client while the server renegotiates.
     */
    private static final class Renegotiations {
        private final SSLSocket socket;
        private boolean stopWanted, stopped, readerDone;   // this
        private int completed;                             // this: renegotiations completed

        Renegotiations(SSLSocket socket) {
            this.socket = socket;
            socket.addHandshakeCompletedListener(e -> {
                synchronized (this) {
                    completed++;
                    notifyAll();
                }
            });
        }

        /** Writer: the reader is to stop before its next read, until the ClientHello is out. */
        synchronized void stopReader() {
            stopWanted = true;
        }

        /** Writer: waits for the reader to stop, sends the ClientHello, and waits for the handshake's end. */
        void renegotiate() throws IOException {
            int before;
            synchronized (this) {
                stopWanted = true;
                awaitLocked(() -> stopped || readerDone, "the reader to stop");
                before = completed;
            }
            try {
                socket.startHandshake();
            } finally {
                synchronized (this) {
                    stopWanted = stopped = false;
                    notifyAll();
                }
            }
            synchronized (this) {
                awaitLocked(() -> completed > before || readerDone, "the renegotiation to complete");
            }
        }

        /** Reader, before each read. */
        synchronized void pause() throws IOException {
            if (!stopWanted) return;
            stopped = true;
            notifyAll();
            awaitLocked(() -> !stopped, "the ClientHello");
        }

        /** Reader: reads no more (then a handshake cannot complete, and needs no stop). */
        synchronized void readerDone() {
            readerDone = true;
            notifyAll();
        }

        private void awaitLocked(java.util.function.BooleanSupplier done, String what) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try {
                while (!done.getAsBoolean()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new IOException("timed out waiting for " + what);
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
        }
    }

    /** stop(0) while a handler's two threads stream both ways: bounded, both threads fail, nothing leaks. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void stopWhileBothDirectionsStream(String protocol) throws Exception {
        CompletableFuture<String> readEnd = new CompletableFuture<>(), writeEnd = new CompletableFuture<>();
        HttpsServer s = server("bobbin", protocol);
        s.createContext("/", x -> {
            x.sendResponseHeaders(200, 0);
            InputStream is = x.getRequestBody();
            OutputStream os = x.getResponseBody();
            Thread.ofPlatform().start(() -> {
                try { while (is.read(new byte[16384]) >= 0) { } readEnd.complete("eof"); } catch (IOException e) { readEnd.complete(e.getClass().getName()); }
            });
            byte[] b = new byte[16384];
            try { for (;;) os.write(b); } catch (IOException e) { writeEnd.complete(e.getClass().getName()); throw e; }
        });
        s.start();
        java.net.Socket raw = new java.net.Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort());
        try (raw; SSLSocket c = (SSLSocket) clientContext.getSocketFactory().createSocket(raw, "127.0.0.1", s.getAddress().getPort(), true)) {
            c.setEnabledProtocols(new String[] {protocol});
            c.setSoTimeout(20_000);
            c.startHandshake();
            CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    out.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    byte[] chunk = ("4000\r\n" + "a".repeat(0x4000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                    for (;;) out.write(chunk);
                } catch (IOException e) { /* stopped */ }
            }, THREADS);
            CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                long n = 0;
                try { byte[] b = new byte[65536]; for (int k; (k = c.getInputStream().read(b)) >= 0; ) n += k; } catch (IOException e) { /* stopped */ }
                return n;
            }, THREADS);
            Thread.sleep(1500);
            long t0 = System.nanoTime();
            s.stop(0);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "stop(0) took " + ms + " ms");
            assertTrue(read.get(20, TimeUnit.SECONDS) > 1_000_000, "the response streamed before the stop");
            assertTrue(readEnd.get(10, TimeUnit.SECONDS).contains("Exception"), readEnd.get());
            assertTrue(writeEnd.get(10, TimeUnit.SECONDS).contains("Exception"), writeEnd.get());
        }
    }
}
