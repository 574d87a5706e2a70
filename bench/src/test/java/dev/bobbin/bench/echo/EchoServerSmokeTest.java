package dev.bobbin.bench.echo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Echoes through every server kind in-process, so the benchmark's servers cannot silently rot. */
class EchoServerSmokeTest {
    @ParameterizedTest
    @EnumSource(ServerKind.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void echoesEveryByteOnEveryConnection(ServerKind kind) throws Exception {
        assertTrue(kind.isAvailable(), () -> kind.id() + " must run on this machine: " + kind.unavailableReason().orElse(""));
        EchoServer server = kind.start(ServerOptions.defaults().withThreads(2));
        assertTrue(server.port() > 0, "bound port");
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
                s.setSoTimeout(10_000);
                sockets.add(s);
            }
            Random random = new Random(42);
            for (int round = 0; round < 20; round++) {
                for (Socket s : sockets) {
                    byte[] message = new byte[64];
                    random.nextBytes(message);
                    s.getOutputStream().write(message);
                    assertArrayEquals(message, readFully(s.getInputStream(), 64), kind.id() + " round " + round);
                }
            }
            // Larger than the socket buffers on both sides: written by another thread while this one reads.
            byte[] big = new byte[1 << 20];
            random.nextBytes(big);
            Socket s = sockets.getFirst();
            OutputStream out = s.getOutputStream();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(big);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, r -> Thread.ofVirtual().name("smoke-writer").start(r));
            assertArrayEquals(big, readFully(s.getInputStream(), big.length), kind.id() + " 1 MiB echo");
            writer.get(10, TimeUnit.SECONDS);

            // Closing the server closes its connections: each client sees end of stream or a reset.
            server.close();
            for (Socket c : sockets) assertClosedByPeer(c, kind);
        } finally {
            server.close();   // idempotent
            for (Socket c : sockets) c.close();
        }
    }

    @Test
    void unknownKindNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServerKind.of("nope"));
        assertTrue(e.getMessage().contains("jdk-vthread") && e.getMessage().contains("netty-uring"), e.getMessage());
        assertThrows(NullPointerException.class, () -> ServerKind.of(null));
        assertEquals(ServerKind.NETTY_URING, ServerKind.of("netty-uring"));
        assertThrows(IllegalArgumentException.class, () -> new ServerOptions(70_000, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ServerOptions(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new ServerOptions(0, 1, 0));
    }

    static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int r = in.read(b, got, n - got);
            if (r < 0) fail("end of stream after " + got + " of " + n + " bytes");
            got += r;
        }
        return b;
    }

    private static void assertClosedByPeer(Socket s, ServerKind kind) throws IOException {
        try {
            int r = s.getInputStream().read();
            assertEquals(-1, r, kind.id() + ": unexpected byte after the server closed");
        } catch (SocketException e) {
            assertFalse(e.getMessage().contains("timed out"), kind.id() + ": " + e);   // a reset is fine too
        }
    }
}
