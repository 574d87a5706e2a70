package dev.bobbin.http;

import com.sun.net.httpserver.HttpsConfigurator;
import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.*;
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * TLS fault paths of the HTTPS server and its wire: a client-initiated renegotiation that arrives behind a
 * request, and handshakes that never finish. The client is the JDK's {@code SSLSocket} over a socket whose
 * writes can be held back and sent as one segment ({@link CorkedSocket}), so two records reach the server
 * in one read.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsFaultPathTest {
    static SSLContext serverCtx, clientCtx;
    static FiberIo io;
    static FiberScheduler s;

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        TestCertificate cert = TestCertificate.create(tmp);
        serverCtx = cert.server();
        clientCtx = cert.client();
        io = FiberIo.system();
        s = io.newScheduler("tls-faults", 2);
    }

    @AfterAll
    static void tearDown() { if (s != null) s.close(); }

    static <T> CompletableFuture<T> fiber(Callable<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        s.start(() -> { try { f.complete(body.call()); } catch (Throwable t) { f.completeExceptionally(t); } });
        return f;
    }

    static String text(ByteBuf b) {
        assertNotNull(b);
        try { return b.toString(StandardCharsets.US_ASCII); } finally { b.release(); }
    }

    /**
     * TLS 1.2 client-initiated renegotiation whose ClientHello arrives in one segment with a request: the
     * wire returns the request with the engine in the middle of the new handshake, and the response the
     * connection's fiber then writes must go out (the engine takes data once a first handshake is done),
     * not wait for a reader that only comes after the response.
     */
    @Test
    void renegotiationBehindARequestDoesNotStallTheResponse() throws Exception {
        FiberServerSocket ss = fiber(() -> io.openServer().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16)).get(10, TimeUnit.SECONDS);
        CompletableFuture<String> writeOutcome = new CompletableFuture<>();
        CompletableFuture<Void> done = fiber(() -> {
            try (ss) {
                FiberSocket sock = ss.accept();
                SSLEngine e = serverCtx.createSSLEngine();
                e.setUseClientMode(false);
                try (TlsWire w = new TlsWire(sock, e)) {
                    int got = 0;                                 // a bulk upload first: the socket's receive chunks grow
                    while (got < 200_000) { ByteBuf b = w.receive(); got += b.readableBytes(); b.release(); }
                    w.write(Unpooled.copiedBuffer("A", StandardCharsets.US_ASCII));
                    w.flush();
                    Thread.sleep(500);                           // "handler work": req and ClientHello both arrive
                    assertEquals("req", text(w.receive()));
                    Wire stuck = w;                              // closed below if the write hangs
                    CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS).execute(() -> {
                        if (!writeOutcome.isDone()) {
                            writeOutcome.complete("write still blocked after 5 s; engine " + e.getHandshakeStatus());
                            stuck.close();
                        }
                    });
                    try {
                        w.write(Unpooled.copiedBuffer("resp", StandardCharsets.US_ASCII));
                        w.flush();
                        writeOutcome.complete("ok");
                    } catch (IOException x) {
                        writeOutcome.complete("write failed: " + x);
                    }
                    ByteBuf b;
                    try { while ((b = w.receive()) != null) b.release(); } catch (IOException ignored) { }
                }
            }
            return null;
        });
        CorkedSocket raw = new CorkedSocket(InetAddress.getLoopbackAddress(), ss.localAddress().getPort());
        try (SSLSocket c = corkedClient(raw, ss.localAddress().getPort())) {
            OutputStream out = c.getOutputStream();
            out.write(new byte[200_000]); out.flush();
            assertEquals('A', c.getInputStream().read());
            raw.cork();
            out.write("req".getBytes(StandardCharsets.US_ASCII)); out.flush();
            c.startHandshake();                                  // renegotiation: sends ClientHello, returns
            raw.uncork();                                        // the request record and the ClientHello in one segment
            String got;
            try {
                got = new String(c.getInputStream().readNBytes(4), StandardCharsets.US_ASCII);
            } catch (IOException x) {
                got = x.toString();
            }
            assertEquals("ok", writeOutcome.get(20, TimeUnit.SECONDS), "the server's write");
            assertEquals("resp", got);
        }
        done.get(20, TimeUnit.SECONDS);
    }

    private static BobbinHttpsServer https(HttpServerOptions o) throws IOException {
        BobbinHttpsServer srv = BobbinHttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0, o);
        srv.setHttpsConfigurator(new HttpsConfigurator(serverCtx));
        return srv;
    }

    /** The same through the HTTPS server: the request behind which the renegotiation starts gets its response. */
    @Test
    void httpsRenegotiationBehindARequestGetsItsResponse() throws Exception {
        BobbinHttpsServer srv = https(HttpServerOptions.builder().ioTimeout(Duration.ofSeconds(3)).build());
        srv.createContext("/", x -> {
            x.getRequestBody().readAllBytes();
            byte[] b = "hello".getBytes(StandardCharsets.US_ASCII);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.getResponseBody().flush();
            x.getResponseBody().close();
            if (x.getRequestURI().getPath().equals("/slow")) {
                try { Thread.sleep(700); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            }
        });
        srv.start();
        CorkedSocket raw = new CorkedSocket(InetAddress.getLoopbackAddress(), srv.getAddress().getPort());
        try (SSLSocket c = corkedClient(raw, srv.getAddress().getPort())) {
            OutputStream out = c.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.ISO_8859_1));
            out.write("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.write(new byte[200_000]); out.flush();           // a bulk upload first: the socket's receive chunks grow
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            char[] rest = new char[512];
            Thread.sleep(100);
            in.read(rest);                                       // headers + "hello" (small, one record)
            raw.cork();
            out.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)); out.flush();
            c.startHandshake();
            raw.uncork();
            long t0 = System.nanoTime();
            String line;
            try { line = in.readLine(); } catch (IOException x) { line = x.toString(); }
            assertEquals("HTTP/1.1 200 OK", line, "after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } finally {
            srv.stop(0);
        }
    }

    /** Clients that start a handshake and never finish it, or never start one, are closed at the idle timeout. */
    @Test
    void unfinishedHandshakesAreClosedAtTheIdleTimeout() throws Exception {
        BobbinHttpsServer srv = https(HttpServerOptions.builder().idleTimeout(Duration.ofSeconds(1)).headerReadTimeout(Duration.ofSeconds(1)).build());
        srv.start();
        try (Socket a = new Socket(InetAddress.getLoopbackAddress(), srv.getAddress().getPort());
             Socket b = new Socket(InetAddress.getLoopbackAddress(), srv.getAddress().getPort())) {
            a.setSoTimeout(10_000);
            b.setSoTimeout(10_000);
            a.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03});
            a.getOutputStream().flush();
            for (Socket x : List.of(a, b)) {               // a read timeout here fails the test
                try { while (x.getInputStream().read() >= 0) { } } catch (SocketException reset) { }
            }
            long deadline = System.nanoTime() + 10_000_000_000L;   // a bound for a loaded machine
            while (srv.activeConnections() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(0, srv.activeConnections());
        } finally {
            srv.stop(0);
        }
    }

    /**
     * Until a request's first byte arrives, HTTPS bounds the wait as a plain connection does: by the idle
     * timeout from the start of the wait, and nothing the client sends that carries no request byte moves
     * that deadline (on TLS: the handshake, records not yet whole, empty records; on a plain connection:
     * empty lines). The header-read timeout then bounds the head from its first byte. Here the header-read
     * timeout is an hour, so only the idle timeout can close these connections within the hang guard (a read
     * timeout); each case is run on a plain connection too where it has one.
     */
    private static HttpServerOptions idleOnly() {
        return HttpServerOptions.builder().idleTimeout(Duration.ofSeconds(1)).headerReadTimeout(Duration.ofHours(1)).build();
    }

    @Test
    void aClientSilentAfterItsHandshakeIsClosedAtTheIdleTimeoutAsAPlainOneIs() throws Exception {
        BobbinHttpsServer srv = https(idleOnly());
        BobbinHttpServer plain = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0, idleOnly());
        srv.start();
        plain.start();
        try (SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                srv.getAddress().getPort());
             Socket p = new Socket(InetAddress.getLoopbackAddress(), plain.getAddress().getPort())) {
            c.setSoTimeout(10_000);
            c.startHandshake();
            assertClosedByServer(c.getInputStream());
            p.setSoTimeout(10_000);
            assertClosedByServer(p.getInputStream());
        } finally {
            srv.stop(0);
            plain.stop(0);
        }
    }

    @Test
    void aHandshakeDribbledByteByByteIsClosedAtTheIdleTimeout() throws Exception {
        BobbinHttpsServer srv = https(idleOnly());
        srv.start();
        SSLEngine client = clientCtx.createSSLEngine("localhost", srv.getAddress().getPort());
        client.setUseClientMode(true);
        java.nio.ByteBuffer hello = java.nio.ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(java.nio.ByteBuffer.allocate(0), hello);
        byte[] clientHello = java.util.Arrays.copyOf(hello.array(), hello.position());
        assertTrue(clientHello.length > 200, "a ClientHello of " + clientHello.length + " bytes");
        try (Socket a = new Socket(InetAddress.getLoopbackAddress(), srv.getAddress().getPort())) {
            a.setSoTimeout(10_000);
            Thread dribbler = dribble(a.getOutputStream(), clientHello);   // about 20 s: longer than the hang guard
            try {
                assertClosedByServer(a.getInputStream());
            } finally {
                dribbler.interrupt();
                dribbler.join();
            }
        } finally {
            srv.stop(0);
        }
    }

    @Test
    void aRecordDribbledAfterTheHandshakeIsClosedAtTheIdleTimeout() throws Exception {
        BobbinHttpsServer srv = https(idleOnly());
        srv.start();
        CorkedSocket raw = new CorkedSocket(InetAddress.getLoopbackAddress(), srv.getAddress().getPort());
        try (SSLSocket c = corkedClient(raw, srv.getAddress().getPort())) {
            c.setSoTimeout(10_000);
            c.startHandshake();
            raw.cork();
            // a head that even whole would still wait for its end: only the idle timeout can close the connection
            c.getOutputStream().write(("GET / HTTP/1.1\r\nX-Pad: " + "a".repeat(200)).getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            byte[] record = raw.takeHeld();
            assertTrue(record.length > 200, "a record of " + record.length + " bytes");
            raw.setSoTimeout(10_000);
            Thread dribbler = dribble(raw.uncorkedOutput(), record);    // about 12 s: longer than the hang guard
            try {
                assertClosedByServer(raw.getInputStream());          // the record's bytes are read from the socket itself
            } finally {
                dribbler.interrupt();
                dribbler.join();
            }
        } finally {
            srv.stop(0);
        }
    }

    /** Once a request's first decrypted byte has arrived, the header-read timeout bounds the head: 408, then close. */
    @Test
    void aHeadStartedOverTlsIsTimedOutWith408AtTheHeaderReadTimeout() throws Exception {
        BobbinHttpsServer srv = https(HttpServerOptions.builder().idleTimeout(Duration.ofHours(1))
                .headerReadTimeout(Duration.ofSeconds(1)).build());
        srv.start();
        try (SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                srv.getAddress().getPort())) {
            c.setSoTimeout(10_000);                                   // the hang guard
            c.getOutputStream().write("GET / HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            String response = new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(response.startsWith("HTTP/1.1 408 "), response);
        } finally {
            srv.stop(0);
        }
    }

    /** Writes {@code bytes} one at a time, 50 ms apart, on a thread of its own, until done, interrupted or failing. */
    private static Thread dribble(OutputStream out, byte[] bytes) {
        return Thread.ofPlatform().name("tls-dribbler").start(() -> {
            try {
                for (byte b : bytes) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // the server closed the connection, or the test is done
            }
        });
    }

    /** Reads until the server's end of stream or a reset; a read timeout (the hang guard) fails. */
    private static void assertClosedByServer(InputStream in) {
        try {
            while (in.read() >= 0) { }
        } catch (SocketTimeoutException e) {
            fail("the server did not close the connection within the read timeout");
        } catch (IOException closed) {
            // a reset, or a TLS alert: the server closed the connection
        }
    }

    /** A plain socket whose output can be corked: while corked, writes (and flushes) collect, uncork sends them in one write. */
    static final class CorkedSocket extends Socket {
        volatile boolean corked;
        final ByteArrayOutputStream held = new ByteArrayOutputStream();
        private OutputStream out;
        CorkedSocket(InetAddress a, int port) throws IOException { super(a, port); setTcpNoDelay(true); }
        @Override public synchronized OutputStream getOutputStream() throws IOException {
            if (out == null) {
                OutputStream raw = super.getOutputStream();
                out = new OutputStream() {
                    @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }
                    @Override public void write(byte[] b, int off, int len) throws IOException {
                        synchronized (held) { if (corked) { held.write(b, off, len); return; } }
                        raw.write(b, off, len);
                    }
                    @Override public void flush() throws IOException { if (!corked) raw.flush(); }
                };
            }
            return out;
        }
        void cork() { corked = true; }
        /** The bytes held while corked, which stay corked; they are no longer held. */
        byte[] takeHeld() {
            synchronized (held) { byte[] b = held.toByteArray(); held.reset(); return b; }
        }
        /** The socket's own output, past the cork. */
        OutputStream uncorkedOutput() throws IOException { return super.getOutputStream(); }
        void uncork() throws IOException {
            byte[] b;
            synchronized (held) { corked = false; b = held.toByteArray(); held.reset(); }
            super.getOutputStream().write(b);
        }
    }

    static SSLSocket corkedClient(CorkedSocket raw, int port) throws IOException {
        SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(raw, "localhost", port, true);
        c.setEnabledProtocols(new String[] {"TLSv1.2"});
        c.setSoTimeout(8000);
        return c;
    }
}
