package dev.bobbin.uring.driver;

import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.unix.Errors;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.util.regex.Pattern;

/**
 * Turns Netty's failures into the exceptions the JDK throws for the same condition, keeping the OS's
 * error text in the message and the original as the cause. {@link SocketTimeoutException} is only for
 * Bobbin's own timers (a read timeout, Netty's connect timeout), after which the socket stays usable.
 */
public final class IoErrors {
    private IoErrors() { }

    // Linux errno values (negated by Netty's native layer)
    private static final int EPIPE = 32, EADDRINUSE = 98, ECONNRESET = 104, ETIMEDOUT = 110, ECONNREFUSED = 111;
    /** Netty's prefix of a native failure's text: "bind(..) failed with error(-99): ". */
    private static final Pattern NETTY_PREFIX = Pattern.compile("^.*failed with error\\(-?\\d+\\): ");

    /** The JDK-style exception for a failure of operation {@code op} ("read", "connect", ...). */
    public static IOException translate(Throwable t, String op) {
        if (op.equals("bind")) {                       // as java.net: every failure to bind is a BindException
            IOException e = translateOther(t, op);
            if (e instanceof BindException) return e;
            // the OS's text alone, as the JDK's ("Cannot assign requested address"); Netty's stays in the cause
            BindException b = new BindException(e instanceof Errors.NativeIoException n ? osText(n.getMessage()) : e.getMessage());
            b.initCause(t);
            return b;
        }
        return translateOther(t, op);
    }

    /** The OS's error text of a Netty native failure's message, without Netty's prefix; null stays null. */
    private static String osText(String m) {
        return m == null ? null : NETTY_PREFIX.matcher(m).replaceFirst("");
    }

    private static IOException translateOther(Throwable t, String op) {
        // a failed write shuts the output down (auto-close is off: FiberSocket) and fails the writes with
        // Netty's wrapper of the write's own failure, which is what the caller is told
        if (t instanceof io.netty.channel.socket.ChannelOutputShutdownException s && s.getCause() != null && s.getCause() != s) {
            return translateOther(s.getCause(), op);
        }
        if (t instanceof ConnectTimeoutException) {
            SocketTimeoutException e = new SocketTimeoutException("Connect timed out (" + t.getMessage() + ")");
            e.initCause(t);
            return e;
        }
        if (t instanceof Errors.NativeIoException n) {
            int errno = Math.abs(n.expectedErr());
            // the JDK's messages; Netty's text ("bind(..) failed with error(-98): ...") stays in the cause
            IOException e = switch (errno) {
                case ECONNRESET -> new SocketException("Connection reset");
                case EPIPE -> new SocketException("Broken pipe");
                case EADDRINUSE -> new BindException("Address already in use");
                case ECONNREFUSED -> new ConnectException("Connection refused");
                // the kernel gave up on the peer (retransmissions, keepalive, TCP_USER_TIMEOUT): the
                // connection is dead, which the JDK reports as a SocketException, not a retryable timeout
                case ETIMEDOUT -> op.equals("connect") ? new ConnectException("Connection timed out")
                                                       : new SocketException("Connection timed out");
                default -> null;
            };
            if (e != null) {
                e.initCause(t);
                return e;
            }
            return n;
        }
        if (t instanceof NoRouteToHostException n && n.getMessage() == null) {
            // Netty's native connect reports ENETUNREACH without text; the JDK gives the OS's
            return wrap(new NoRouteToHostException("Network is unreachable"), n);
        }
        if (t instanceof ConnectException c) {
            // Netty's connect failures carry its own text ("finishConnect(..) failed with error(-111): Connection
            // refused: /127.0.0.1:80"), wrapped for the address; the JDK's is the OS's alone ("Connection refused")
            Throwable root = c;
            for (Throwable x = c.getCause(); x instanceof ConnectException && x != root; x = x.getCause()) root = x;
            String m = osText(root.getMessage());
            if (c.getClass() == ConnectException.class && java.util.Objects.equals(m, c.getMessage())) return c;
            return wrap(new ConnectException(m), c);
        }
        if (t instanceof BindException || t instanceof ClosedChannelException) {
            return (IOException) t;
        }
        if (t instanceof IOException io) {
            if (io instanceof SocketException) return io;
            String m = String.valueOf(io.getMessage());
            if (m.contains("Address already in use")) return wrap(new BindException(m), io);
            if (m.contains("Connection refused")) return wrap(new ConnectException(m), io);
            // NIO's channels report a failed read or write (a reset, a broken pipe, the kernel giving up on
            // the peer) as a plain IOException; java.net.Socket reports a SocketException
            if (io.getClass() == IOException.class && (op.equals("read") || op.equals("write")
                    || m.contains("Broken pipe") || m.contains("Connection reset"))) {
                return wrap(new SocketException(m), io);
            }
            return io;
        }
        return new IOException(op + " failed: " + t, t);
    }

    private static final int ENOMEM = 12, ENFILE = 23, EMFILE = 24, ENOBUFS = 105;

    /**
     * Whether {@code t} says the process or the system ran out of descriptors or buffers (EMFILE, ENFILE,
     * ENOBUFS, ENOMEM): a condition that passes, so a server backs off instead of failing.
     */
    public static boolean isResourceExhaustion(Throwable t) {
        if (t instanceof Errors.NativeIoException n) {
            int errno = Math.abs(n.expectedErr());
            return errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
        }
        if (!(t instanceof IOException)) return false;
        String m = String.valueOf(t.getMessage());             // NIO: the JDK's text for the same errors
        return m.contains("Too many open files") || m.contains("No buffer space") || m.contains("Cannot allocate memory");
    }

    /**
     * A socket Netty could not create, for want of a descriptor (EMFILE, ENFILE, ENOBUFS): the
     * {@link SocketException} the JDK's {@code Socket.connect} and {@code SocketChannel.open} report, which
     * callers handling I/O errors catch, with the OS's text and {@code e} as the cause.
     */
    public static SocketException socketNotCreated(io.netty.channel.ChannelException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        SocketException se = new SocketException(String.valueOf(cause.getMessage()));
        se.initCause(e);
        return se;
    }

    /**
     * The exception to throw in the thread that waited for a failed operation: {@code e} was made on the
     * event loop, so its stack trace names only the loop's frames. For the JDK's socket exception types a
     * fresh one is made here, with the same message and {@code e} as its cause, so that the trace shows
     * the caller, as the JDK's sockets' (and its {@code HttpClient.send}'s) do; Netty's subclasses (its
     * stackless {@code AnnotatedConnectException}) become the JDK's type. Other exceptions are returned as
     * they are.
     */
    public static IOException inCaller(IOException e) {
        IOException c;
        if (e instanceof BindException) c = new BindException(e.getMessage());
        else if (e instanceof ConnectException) c = new ConnectException(e.getMessage());
        else if (e instanceof NoRouteToHostException) c = new NoRouteToHostException(e.getMessage());
        else if (e.getClass() == SocketException.class) c = new SocketException(e.getMessage());
        else if (e.getClass() == SocketTimeoutException.class) c = new SocketTimeoutException(e.getMessage());
        else return e;
        return wrap(c, e);
    }

    private static IOException wrap(IOException e, Throwable cause) {
        e.initCause(cause);
        return e;
    }
}
