package dev.bobbin.http;

import com.sun.net.httpserver.HttpsConfigurator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import java.io.EOFException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A client that sends its request and its close_notify in one segment still gets the response: under TLS
 * 1.2 the engine closes its sending side as it takes a close_notify, so the server must not decrypt it
 * ahead, behind the request, before the response is out.
 */
@Timeout(60)
class TlsCloseNotifyBehindRequestTest {
    static SSLContext serverCtx, clientCtx;
    static BobbinHttpsServer server;

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        TestCertificate cert = TestCertificate.create(tmp);
        serverCtx = cert.server();
        clientCtx = cert.client();
        server = BobbinHttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverCtx));
        server.createContext("/a", x -> {
            byte[] body = ("hello " + new String(x.getRequestBody().readAllBytes(), StandardCharsets.US_ASCII))
                    .getBytes(StandardCharsets.US_ASCII);
            x.sendResponseHeaders(200, body.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
    }

    @AfterAll
    static void tearDown() {
        if (server != null) server.stop(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void aRequestFollowedByCloseNotifyInOneSegmentGetsItsResponse(String protocol) throws Exception {
        SSLEngine e = clientCtx.createSSLEngine("localhost", server.getAddress().getPort());
        e.setUseClientMode(true);
        e.setEnabledProtocols(new String[]{protocol});
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
            socket.setSoTimeout(10_000);                                  // the hang guard
            ReadableByteChannel in = Channels.newChannel(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            ByteBuffer netIn = ByteBuffer.allocate(1 << 17);
            ByteBuffer app = ByteBuffer.allocate(1 << 17);
            handshake(e, in, out, netIn, app);
            ByteBuffer both = ByteBuffer.allocate(1 << 16);
            e.wrap(ByteBuffer.wrap("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz".getBytes(StandardCharsets.US_ASCII)), both);
            e.closeOutbound();
            e.wrap(ByteBuffer.allocate(0), both);                         // the close_notify, behind the request
            out.write(both.array(), 0, both.position());                  // in one write
            out.flush();
            StringBuilder got = new StringBuilder();
            for (;;) {                                                    // to the server's close_notify or the end
                SSLEngineResult r = unwrap(e, netIn, app);
                got.append(StandardCharsets.US_ASCII.decode(app.flip()));
                app.clear();
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) break;
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || r.bytesConsumed() == 0) {
                    try {
                        if (in.read(netIn) < 0) break;
                    } catch (SocketTimeoutException t) {
                        fail(protocol + ": no response and no close in 10 s, got: " + got);
                    }
                }
            }
            String response = got.toString();
            assertTrue(response.startsWith("HTTP/1.1 200 "), protocol + ": " + response);
            assertTrue(response.endsWith("\r\n\r\nhello xyz"), protocol + ": " + response);
        }
    }

    private static void handshake(SSLEngine e, ReadableByteChannel in, OutputStream out, ByteBuffer netIn, ByteBuffer app)
            throws Exception {
        e.beginHandshake();
        for (;;) {
            switch (e.getHandshakeStatus()) {
                case NEED_TASK -> {
                    for (Runnable t; (t = e.getDelegatedTask()) != null; ) t.run();
                }
                case NEED_WRAP -> {
                    ByteBuffer o = ByteBuffer.allocate(1 << 16);
                    e.wrap(ByteBuffer.allocate(0), o);
                    out.write(o.array(), 0, o.position());
                    out.flush();
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    SSLEngineResult r = unwrap(e, netIn, app);
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && in.read(netIn) < 0) {
                        throw new EOFException("the server closed during the handshake");
                    }
                }
                default -> {
                    return;
                }
            }
        }
    }

    /** Unwraps what {@code netIn} (in write mode) holds into {@code app}, keeping the rest in {@code netIn}. */
    private static SSLEngineResult unwrap(SSLEngine e, ByteBuffer netIn, ByteBuffer app) throws Exception {
        netIn.flip();
        try {
            return e.unwrap(netIn, app);
        } finally {
            netIn.compact();
        }
    }
}
