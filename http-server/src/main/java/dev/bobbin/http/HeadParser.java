package dev.bobbin.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

import java.net.URI;
import java.net.URISyntaxException;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * Finds and parses request heads (RFC 9112 sections 2 to 5), one per connection, reused.
 *
 * <p>Finding: {@link #findEnd} scans the received bytes for the empty line that ends a head with Netty's
 * {@link ByteBuf#forEachByte} (a tight loop over the carrier's buffer), resuming where the previous scan
 * stopped, so a head that arrives a byte at a time costs linear time. Limits are checked while scanning:
 * no line feed within the request-line limit is 414, field lines past the header-block limit are 431. Both
 * limits count the same bytes whether CRLF or a bare LF ends a line: the request line's bytes before its line
 * end, and the field lines as if each ended with CRLF (each line's bytes other than its line end, plus two;
 * the empty line that ends the head not counted). A head of more bytes than any head within the limits (bare
 * CRs, which the parse rejects, count toward no limit) is 431 too, so the bytes held for a head are bounded.
 *
 * <p>Parsing: the complete head is copied once into this parser's array (a few hundred bytes for a
 * typical request; bodies are never copied) and parsed there with plain array loops. The rules are
 * strict where leniency would let two parties frame a message differently (request smuggling): a bare CR,
 * obs-fold, whitespace before a colon, invalid name characters and control characters in values are
 * each a 400. A bare LF ending a line is accepted (RFC 9112 section 2.2 allows it).
 */
final class HeadParser {
    /** Token characters (RFC 9110 section 5.6.2). */
    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (int c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (int c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
    }

    /** Whether the byte {@code c} (0 to 255) is a token character. */
    static boolean tchar(int c) {
        return TCHAR[c];
    }

    /** Whether the byte {@code c} (0 to 255) may stand in a field value: no control character but a tab. */
    static boolean valueChar(int c) {
        return (c >= 0x20 || c == '\t') && c != 0x7f;
    }

    private final int maxRequestLine;
    private final int maxHeaderBytes;
    private final byte[] head = new byte[HttpTunables.HEAD_BUFFER_INITIAL_BYTES];

    // scan state, relative to the buffer's reader index; reset by reset()
    private int scanned;        // bytes already scanned
    private int lineLength;     // non-CR bytes since the last LF
    private int firstLineEnd = -1;   // offset of the request line's LF, -1 while not seen
    private int firstLineLength;     // the request line's bytes before its CRLF or bare LF
    private int headerBytes;         // the complete field lines so far, each counted with a CRLF
    private final ByteProcessor endFinder = new ByteProcessor() {
        @Override
        public boolean process(byte b) {
            if (b == '\n') {
                if (lineLength == 0 && firstLineEnd >= 0) return false;   // the empty line: stop here
                if (firstLineEnd < 0) {
                    firstLineEnd = scanned;
                    firstLineLength = lineLength;
                } else {
                    headerBytes += lineLength + 2;          // a bare LF counts as CRLF
                }
                lineLength = 0;
            } else if (b != '\r') {
                lineLength++;
            }
            scanned++;
            return true;
        }
    };

    HeadParser(int maxRequestLine, int maxHeaderBytes) {
        this.maxRequestLine = maxRequestLine;
        this.maxHeaderBytes = maxHeaderBytes;
    }

    /** Forgets the scan, for the next head. */
    void reset() {
        scanned = 0;
        lineLength = 0;
        firstLineEnd = -1;
        headerBytes = 0;
    }

    /**
     * Skips the empty lines a client may send before a request (RFC 9112 section 2.2), each a CRLF or a bare
     * LF; returns whether bytes of a request remain. A bare CR is no empty line: it stays, for the parse to
     * reject (dropped, {@code "\rGET"} would be a GET here and something else to a party that keeps the CR).
     * A CR that is the last byte received stays too, its LF perhaps still to come: no request bytes yet.
     */
    static boolean skipLeadingEmptyLines(ByteBuf in) {
        while (in.isReadable()) {
            int i = in.readerIndex();
            byte b = in.getByte(i);
            if (b == '\n') {
                in.skipBytes(1);
            } else if (b != '\r') {
                return true;
            } else if (in.readableBytes() < 2) {
                return false;
            } else if (in.getByte(i + 1) != '\n') {
                return true;                                 // a bare CR
            } else {
                in.skipBytes(2);
            }
        }
        return false;
    }

    /**
     * The length of the head at the start of {@code in} (the empty line included), or -1 if it is not
     * complete yet.
     *
     * @throws HttpStatusException 414 or 431 when the bytes so far already exceed a limit
     */
    int findEnd(ByteBuf in) throws HttpStatusException {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        int limit = maxHeadBytes();
        int to = Math.min(readable, limit);
        if (scanned < to) {
            int stop = in.forEachByte(start + scanned, to - scanned, endFinder);
            if (stop >= 0) {
                checkSizes();
                return stop - start + 1;
            }
        }
        if (firstLineEnd < 0 && scanned > maxRequestLine + 1) {
            throw new HttpStatusException(414, "request line longer than " + maxRequestLine + " bytes");
        }
        checkSizes();                                        // the lines so far already exceed a limit?
        if (readable >= limit) throw new HttpStatusException(431, "header block larger than " + maxHeaderBytes + " bytes");
        return -1;
    }

    /**
     * Checks the scanned lines against the limits: the request line, once ended, and the field lines,
     * a field line still arriving counted with the CRLF it will have at least.
     */
    private void checkSizes() throws HttpStatusException {
        if (firstLineEnd < 0) return;
        if (firstLineLength > maxRequestLine) {            // the same limit whether CRLF or a bare LF ends it
            throw new HttpStatusException(414, "request line longer than " + maxRequestLine + " bytes");
        }
        if (headerBytes + (lineLength == 0 ? 0 : lineLength + 2) > maxHeaderBytes) {
            throw new HttpStatusException(431, "header block larger than " + maxHeaderBytes + " bytes");
        }
    }

    /**
     * The most bytes a head within the limits takes: a request line of at most maxRequestLine bytes and CRLF,
     * field lines counted with a CRLF each (never fewer bytes than sent), the empty line.
     */
    int maxHeadBytes() {
        return maxRequestLine + 2 + maxHeaderBytes + 2;
    }

    /** The bytes of the array kept for the next head (tests). */
    int retainedBytes() {
        return head.length;
    }

    /** Parses the {@code length}-byte head at the start of {@code in} and consumes it. */
    RequestHead parse(ByteBuf in, int length) throws HttpStatusException {
        // a head larger than the kept array gets one of its own, not kept: a connection holds no more than
        // the initial array between requests, whatever the largest head it received
        byte[] h = length <= head.length ? head : new byte[length];
        in.readBytes(h, 0, length);
        reset();

        // request-line = method SP request-target SP HTTP-version
        int p = 0;
        int sp1 = p;
        while (sp1 < length && TCHAR[h[sp1] & 0xff]) sp1++;
        if (sp1 == p || sp1 >= length || h[sp1] != ' ') throw bad("invalid method");
        String method = new String(h, p, sp1 - p, ISO_8859_1);
        int t = sp1 + 1;
        int sp2 = t;
        // bytes are signed: compared as such, every byte above 0x7F would end the target (a 400 for a raw UTF-8
        // path, which the JDK's provider serves); java.net.URI below decides which of them it accepts
        while (sp2 < length && (h[sp2] & 0xff) > ' ' && h[sp2] != 0x7f) sp2++;
        if (sp2 == t || sp2 >= length || h[sp2] != ' ') throw bad("invalid request target");
        int v = sp2 + 1;
        int eol = lineEnd(h, v, length);
        int vlen = (h[eol - 1] == '\r' ? eol - 1 : eol) - v;
        int minorVersion = parseVersion(h, v, vlen);
        String target = new String(h, t, sp2 - t, ISO_8859_1);
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw bad("invalid request target");
        }
        if (!target.startsWith("/") && !uri.isAbsolute() && !target.equals("*")) throw bad("invalid request target");

        // field-line = field-name ":" OWS field-value OWS
        String[] names = new String[16];
        String[] values = new String[16];
        int count = 0;
        p = eol + 1;
        for (;;) {
            int end = lineEnd(h, p, length);
            int contentEnd = h[end - 1] == '\r' && end - 1 >= p ? end - 1 : end;
            if (contentEnd == p) break;                    // the empty line
            byte first = h[p];
            if (first == ' ' || first == '\t') throw bad("obsolete line folding");
            int colon = p;
            while (colon < contentEnd && TCHAR[h[colon] & 0xff]) colon++;
            if (colon == p || colon >= contentEnd || h[colon] != ':') throw bad("invalid header name");
            int vs = colon + 1;
            while (vs < contentEnd && (h[vs] == ' ' || h[vs] == '\t')) vs++;
            int ve = contentEnd;
            while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) ve--;
            for (int i = vs; i < ve; i++) {
                int c = h[i] & 0xff;
                if (!valueChar(c)) throw bad("invalid character in a header value");
            }
            if (count == HttpTunables.MAX_HEADER_FIELDS) {
                throw new HttpStatusException(431, "more than " + HttpTunables.MAX_HEADER_FIELDS + " header fields");
            }
            if (count == names.length) {
                names = java.util.Arrays.copyOf(names, count * 2);
                values = java.util.Arrays.copyOf(values, count * 2);
            }
            names[count] = HeaderNames.normalized(h, p, colon - p);
            values[count] = new String(h, vs, ve - vs, ISO_8859_1);
            count++;
            p = end + 1;
        }
        return new RequestHead(method, target, uri, minorVersion, names, values, count, length);
    }

    /** The index of the LF ending the line at {@code from}; a CR not right before it is a bare CR (400). */
    private static int lineEnd(byte[] h, int from, int length) throws HttpStatusException {
        for (int i = from; i < length; i++) {
            byte b = h[i];
            if (b == '\n') return i;
            if (b == '\r' && (i + 1 >= length || h[i + 1] != '\n')) throw bad("bare CR");
            if (b == 0) throw bad("NUL in the request head");
        }
        throw bad("unterminated line");   // cannot happen: the head ends with an empty line
    }

    /** The minor version of an {@code HTTP/1.x} version; other majors are 505. */
    private static int parseVersion(byte[] h, int v, int len) throws HttpStatusException {
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT
        if (len != 8 || h[v] != 'H' || h[v + 1] != 'T' || h[v + 2] != 'T' || h[v + 3] != 'P' || h[v + 4] != '/'
                || !digit(h[v + 5]) || h[v + 6] != '.' || !digit(h[v + 7])) {
            throw bad("invalid HTTP version");
        }
        if (h[v + 5] != '1') throw new HttpStatusException(505, "HTTP version not supported");
        return h[v + 7] - '0';
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static HttpStatusException bad(String why) {
        return new HttpStatusException(400, why);
    }
}
