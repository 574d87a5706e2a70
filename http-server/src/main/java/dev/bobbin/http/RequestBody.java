package dev.bobbin.http;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.InputStream;

/**
 * A request body as the handler reads it: {@code Content-Length} bytes, or a chunked body decoded
 * (RFC 9112 section 7.1; chunk extensions ignored, trailer fields read and dropped). Bytes come straight
 * from the connection's receive buffer into the caller's array. The body may not exceed the server's
 * maximum: a chunked body that grows past it fails with 413. End of stream before the body is complete
 * is an {@link java.io.EOFException}, a malformed chunk a 400 {@link HttpStatusException}; either way
 * the connection is closed after the exchange.
 */
final class RequestBody extends InputStream {
    private final Connection conn;
    private final Exchange exchange;
    private final boolean chunked;
    private final long max;
    private long remaining;        // fixed: body bytes left; chunked: bytes left in the current chunk
    private long total;            // chunked: bytes of chunk data so far
    private boolean eof;
    private volatile boolean closed;   // volatile: written by close() on any thread (the handler, or the exchange's end);
                                       // pairs with the reads in read() under the inbound lock and in available()
    private boolean failed;

    RequestBody(Connection conn, Exchange exchange, long contentLength, long max) {
        this.conn = conn;
        this.exchange = exchange;
        this.chunked = contentLength < 0;
        this.max = max;
        this.remaining = chunked ? 0 : contentLength;
        this.eof = contentLength == 0;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        conn.lockInbound();
        try {
            if (closed) throw new IOException("Stream is closed");
            return readLocked(b, off, len);
        } finally {
            conn.unlockInbound();
        }
    }

    /** Inbound lock held: the body's next bytes, whoever reads (the handler's stream, or the drain). */
    private int readLocked(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        if (eof) return -1;
        exchange.continueIfExpected();
        try {
            if (chunked && remaining == 0) {
                nextChunk();
                if (eof) return -1;
            }
            ByteBuf in = conn.inbound(true);
            int n = (int) Math.min(Math.min(len, remaining), in.readableBytes());
            in.readBytes(b, off, n);
            remaining -= n;
            if (!chunked && remaining == 0) eof = true;
            if (chunked && remaining == 0) expectCrlf();
            return n;
        } catch (IOException | RuntimeException e) {
            failed = true;
            exchange.bodyFailed(e);
            throw e;
        }
    }

    @Override
    public int available() throws IOException {
        if (closed) throw new IOException("Stream is closed");
        if (eof) return 0;
        conn.lockInbound();
        try {
            ByteBuf in = conn.inbound(false);
            return in == null ? 0 : (int) Math.min(remaining, in.readableBytes());
        } finally {
            conn.unlockInbound();
        }
    }

    /** Closes the stream; the rest of the body is drained by the connection after the exchange. */
    @Override
    public void close() {
        closed = true;
    }

    /** Whether the whole body was read (so the next request starts right after it). */
    boolean complete() {
        return eof;
    }

    /**
     * Reads and drops what is left of the body, at most {@code limit} bytes; returns whether the body was
     * consumed completely (the connection may then carry another request). Holds the inbound lock
     * throughout, so a thread still holding the (closed) stream never reads between the drain's reads: it
     * fails with "Stream is closed" instead of taking bytes out of the middle of the body.
     */
    boolean drain(long limit) {
        try {
            conn.lockInbound();
        } catch (java.nio.channels.ClosedChannelException e) {
            return false;                                  // released: the connection is closing
        }
        try {
            if (failed) return false;
            if (eof) return true;
            if (!chunked && remaining > limit) return false;
            byte[] scratch = new byte[(int) Math.min(8192, Math.max(1, limit))];
            long drained = 0;
            int n;
            while (drained <= limit && (n = readLocked(scratch, 0, scratch.length)) >= 0) drained += n;
            return eof;
        } catch (IOException e) {
            return false;
        } finally {
            conn.unlockInbound();
        }
    }

