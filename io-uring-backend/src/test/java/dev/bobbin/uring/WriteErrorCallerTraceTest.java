package dev.bobbin.uring;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A write that fails because the peer reset the connection throws an exception whose stack trace shows
 * the write's caller, as the JDK's sockets' do (the control) and as Bobbin's failed connects, binds and
 * reads do (CallerStackTraceTest); and each failing call gets its own exception.
 */
class WriteErrorCallerTraceTest {
    static { LeakGuard.install(); }

    private static boolean namesThisTest(Throwable t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().startsWith(WriteErrorCallerTraceTest.class.getName()));
    }

    private static String trace(Throwable t) {
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    interface Write { void write() throws IOException; }

    private static IOException writeUntilFailure(Write w) {
        for (int i = 0; i < 200; i++) {
            try {
                w.write();
                Thread.sleep(5);
            } catch (IOException e) {
                return e;
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        return fail("writes to a reset connection kept succeeding");
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aWriteToAResetConnectionNamesItsCaller(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            try (Socket jdk = new Socket()) {                       // the control
                jdk.connect(server.getLocalSocketAddress(), 5000);
                Socket p = server.accept();
                p.setSoLinger(true, 0);
                p.close();
                IOException e = writeUntilFailure(() -> jdk.getOutputStream().write(new byte[100]));
                assertInstanceOf(SocketException.class, e);
                assertTrue(namesThisTest(e), "control: " + trace(e));
            }
            try (FiberSocket s = FiberIo.of(transport).connect(server.getLocalSocketAddress(), Duration.ofSeconds(5))) {
                Socket p = server.accept();
                p.setSoLinger(true, 0);
                p.close();
                IOException first = writeUntilFailure(() -> { s.write(ByteBuffer.allocate(100)); s.flush(); });
                assertInstanceOf(SocketException.class, first);
                assertTrue(namesThisTest(first), trace(first));
                IOException second = assertThrows(IOException.class, () -> s.write(ByteBuffer.allocate(100)));
                assertNotSame(first, second, "each failed write throws its own exception");
                assertTrue(namesThisTest(second), trace(second));
            }
        }
    }
}
