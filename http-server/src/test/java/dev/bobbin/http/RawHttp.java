package dev.bobbin.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * A raw-socket HTTP/1.1 client for the protocol and fuzz tests: writes exact bytes and parses responses
 * strictly, so that any response the server sends is checked for being well formed (status line
 * {@code HTTP/1.1 ddd reason}, header fields, a body exactly matching its framing). Parse failures are
 * {@link AssertionError}s; a peer that closes (EOF or a reset) before a response starts reads as
 * {@code null}.
 */
final class RawHttp {
    /** Per-read timeout of a connection unless a test sets another. */
    static final int DEFAULT_TIMEOUT_MILLIS = 5_000;
    /** Largest response head this client accepts. */
    private static final int MAX_HEAD_BYTES = 64 * 1024;
    /** Largest response body this client buffers. */
    private static final long MAX_BODY_BYTES = 64L * 1024 * 1024;
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 ([1-5][0-9][0-9]) ([\\t\\x20-\\x7E\\x80-\\xFF]*)");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,15}");

    private RawHttp() { }

    /** Whether a response has a body, decided from its status line and headers. */
    enum Body {
        /** Framed by its headers (none for 1xx, 204, 304). */
        FRAMED,
        /** No body whatever the headers say: the response to HEAD. */
        NONE,
        /** Framed by Content-Length, but may also end (EOF) before the first body byte: a server-made error
         *  response to a request that may have been HEAD. */
        FRAMED_OR_NONE
    }

    /** Chooses the body rule once the head is parsed. */
    @FunctionalInterface
    interface BodyRule {
        Body of(Response head);
    }

    static Conn connect(int port) throws IOException {
        return connect(port, DEFAULT_TIMEOUT_MILLIS, 0);
    }

    /** A connection to the loopback port; {@code receiveBuffer > 0} sets SO_RCVBUF before connecting. */
    static Conn connect(int port, int timeoutMillis, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        try {
            if (receiveBuffer > 0) s.setReceiveBufferSize(receiveBuffer);
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            return new Conn(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** One client connection. Not thread-safe, except {@link #close()}. */
    static final class Conn implements AutoCloseable {
        final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[16 * 1024];
        private int pos, lim;
        private boolean eof, reset;
        private long consumed;

        private Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        Conn send(String s) throws IOException {
            return send(bytes(s));
        }

        Conn send(byte[] b) throws IOException {
            out.write(b);
            out.flush();
            return this;
        }

        /** Writes and reports whether all bytes were written: false when the server has closed meanwhile. */
        boolean sendQuietly(byte[] b) {
            try {
                send(b);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /** Sends FIN; the server sees end of stream after the bytes written so far. */
        void shutdownOutput() {
            try {
                socket.shutdownOutput();
            } catch (IOException ignored) {
                // already closed by the peer: the next read says so
            }
        }

        void timeout(int millis) throws SocketException {
            socket.setSoTimeout(millis);
        }

        /**
         * Waits up to {@code millis} for the next byte or the end of the stream without consuming anything;
         * false if neither came. The connection's read timeout is unchanged afterwards.
         */
        boolean awaitData(int millis) throws IOException {
            if (pos < lim || eof) return true;
            int saved = socket.getSoTimeout();
            socket.setSoTimeout(millis);
            try {
                fill();
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } finally {
                socket.setSoTimeout(saved);
            }
        }

        /** Response bytes read so far on this connection. */
        long consumed() {
            return consumed;
        }

        /** The next response, framed by its headers (no body for 1xx, 204, 304); null if the peer closed first. */
        Response read() throws IOException {
            return read(h -> Body.FRAMED);
        }

        /** The next response to a HEAD request: the head only. */
        Response readHead() throws IOException {
            return read(h -> Body.NONE);
        }

        /**
         * The next response, or null if the connection ends (EOF or reset) before its first byte. A
         * malformed or truncated response fails with an {@link AssertionError}; a read timeout throws
         * {@link SocketTimeoutException} (compare {@link #consumed()} to see whether a response had begun).
         */
        Response read(BodyRule rule) throws IOException {
            int first = next();
            if (first < 0) return null;
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            raw.write(first);
            String statusLine = line(first, raw, "status line");
            var m = STATUS_LINE.matcher(statusLine);
            if (!m.matches()) throw fail("bad status line: " + show(statusLine));
            int status = Integer.parseInt(m.group(1));
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            while (true) {
                int c = need("header");
                raw.write(c);
                String line = line(c, raw, "header line");
                if (line.isEmpty()) break;
                if (headers.size() >= 1000) throw fail("more than 1000 header fields");
                int colon = line.indexOf(':');
                if (colon <= 0) throw fail("header line without a name and colon: " + show(line));
                String name = line.substring(0, colon);
                for (int i = 0; i < name.length(); i++) {
                    if (!isTchar(name.charAt(i))) throw fail("bad header name: " + show(line));
                }
                String value = line.substring(colon + 1);
                for (int i = 0; i < value.length(); i++) {
                    char ch = value.charAt(i);
                    if (ch != '\t' && (ch < 0x20 || ch == 0x7F)) throw fail("control character in header value: " + show(line));
                }
                headers.add(Map.entry(name, value.strip()));
            }
            Response head = new Response(status, m.group(2), headers, new byte[0], false);
            Body body = (status < 200 || status == 204 || status == 304) ? Body.NONE : rule.of(head);
            if (body == Body.NONE) return head;
            List<String> te = head.headers("Transfer-Encoding");
            List<String> cl = head.headers("Content-Length");
            if (!te.isEmpty()) {
                if (!cl.isEmpty()) throw fail("both Content-Length and Transfer-Encoding");
                if (te.size() != 1 || !te.getFirst().equalsIgnoreCase("chunked")) throw fail("Transfer-Encoding is not just chunked: " + te);
                return head.withBody(chunked(), false);
            }
            if (!cl.isEmpty()) {
                if (cl.size() != 1 || !DIGITS.matcher(cl.getFirst()).matches()) throw fail("bad Content-Length: " + cl);
                long n = Long.parseLong(cl.getFirst());
                if (n > MAX_BODY_BYTES) throw fail("Content-Length too large for this client: " + n);
                if (body == Body.FRAMED_OR_NONE && n > 0) {
                    int c = next();
                    if (c < 0) return head;  // no body, then the close
                    pos--;
                    consumed--;
                }
                return head.withBody(exactly((int) n), false);
            }
            return head.withBody(untilEof(), true);
        }

        /** Reads a response and checks it is the complete rejection {@code status} with Connection: close and
         *  a Content-Length, and that the server then closes the connection. */
        Response expectRejection(int status) throws IOException {
            Response r;
            try {
                r = read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no " + status + " response within " + socket.getSoTimeout() + " ms: the server hangs");
            }
            if (r == null) throw new AssertionError("connection closed without the " + status + " response");
            if (r.status() != status) throw new AssertionError("expected " + status + " but got " + r.describe());
            r.assertDate();
            if (!r.closes()) throw new AssertionError("rejection " + status + " without Connection: close: " + r.describe());
            if (r.header("Content-Length") == null) throw new AssertionError("rejection " + status + " without Content-Length: " + r.describe());
            assertClosed();
            return r;
        }

        /** The next read ends the stream (EOF or reset): fails on further bytes or a read timeout. */
        void assertClosed() throws IOException {
            int c;
            try {
                c = next();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server did not close the connection within " + socket.getSoTimeout() + " ms");
            }
            if (c >= 0) {
                pos--;
                throw new AssertionError("bytes after the last response where the server should have closed: "
                        + show(new String(buf, pos, Math.min(80, lim - pos), StandardCharsets.ISO_8859_1)));
            }
        }

        /** Reads and discards until the stream ends (EOF or reset); returns the number of bytes discarded.
         *  Fails if the server neither sends nor closes within the read timeout. */
        long drainToEnd() throws IOException {
            long n = 0;
            try {
                while (next() >= 0) n++;
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server neither sent nor closed for " + socket.getSoTimeout() + " ms after " + n + " bytes");
            }
            return n;
        }

        private String line(int first, ByteArrayOutputStream raw, String what) throws IOException {
            StringBuilder sb = new StringBuilder();
            int c = first;
            while (true) {
                if (c == '\n') throw fail("bare LF in the " + what + " after " + show(sb.toString()));
                if (c == '\r') {
                    int n = need(what);
                    raw.write(n);
                    if (n != '\n') throw fail("bare CR in the " + what + " after " + show(sb.toString()));
                    return sb.toString();
                }
                sb.append((char) c);
                if (raw.size() > MAX_HEAD_BYTES) throw fail("response head longer than " + MAX_HEAD_BYTES + " bytes");
                c = need(what);
                raw.write(c);
            }
        }

        private byte[] chunked() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = line(need("chunk size"), raw, "chunk size line");
                int semi = sizeLine.indexOf(';');
                String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine);
                if (!hex.matches("[0-9A-Fa-f]{1,8}")) throw fail("bad chunk size line: " + show(sizeLine));
                long size = Long.parseLong(hex, 16);
                if (body.size() + size > MAX_BODY_BYTES) throw fail("chunked body too large for this client");
                if (size == 0) break;
                body.writeBytes(exactly((int) size));
                String end = line(need("chunk end"), raw, "chunk end");
                if (!end.isEmpty()) throw fail("chunk data longer than its size " + size);
            }
            while (true) {  // trailer fields, then the empty line
                String t = line(need("trailer"), raw, "trailer");
                if (t.isEmpty()) return body.toByteArray();
                if (t.indexOf(':') <= 0) throw fail("bad trailer line: " + show(t));
            }
        }

        private byte[] exactly(int n) throws IOException {
            byte[] b = new byte[n];
            int off = 0;
            while (off < n) {
                if (pos == lim && !fill()) throw fail("body ended after " + off + " of " + n + " bytes");
                int k = Math.min(n - off, lim - pos);
                System.arraycopy(buf, pos, b, off, k);
                pos += k;
                consumed += k;
                off += k;
            }
            return b;
        }

        private byte[] untilEof() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = next()) >= 0) {
                b.write(c);
                if (b.size() > MAX_BODY_BYTES) throw fail("close-delimited body too large for this client");
            }
            return b.toByteArray();
        }

        private int need(String what) throws IOException {
            int c = next();
            if (c < 0) throw fail("connection ended inside the " + what);
            return c;
        }

        private int next() throws IOException {
            if (pos == lim && !fill()) return -1;
            consumed++;
            return buf[pos++] & 0xFF;
        }

        /** Reads more bytes; false at end of stream, which a connection reset also counts as. */
        private boolean fill() throws IOException {
            if (eof) return false;
            int n;
            try {
                n = in.read(buf, 0, buf.length);
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (SocketException e) {
                reset = true;   // the server closed with unread request bytes: the kernel sent a reset
                n = -1;
            }
            if (n < 0) {
                eof = true;
                return false;
            }
            pos = 0;
            lim = n;
            return true;
        }

        /** Whether the end of stream seen was a reset rather than a FIN. */
        boolean wasReset() {
            return reset;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do for a socket being discarded
            }
        }
    }

    /** A parsed response. Header names keep their case; lookups ignore it. */
    record Response(int status, String reason, List<Map.Entry<String, String>> headerList, byte[] body,
                    boolean closeDelimited) {
        Response withBody(byte[] b, boolean untilEof) {
            return new Response(status, reason, headerList, b, untilEof);
        }

        /** Every value of {@code name}, in order. */
        List<String> headers(String name) {
            List<String> l = new ArrayList<>();
            for (var e : headerList) if (e.getKey().equalsIgnoreCase(name)) l.add(e.getValue());
            return l;
        }

        /** The value of {@code name}, null if absent; fails if the field appears more than once. */
        String header(String name) {
            List<String> l = headers(name);
            if (l.size() > 1) throw new AssertionError("header " + name + " sent " + l.size() + " times: " + describe());
            return l.isEmpty() ? null : l.getFirst();
        }

        /** Whether the response announces that the server closes the connection after it. */
        boolean closes() {
            for (String v : headers("Connection")) {
                for (String token : v.split(",")) if (token.strip().equalsIgnoreCase("close")) return true;
            }
            return false;
        }

        String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }

        /** Fails unless the response has exactly one Date header in the IMF-fixdate format. */
        void assertDate() {
            String d = header("Date");
            if (d == null) throw new AssertionError("no Date header: " + describe());
            if (!d.endsWith(" GMT")) throw new AssertionError("Date is not in GMT: " + d);
            try {
                DateTimeFormatter.RFC_1123_DATE_TIME.parse(d);
            } catch (DateTimeParseException e) {
                throw new AssertionError("Date header is not an HTTP date: " + d);
            }
        }

        String describe() {
            StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason);
            for (var e : headerList) sb.append(" | ").append(e.getKey()).append(": ").append(e.getValue());
            sb.append(" | body ").append(body.length).append(" bytes");
            if (body.length > 0 && body.length <= 200) sb.append(": ").append(show(bodyText()));
            return sb.toString();
        }
    }

    private static boolean isTchar(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static AssertionError fail(String why) {
        return new AssertionError("malformed response: " + why);
    }

    /** Printable form of raw bytes for failure messages. */
    static String show(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8).append('"');
        for (int i = 0; i < s.length() && i < 300; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                default -> {
                    if (c < 0x20 || c >= 0x7F) sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
                    else sb.append(c);
                }
            }
        }
        if (s.length() > 300) sb.append("...(").append(s.length()).append(" chars)");
        return sb.append('"').toString();
    }

    static String show(byte[] b) {
        return show(new String(b, StandardCharsets.ISO_8859_1));
    }

    /**
     * Takes the records of one java.util.logging logger (and its children) off the console while a test
     * runs: expected log lines (a failing handler's WARNING) stay out of the output, and a test can assert
     * on them. {@link #close()} gives the logger back its console.
     */
    static final class LogCapture extends Handler implements AutoCloseable {
        private final Logger logger;   // held strongly: the logging framework keeps loggers weakly
        private final boolean parentHandlers;
        private final Level level;
        final List<LogRecord> records = new CopyOnWriteArrayList<>();

        LogCapture(String name, Level level) {
            this.logger = Logger.getLogger(name);
            this.parentHandlers = logger.getUseParentHandlers();
            this.level = logger.getLevel();
            setLevel(Level.ALL);
            logger.setLevel(level);
            logger.addHandler(this);
            logger.setUseParentHandlers(false);
        }

        /** Records at {@code min} or above, formatted for a failure message. */
        List<String> atLeast(Level min) {
            List<String> l = new ArrayList<>();
            for (var r : records) {
                if (r.getLevel().intValue() >= min.intValue()) {
                    l.add(r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()
                            + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")"));
                }
            }
            return l;
        }

        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() { }

        @Override
        public void close() {
            logger.removeHandler(this);
            logger.setUseParentHandlers(parentHandlers);
            logger.setLevel(level);
        }
    }
}
