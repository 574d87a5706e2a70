package dev.bobbin.uring.driver;

import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.unix.Errors;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Netty's native errors become the exception types the JDK's sockets throw for the same errno. */
class IoErrorsTest {
    /**
     * Netty's {@code Errors} reads errno values from the native transport library when its class
     * initializes; without the library loaded first it fails for good in this JVM, and every later native
     * socket test with it. Epoll's check loads the library (the machine has it: io_uring and epoll tests
     * must run here, not skip).
     */
    @org.junit.jupiter.api.BeforeAll
    static void loadTheNativeTransport() {
        io.netty.channel.epoll.Epoll.ensureAvailability();
    }

    private static IOException translated(int errno, String op) {
        Errors.NativeIoException n = new Errors.NativeIoException(op, -errno);
        IOException e = IoErrors.translate(n, op);
        if (e != n) assertSame(n, e.getCause(), "the native error is kept as the cause");
        return e;
    }

    @Test
    void aConnectionTheKernelGaveUpOnIsDeadNotATimeoutToRetry() {
        IOException read = translated(110, "read");                  // ETIMEDOUT
        assertInstanceOf(SocketException.class, read);
        assertFalse(read instanceof SocketTimeoutException, "a retry loop on SocketTimeoutException would spin: " + read);
        assertTrue(read.getMessage().startsWith("Connection timed out"), read.getMessage());
        IOException connect = translated(110, "connect");
        assertInstanceOf(ConnectException.class, connect);
        assertTrue(connect.getMessage().startsWith("Connection timed out"), connect.getMessage());
    }

    @Test
    void theOtherErrnosMapAsTheJdksSocketsReportThem() {
        assertTrue(translated(104, "read").getMessage().startsWith("Connection reset"));   // ECONNRESET
        assertInstanceOf(SocketException.class, translated(104, "read"));
        assertInstanceOf(SocketException.class, translated(32, "write"));                 // EPIPE
        assertInstanceOf(BindException.class, translated(98, "bind"));                     // EADDRINUSE
        assertInstanceOf(ConnectException.class, translated(111, "connect"));              // ECONNREFUSED
    }

    @Test
    void theMessagesAreTheJdksWithNettysTextInTheCause() {
        IOException bind = translated(98, "bind");
        assertEquals("Address already in use", bind.getMessage(), "not repeated with Netty's text");
        assertNotNull(bind.getCause(), "Netty's exception, with the system call's text, is the cause");
        assertEquals("Connection reset", translated(104, "read").getMessage());
        assertEquals("Broken pipe", translated(32, "write").getMessage());
        assertEquals("Connection refused", translated(111, "connect").getMessage());
    }

    @Test
    void nioChannelsPlainIOExceptionsForAResetBecomeSocketExceptions() {
        for (String m : new String[] {"Broken pipe", "Connection reset by peer"}) {
            IOException plain = new IOException(m);
            IOException e = IoErrors.translate(plain, "write");
            assertInstanceOf(SocketException.class, e, m);
            assertSame(plain, e.getCause());
        }
        IOException timedOut = new IOException("Connection timed out");   // NIO's read after ETIMEDOUT
        assertInstanceOf(SocketException.class, IoErrors.translate(timedOut, "read"));
        IOException other = new IOException("something else");
        assertSame(other, IoErrors.translate(other, "accept"), "only reads and writes are socket errors");
    }

    @Test
    void anUnreachableNetworkIsReportedWithTheOsText() {
        java.net.NoRouteToHostException bare = new java.net.NoRouteToHostException();   // as Netty's native connect makes it
        IOException e = IoErrors.translate(bare, "connect");
        assertInstanceOf(java.net.NoRouteToHostException.class, e);
        assertEquals("Network is unreachable", e.getMessage());
        assertSame(bare, e.getCause());
    }

    @Test
    void everyFailureToBindIsABindException() {
        assertInstanceOf(BindException.class, translated(99, "bind"));                     // EADDRNOTAVAIL
        IOException other = new IOException("something else");
        IOException e = IoErrors.translate(other, "bind");
        assertInstanceOf(BindException.class, e, "as java.net reports any failed bind");
        assertSame(other, e.getCause());
    }

    @Test
    void onlyBobbinsOwnTimersAreSocketTimeouts() {
        IOException e = IoErrors.translate(new ConnectTimeoutException("connection timed out after 100 ms"), "connect");
        assertInstanceOf(SocketTimeoutException.class, e);
        assertEquals(ConnectTimeoutException.class, e.getCause().getClass());
    }
}
