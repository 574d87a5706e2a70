package dev.bobbin.http;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The byte stream under one HTTP connection: the socket itself ({@link PlainWire}) or TLS over it
 * ({@link TlsWire}). One reader and one writer at a time, as on {@link dev.bobbin.uring.FiberSocket};
 * {@link #close()} may come from any thread (the server's sweeper closes timed-out connections).
 */
interface Wire extends AutoCloseable {
    /** The next received bytes, owned by the caller (who releases them); null at end of stream. */
    ByteBuf receive() throws IOException;

    /** Queues all readable bytes of {@code buf} for sending; takes ownership (releases it) in all cases. */
    void write(ByteBuf buf) throws IOException;

    /** Waits until every byte written so far has reached the kernel. */
    void flush() throws IOException;

    /** Ends the sending direction (the peer reads end of stream) while receiving goes on. */
    void shutdownOutput() throws IOException;

    /** Closes at once (a TLS wire first tries to send close_notify); idempotent, any thread. */
    @Override
    void close();

    InetSocketAddress remoteAddress();

    InetSocketAddress localAddress();

    /** The TLS session, or null on a plain connection. */
    default javax.net.ssl.SSLSession sslSession() {
        return null;
    }
}
