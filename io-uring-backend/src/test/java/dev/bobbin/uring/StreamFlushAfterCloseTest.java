package dev.bobbin.uring;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * JDK control: a socket's output stream flush does nothing, also once the socket is closed, whatever
 * happened to an earlier write (here: the peer reset the connection).
 */
class StreamFlushAfterCloseTest {
    static { LeakGuard.install(); }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    enum Kind { JDK, IO_URING, EPOLL, NIO }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void flushOfTheStreamAfterCloseDoesNothingAfterAFailedWrite(Kind kind) throws Exception {
        if (kind != Kind.JDK) TransportSelectionTest.assumeOrRequire(IoTransport.valueOf(kind.name()));
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            InetSocketAddress addr = new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            Socket jdk = null;
            FiberSocket fiber = null;
            OutputStream out;
            if (kind == Kind.JDK) {
                jdk = new Socket(addr.getAddress(), addr.getPort());
                out = jdk.getOutputStream();
            } else {
                fiber = FiberIo.of(IoTransport.valueOf(kind.name())).connect(addr, Duration.ofSeconds(5));
                out = fiber.outputStream();
            }
            try (Socket p = listener.accept()) {
                p.setSoLinger(true, 0);                   // the peer resets the connection
            }
            byte[] chunk = new byte[8192];
            IOException failed = null;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (failed == null && System.nanoTime() < deadline) {
                try {
                    out.write(chunk);
                    out.flush();
                    Thread.sleep(5);
                } catch (IOException e) {
                    failed = e;
                }
            }
            assertNotNull(failed, kind + ": a write after the peer's reset fails");
            if (jdk != null) jdk.close();
            else fiber.close();
            assertDoesNotThrow(out::flush, kind + ": the stream's flush after close");
        }
    }
}
