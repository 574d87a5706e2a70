package dev.bobbin.http;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The response body stream of one exchange. Before {@code sendResponseHeaders} it refuses writes; after
 * it, it frames what the handler writes as the headers said: exactly {@code n} bytes, chunked, or (an
 * HTTP/1.0 client with length 0) until the connection closes. Bytes go into the connection's send
 * buffer; chunks are coalesced there (see {@link Connection#chunkData}), so many small writes make one
 * chunk and one socket write. {@link #flush()} sends what is buffered. {@link #close()} completes the
 * exchange; closing a fixed-length body before all its bytes were written fails and closes the connection.
 */
final class ResponseBody extends OutputStream {
    enum Mode { NOT_SENT, FIXED, CHUNKED, UNTIL_CLOSE }

    private final Connection conn;
    private final Exchange exchange;
    private Mode mode = Mode.NOT_SENT;
    private long remaining;
    private boolean closed;

    ResponseBody(Connection conn, Exchange exchange) {
        this.conn = conn;
        this.exchange = exchange;
    }

    void start(Mode mode, long length) {
        this.mode = mode;
        this.remaining = length;
    }

    Mode mode() {
        return mode;
    }

    /** Whether a fixed-length body has had all its bytes. */
    boolean fixedComplete() {
        return mode == Mode.FIXED && remaining == 0;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        // as the JDK's placeholder stream: no write before the headers, not even of no bytes
        if (mode == Mode.NOT_SENT) throw new IOException("response headers not sent yet");
        if (len == 0) return;                        // as the JDK's streams: even when closed
        conn.lockOutbound();
        try {
            writeLocked(b, off, len);
        } finally {
            conn.unlockOutbound();
        }
    }

    private void writeLocked(byte[] b, int off, int len) throws IOException {
        if (closed) throw new IOException("stream is closed");
        switch (mode) {
            case NOT_SENT -> throw new IOException("response headers not sent yet");
            case FIXED -> {
                if (len > remaining) throw new IOException("too many bytes to write to stream");
                conn.bodyData(b, off, len);
                remaining -= len;
            }
            case CHUNKED -> conn.chunkData(b, off, len);
            case UNTIL_CLOSE -> conn.bodyData(b, off, len);
        }
    }

    @Override
    public void flush() throws IOException {
        if (mode == Mode.NOT_SENT) throw new IOException("response headers not sent yet");
        if (closed) {
            // as the JDK's streams: its chunked stream refuses a flush after close, the others pass it through
            if (mode == Mode.CHUNKED) throw new IOException("stream is closed");
            return;
        }
        conn.lockOutbound();
        try {
            conn.sendBuffered(mode == Mode.CHUNKED);
        } finally {
            conn.unlockOutbound();
        }
    }

    /** Ends the body; as the API says, this also closes the request body. */
    @Override
    public void close() throws IOException {
        // a close before the headers fails and changes nothing, as the JDK's placeholder stream's does
        if (mode == Mode.NOT_SENT) throw new IOException("response headers not sent yet");
        exchange.requestBody().close();
        end();
    }

    private void end() throws IOException {
        if (closed) return;
        if (mode == Mode.NOT_SENT) throw new IOException("response headers not sent yet");
        closed = true;
        if (mode == Mode.FIXED && remaining > 0) {
            exchange.finish(false);
            throw new IOException("insufficient bytes written to stream");
        }
        if (mode == Mode.CHUNKED) {
            try {
                conn.lockOutbound();
            } catch (IOException e) {
                exchange.finish(false);
                throw e;
            }
            try {
                conn.lastChunk();
            } finally {
                conn.unlockOutbound();
            }
        }
        exchange.finish(true);
    }

    /**
     * Ends the body as if closed, request body included, without exceptions: the exchange is being completed
     * by the server, so a thread still holding the request body fails ("Stream is closed") instead of reading
     * around the connection's drain of the rest.
     */
    void closeQuietly() {
        exchange.requestBody().close();
        try {
            end();
        } catch (IOException e) {
            // the exchange is complete either way; the connection has been marked for closing
        }
    }
}