    private void nextChunk() throws IOException {
        // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*"0" [ chunk-ext ] CRLF
        // The line ends with CRLF only: the bare-LF allowance (RFC 9112 section 2.2) covers the start line and
        // fields, and a chunk line framed differently by another party is a smuggling vector.
        long size = 0;
        int digits = 0;
        int lineBytes = 0;
        boolean afterSize = false;     // whitespace after the size: only more of it, ';' or the line end may follow
        boolean inExtension = false;
        for (;;) {
            int c = conn.readByte();
            if (++lineBytes > HttpTunables.MAX_CHUNK_LINE_BYTES) throw new HttpStatusException(400, "chunk size line too long");
            if (c == '\r') {
                if (conn.readByte() != '\n') throw new HttpStatusException(400, "bare CR in a chunk size line");
                // BWS belongs to a chunk extension only: "1a " ends no size a strict parser would read
                if (afterSize && !inExtension) throw new HttpStatusException(400, "whitespace after the chunk size");
                break;
            }
            if (c == '\n') throw new HttpStatusException(400, "bare LF in a chunk size line");
            if (inExtension) {
                if ((c < 0x20 && c != '\t') || c == 0x7f) throw new HttpStatusException(400, "invalid chunk extension");
                continue;
            }
            int d = Character.digit(c, 16);
            if (d >= 0 && !afterSize) {
                if (++digits > 15) throw new HttpStatusException(400, "chunk size too large");
                size = size * 16 + d;
            } else if (c == ';') {
                inExtension = true;
            } else if ((c == ' ' || c == '\t') && digits > 0) {
                afterSize = true;      // BWS before a chunk extension
            } else {
                throw new HttpStatusException(400, "invalid chunk size");
            }
        }
        if (digits == 0) throw new HttpStatusException(400, "missing chunk size");
        if (size == 0) {
            readTrailers();
            eof = true;
            return;
        }
        total += size;
        if (total > max) throw new HttpStatusException(413, "request body larger than " + max + " bytes");
        remaining = size;
    }

    private void expectCrlf() throws IOException {
        if (conn.readByte() != '\r' || conn.readByte() != '\n') {
            throw new HttpStatusException(400, "chunk data not followed by CRLF");
        }
    }

    /**
     * Reads and drops the trailer section, held to the header section's field-line syntax (see
     * {@link HeadParser}): a line that is no field line (a request line among them, which a party ending the
     * body at the last chunk would take for the next request), obs-fold, whitespace before the colon and
     * control characters in a value are each a 400. Its lines end with CRLF only, as the chunk lines do
     * (see nextChunk): the empty line ending it ends the message, and a party that does not take a bare LF
     * for a line end would read on into the next request as trailers.
     */
    private void readTrailers() throws IOException {
        int bytes = 0;
        int lineLength = 0;
        boolean inValue = false;       // the line's colon seen
        for (;;) {
            int c = conn.readByte();
            if (++bytes > conn.maxHeaderBytes()) throw new HttpStatusException(431, "trailer section too large");
            if (c == '\r') {
                if (conn.readByte() != '\n') throw new HttpStatusException(400, "bare CR in trailers");
                if (lineLength == 0) return;
                if (!inValue) throw new HttpStatusException(400, "invalid trailer field");
                lineLength = 0;
                inValue = false;
                continue;
            }
            if (c == '\n') throw new HttpStatusException(400, "bare LF in trailers");
            if (inValue) {
                if (!HeadParser.valueChar(c)) throw new HttpStatusException(400, "invalid character in a trailer value");
            } else if (c == ':') {
                if (lineLength == 0) throw new HttpStatusException(400, "invalid trailer field name");
                inValue = true;
            } else if (!HeadParser.tchar(c)) {
                // whitespace here is obs-fold (at a line's start) or whitespace before the colon
                throw new HttpStatusException(400, "invalid trailer field name");
            }
            lineLength++;
        }
    }
}
