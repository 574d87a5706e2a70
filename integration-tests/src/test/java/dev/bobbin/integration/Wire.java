package dev.bobbin.integration;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * A raw HTTP/1.1 client for comparing servers byte for byte: it sends requests as written and reads each
 * response by its own framing (Content-Length, chunked, or none for HEAD, 1xx, 204 and 304), so a response
 * framed wrongly fails here instead of being repaired by a lenient client.
 */
final class Wire implements AutoCloseable {
    private static final int TIMEOUT_MILLIS = 20_000;   // a hang guard, never a timing assertion
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Wire(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /**
     * One response: the status, the header fields as received (names lowercased), the body as framed, and
     * the framing: "length N", "chunked", "none" (a response that has no body: to HEAD, 1xx, 204, 304,
     * with no length header either), or "close" (the body runs to the end of the connection).
     */
    record Response(int status, List<String[]> headers, byte[] body, String framing) {
        /** The one value of header {@code name}, or null; a repeated header fails. */
        String header(String name) {
            String value = null;
            for (String[] h : headers) {
                if (h[0].equals(name)) {
                    if (value != null) throw new AssertionError("repeated header " + name + ": " + this);
                    value = h[1];
                }
            }
            return value;
        }

        /** The body, gunzipped when the response says {@code Content-Encoding: gzip}. */
        byte[] decoded() throws IOException {
            if (!"gzip".equals(header("content-encoding"))) return body;
            try (InputStream gz = new GZIPInputStream(new ByteArrayInputStream(body))) {
                return gz.readAllBytes();
            }
        }

        String text() throws IOException {
            return new String(decoded(), java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder().append(status);
            for (String[] h : headers) b.append(" | ").append(h[0]).append(": ").append(h[1]);
            return b.append(" | body ").append(body.length).append(" bytes").toString();
        }
    }

    /** Sends a request: {@code head} without the final blank line (added here), then {@code body} as given. */
    Wire send(String head, byte[] body) throws IOException {
        out.write((head + "\r\n\r\n").getBytes(ISO_8859_1));
        if (body != null) out.write(body);
        out.flush();
        return this;
    }

    /** Sends bytes as they are (a body after an interim response). */
    Wire sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    Wire send(String head) throws IOException {
        return send(head, null);
    }

    /** Reads the next response; {@code toHead} says the request was HEAD (no body whatever the headers say). */
    Response read(boolean toHead) throws IOException {
        String statusLine = line();
        if (!statusLine.startsWith("HTTP/1.1 ")) throw new AssertionError("status line: " + statusLine);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        List<String[]> headers = new ArrayList<>();
        for (String l = line(); !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            if (colon <= 0) throw new AssertionError("header line: " + l);
            headers.add(new String[] {l.substring(0, colon).toLowerCase(Locale.ROOT), l.substring(colon + 1).strip()});
        }
        Response bare = new Response(status, headers, new byte[0], "");
        String te = bare.header("transfer-encoding");
        String cl = bare.header("content-length");
        if (te != null && cl != null) throw new AssertionError("both Content-Length and Transfer-Encoding: " + bare);
        if (te != null && !te.equalsIgnoreCase("chunked")) throw new AssertionError("transfer-encoding " + te);
        String framing = te != null ? "chunked" : cl != null ? "length " + cl : "none";
        if (toHead || status / 100 == 1 || status == 204 || status == 304) {
            return new Response(status, headers, new byte[0], framing);
        }
        if (te != null) return new Response(status, headers, chunks(), framing);
        if (cl != null) {
            byte[] body = in.readNBytes(Integer.parseInt(cl));
            if (body.length < Integer.parseInt(cl)) throw new EOFException("connection closed mid-body: " + bare);
            return new Response(status, headers, body, framing);
        }
        return new Response(status, headers, in.readAllBytes(), "close");
    }

    /** True when the server has closed the connection (the next read sees end of stream). */
    boolean closedByServer() throws IOException {
        return in.read() < 0;
    }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line();
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
            if (n == 0) break;
            body.write(in.readNBytes(n));
            if (!line().isEmpty()) throw new AssertionError("chunk not followed by CRLF");
        }
        while (!line().isEmpty()) { }   // trailers
        return body.toByteArray();
    }

    private String line() throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) throw new EOFException("connection closed mid-response after: " + b);
            if (c == '\n') {
                if (b.isEmpty() || b.charAt(b.length() - 1) != '\r') throw new AssertionError("bare LF after: " + b);
                b.setLength(b.length() - 1);
                return b.toString();
            }
            b.append((char) c);
        }
    }

    /** The request body chunked in pieces of {@code piece} bytes, with the last chunk. */
    static byte[] chunked(byte[] body, int piece) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < body.length; i += piece) {
            int n = Math.min(piece, body.length - i);
            b.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(ISO_8859_1));
            b.write(body, i, n);
            b.writeBytes("\r\n".getBytes(ISO_8859_1));
        }
        b.writeBytes("0\r\n\r\n".getBytes(ISO_8859_1));
        return b.toByteArray();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
