package dev.bobbin.http;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link TlsWire#close()} is what the sweeper and {@code stop()} call on one connection after the other,
 * so it must not wait for a peer that reads nothing: when the wrap lock is free (the handler is between
 * two writes, as a streaming handler is) and the socket's writes in flight are near its high-water mark,
 * close_notify is queued behind them without waiting, and the socket closed (its drain limit then applies).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsCloseUnderBackpressureTest {
    static SSLContext serverCtx, clientCtx;
    static FiberIo io;
    static FiberScheduler s;

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        TestCertificate cert = TestCertificate.create(tmp);
        serverCtx = cert.server();
        clientCtx = cert.client();
        io = FiberIo.system();
        s = io.newScheduler("tls-close-bp", 2);
    }

    @AfterAll
    static void tearDown() {
        if (s != null) s.close();
    }

    static <T> CompletableFuture<T> fiber(java.util.concurrent.Callable<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        s.start(() -> {
            try {
                f.complete(body.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    @Test
    void closeBetweenWritesToAPeerThatDoesNotReadDoesNotWait() throws Exception {
        FiberServerSocket ss = fiber(() -> io.openServer().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16)).get(10, TimeUnit.SECONDS);
        java.lang.reflect.Field socketField = TlsWire.class.getDeclaredField("socket");
        socketField.setAccessible(true);
        java.lang.reflect.Field inFlightField = FiberSocket.class.getDeclaredField("inFlight");
        inFlightField.setAccessible(true);
        CompletableFuture<TlsWire> between = new CompletableFuture<>();
        CompletableFuture<Void> served = fiber(() -> {
            try (ss) {
                FiberSocket sock = ss.accept();
                SSLEngine e = serverCtx.createSSLEngine();
                e.setUseClientMode(false);
                TlsWire w = new TlsWire(sock, e);
                w.receive().release();                       // the handshake, and the client's "go"
                Object socket = socketField.get(w);          // its inFlight: the bytes handed to its loop, not yet written
                // a streaming handler: small records (24 bytes each in TLS 1.3) to a client that reads none;
                // once the kernel's buffers are full they pile up in flight; stop between two writes, as a
                // handler waiting for its next event does, with the writes in flight near the high-water mark
                for (;;) {
                    while (inFlightField.getLong(socket) <= 64 * 1024 - 24) {
                        w.write(Unpooled.wrappedBuffer(new byte[] {'e', '\n'}));
                    }
                    long seen = inFlightField.getLong(socket);
                    Thread.sleep(1000);
                    if (inFlightField.getLong(socket) == seen) break;   // the kernel's buffers are full: nothing drains
                }
                between.complete(w);
            }
            return null;
        });
        Socket raw = new Socket();
        raw.setReceiveBufferSize(4096);
        raw.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), ss.localAddress().getPort()));
        try (SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(raw, "localhost", raw.getPort(), true)) {
            c.setEnabledProtocols(new String[] {"TLSv1.3"});
            c.getOutputStream().write('g');
            c.getOutputStream().flush();                     // then read nothing
            CompletableFuture.anyOf(between, served).get(40, TimeUnit.SECONDS);   // a failed server fiber ends the wait
            TlsWire w = between.join();
            long t0 = System.nanoTime();
            w.close();                                       // as the sweeper or stop() does
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 300, "close() waited " + ms + " ms for a peer that does not read");
        }
        served.get(10, TimeUnit.SECONDS);
    }
}
