package dev.bobbin.http;

import com.sun.net.httpserver.HttpExchange;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerStats;
import dev.bobbin.http.RawHttp.Conn;
import dev.bobbin.http.RawHttp.Response;
import dev.bobbin.uring.FiberIo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Feeds the server mutated and random requests from a fixed seed. Whatever arrives, each response must be
 * well formed (an {@code HTTP/1.1 ddd reason} status line, valid header fields, a Date, a body exactly
 * matching its framing; a response the server made itself is an error with Connection: close and a
 * Content-Length, followed by the close), or the connection just closes; it must never hang. Every 100
 * cases a normal GET on a new connection must be served. At the end nothing may be left behind: no open
 * connections, file descriptors, live fibers, failed fibers, or Netty buffer leaks.
 */
class HttpFuzzTest {
    private static final long SEED = 2026;
    /** Bytes of a random case or a repeated segment are capped so one case stays cheap. */
    private static final int MAX_CASE_BYTES = 96 * 1024;
    /** How long a case may wait for the server to close after the client's FIN. */
    private static final int CLOSE_WAIT_MILLIS = 5_000;
    /** How long a case without FIN waits for a further response before it gives up on the connection. */
    private static final int QUIET_WAIT_MILLIS = 60;
    private static final int FD_SLACK = 10;

    private static final String[] TEMPLATES = {
            "GET /a?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world",
            "POST /chunk HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            "HEAD /h HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "GET /p1 HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /p2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /p3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "PUT /e HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
            "GET http://localhost/abs HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
            "DELETE /chunk/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
    };
    private static final String[] EXTRA_HEADERS = {
            "Content-Length: 99999999999999999999", "Content-Length: 5", "Content-Length: 0", "Content-Length: -1",
            "Content-Length: 4096", "Content-Length: 9000", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked",
            "Transfer-Encoding: chunked, chunked", "Host: other", "Expect: 100-continue", "Expect: something",
            "Connection: close", "Connection: keep-alive", "Connection: upgrade, close", "Upgrade: h2c", "X-E:",
            " folded", "\tfolded", "X-N: \u0000", "Bad Name: v", "X-Long: " + "L".repeat(5000), "Trailer: X-T",
    };
    private static final String[] NUMBERS = {
            "99999999999999999999", "18446744073709551616", "9223372036854775807", "9223372036854775808",
            "-1", "+1", "0", "00000000000000000005", "ffffffffffffffff", "7fffffff", "1e9", "0x10", "4097", "8193", " 3",
    };
    private static final byte[] SPECIAL = RawHttp.bytes("\r\n\u0000 \t:;,=\"0123456789abcdefABCDEF/\u007f\u00ff\u0080%?#HTTP");

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void mutatedAndRandomRequests() throws Exception {
        fuzz(2_500);
    }

    @Test
    @Tag("long")
    @Timeout(value = 60, unit = TimeUnit.MINUTES)
    void mutatedAndRandomRequestsLong() throws Exception {
        fuzz(100_000);
    }

    private void fuzz(int cases) throws Exception {
        if (!(InternalLoggerFactory.getDefaultFactory() instanceof JdkLoggerFactory)) {
            fail("Netty logs through " + InternalLoggerFactory.getDefaultFactory() + ", not java.util.logging: leak reports would go unseen");
        }
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(), "tests must run with PARANOID leak detection");
        Random rnd = new Random(SEED);
        try (var leaks = new RawHttp.LogCapture("io.netty.util.ResourceLeakDetector", Level.WARNING);
             var serverLog = new RawHttp.LogCapture("dev.bobbin.http", Level.INFO)) {
            FiberScheduler scheduler = FiberIo.system().newScheduler("http-fuzz", 2);
            try {
                BobbinHttpServer server = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0,
                        HttpServerOptions.builder()
                                .maxRequestLineBytes(1024).maxHeaderBytes(4096).maxRequestBodyBytes(8192)
                                .maxConnections(256).headerReadTimeout(Duration.ofSeconds(1)).idleTimeout(Duration.ofSeconds(1))
                                .ioTimeout(Duration.ofSeconds(2)).scheduler(scheduler).build());
                server.createContext("/", HttpFuzzTest::echo);
                server.start();
                int port = server.getAddress().getPort();
                try {
                    assertServed(port, -1);
                    await("open connections after the first request", 0, server::activeConnections);
                    Thread.sleep(200);  // the first connection's fiber ends
                    long fds = openFds();
                    SchedulerStats start = scheduler.stats();

                    for (int i = 0; i < cases; i++) {
                        byte[] request = nextCase(rnd);
                        boolean fin = rnd.nextInt(20) != 0;
                        try {
                            runCase(port, request, fin);
                        } catch (AssertionError | IOException e) {
                            throw new AssertionError("case " + i + " (" + (fin ? "with" : "without") + " FIN) " + RawHttp.show(request)
                                    + ": " + e, e);
                        }
                        if (i % 100 == 99) assertServed(port, i);
                    }

                    await("open connections", 0, server::activeConnections);
                    awaitAtMost("live fibers (start " + start.liveFibers() + ")", start.liveFibers(), () -> scheduler.stats().liveFibers());
                    awaitAtMost("open file descriptors (start " + fds + ")", fds + FD_SLACK, HttpFuzzTest::openFds);
                    assertEquals(start.fibersFailed(), scheduler.stats().fibersFailed(), "fibers ended with an uncaught exception");
                } finally {
                    server.stop(0);
                }
            } finally {
                scheduler.close();
            }
            pollLeakDetector();
            assertEquals(List.of(), leaks.atLeast(Level.WARNING), "Netty's leak detector reported leaks");
            // handler failures (a body cut short) are expected and logged as warnings; anything worse is a bug
            assertEquals(List.of(), serverLog.atLeast(Level.SEVERE), "the server logged errors");
        }
    }

    /** Writes one case and reads whatever comes back until the server closes (or, without FIN, goes quiet). */
    private static void runCase(int port, byte[] request, boolean fin) throws IOException {
        try (Conn c = RawHttp.connect(port, CLOSE_WAIT_MILLIS, 0)) {
            c.sendQuietly(request);
            if (fin) c.shutdownOutput();
            boolean headRequest = contains(request, "HEAD");
            boolean expectsContinue = new String(request, StandardCharsets.ISO_8859_1)
                    .toLowerCase(Locale.ROOT).contains("100-continue");
            for (int n = 0; ; n++) {
                if (n > request.length) throw new AssertionError("more responses than requests could fit in the case");
                // without FIN the server may rightly wait for the rest of a request: a quiet pause ends the case
                if (!fin && !c.awaitData(QUIET_WAIT_MILLIS)) return;
                long before = c.consumed();
                Response r;
                try {
                    r = c.read(head -> {
                        String method = head.header("X-Method");
                        if (method != null) return method.equals("HEAD") ? RawHttp.Body.NONE : RawHttp.Body.FRAMED;
                        return headRequest ? RawHttp.Body.FRAMED_OR_NONE : RawHttp.Body.FRAMED;
                    });
                } catch (SocketTimeoutException e) {
                    if (c.consumed() != before) throw new AssertionError("the server stalled in the middle of a response");
                    throw new AssertionError("the server neither answered nor closed within " + CLOSE_WAIT_MILLIS + " ms of the client's FIN");
                }
                if (r == null) return;
                check(r, expectsContinue);
                if (r.status() == 100) continue;
                if (r.closes() || r.closeDelimited()) {
                    c.assertClosed();
                    return;
                }
            }
        }
    }

    /** The rules every response obeys, beyond the parser's syntax checks. */
    private static void check(Response r, boolean expectsContinue) {
        if (r.status() < 200) {
            if (r.status() != 100) throw new AssertionError("unexpected interim response " + r.describe());
            if (!expectsContinue) throw new AssertionError("100 Continue to a request without Expect: 100-continue");
            return;
        }
        r.assertDate();
        String method = r.header("X-Method");
        if (method == null) {  // the server's own response: a rejection, or 404 for a target outside the context
            if (r.status() < 400) throw new AssertionError("server-made response that is not an error: " + r.describe());
            if (r.status() != 404 && !r.closes()) throw new AssertionError("server-made error without Connection: close: " + r.describe());
            if (r.header("Content-Length") == null) throw new AssertionError("server-made error without Content-Length: " + r.describe());
            return;
        }
        if (r.status() != 200) throw new AssertionError("the handler answered 200, the client got " + r.describe());
        if (!method.equals("HEAD") && !String.valueOf(r.body().length).equals(r.header("X-Body-Length"))) {
            throw new AssertionError("the body differs from what the handler sent: " + r.describe());
        }
    }

    /** A GET on a new connection must be served normally. */
    private static void assertServed(int port, int afterCase) throws IOException {
        try (Conn c = RawHttp.connect(port)) {
            c.send("GET /check HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Response r = c.read();
            assertNotNull(r, "after case " + afterCase + ": connection closed without a response");
            assertEquals(200, r.status(), "after case " + afterCase + ": " + r.describe());
            assertEquals("GET", r.header("X-Method"), "after case " + afterCase + ": " + r.describe());
            r.assertDate();
        }
    }

    /** Echoes the request body; the path chooses a fixed-length or a chunked response. */
    private static void echo(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        String method = ex.getRequestMethod();
        ex.getResponseHeaders().set("X-Method", method);
        ex.getResponseHeaders().set("X-Body-Length", Integer.toString(body.length));
        if (method.equals("HEAD")) {
            ex.sendResponseHeaders(200, -1);
        } else if (ex.getRequestURI().getRawPath().contains("chunk")) {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        } else {
            ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    // ---------------------------------------------------------------- case generation

    private static byte[] nextCase(Random rnd) {
        int kind = rnd.nextInt(100);
        if (kind < 7) {  // any bytes
            byte[] b = new byte[rnd.nextInt(1500)];
            rnd.nextBytes(b);
            return b;
        }
        if (kind < 12) {  // bytes from HTTP's alphabet
            byte[] b = new byte[1 + rnd.nextInt(600)];
            for (int i = 0; i < b.length; i++) b[i] = SPECIAL[rnd.nextInt(SPECIAL.length)];
            return b;
        }
        byte[] b = RawHttp.bytes(TEMPLATES[rnd.nextInt(TEMPLATES.length)]);
        if (kind < 15) return b;  // unchanged: the server must answer it
        int mutations = 1 + rnd.nextInt(rnd.nextInt(5) + 1);
        for (int m = 0; m < mutations; m++) b = mutate(b, rnd);
        return b;
    }

    private static byte[] mutate(byte[] b, Random rnd) {
        int at = b.length == 0 ? 0 : rnd.nextInt(b.length);
        switch (rnd.nextInt(12)) {
            case 0 -> {  // flip one bit
                if (b.length == 0) return b;
                b = b.clone();
                b[at] ^= (byte) (1 << rnd.nextInt(8));
                return b;
            }
            case 1 -> {  // insert a byte that matters to HTTP
                return splice(b, at, 0, new byte[] {SPECIAL[rnd.nextInt(SPECIAL.length)]});
            }
            case 2 -> {  // delete a few bytes
                return splice(b, at, Math.min(b.length - at, 1 + rnd.nextInt(8)), new byte[0]);
            }
            case 3 -> {  // duplicate a header line
                int[] line = headerLine(b, rnd);
                if (line == null) return b;
                byte[] copy = Arrays.copyOfRange(b, line[0], line[1]);
                return splice(b, line[1], 0, copy);
            }
            case 4 -> {  // add a header line
                int[] line = headerLine(b, rnd);
                int where = line == null ? at : line[0];
                return splice(b, where, 0, RawHttp.bytes(EXTRA_HEADERS[rnd.nextInt(EXTRA_HEADERS.length)] + "\r\n"));
            }
            case 5 -> {  // replace a number by a strange one
                int start = -1;
                for (int k = 0; k < b.length; k++) {
                    int i = (at + k) % b.length;
                    if (b[i] >= '0' && b[i] <= '9') {
                        start = i;
                        break;
                    }
                }
                if (start < 0) return b;
                while (start > 0 && b[start - 1] >= '0' && b[start - 1] <= '9') start--;
                int end = start;
                while (end < b.length && b[end] >= '0' && b[end] <= '9') end++;
                return splice(b, start, end - start, RawHttp.bytes(NUMBERS[rnd.nextInt(NUMBERS.length)]));
            }
            case 6 -> {  // a chunk of random size at a line start
                int where = lineStart(b, at);
                int size = rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(300);
                String data = "d".repeat(Math.max(0, Math.min(size, 300) - rnd.nextInt(3)));
                return splice(b, where, 0, RawHttp.bytes(Integer.toHexString(size) + "\r\n" + data + "\r\n"));
            }
            case 7 -> {  // cut short
                return Arrays.copyOf(b, at);
            }
            case 8 -> {  // repeat a segment, up to past the limits
                int len = 1 + rnd.nextInt(Math.max(1, Math.min(64, b.length - at)));
                len = Math.min(len, b.length - at);
                if (len <= 0) return b;
                int times = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 3000);
                times = Math.min(times, (MAX_CASE_BYTES - b.length) / len);
                if (times <= 0) return b;
                byte[] seg = Arrays.copyOfRange(b, at, at + len);
                ByteArrayOutputStream rep = new ByteArrayOutputStream(len * times);
                for (int t = 0; t < times; t++) rep.writeBytes(seg);
                return splice(b, at, 0, rep.toByteArray());
            }
            case 9 -> {  // change a line end
                int crlf = indexOf(b, RawHttp.bytes("\r\n"), at);
                if (crlf < 0) return b;
                String[] ends = {"\n", "\r", "\n\r", "\r\r\n", "\r\n\r\n", "", " \r\n", "\u0000\r\n"};
                return splice(b, crlf, 2, RawHttp.bytes(ends[rnd.nextInt(ends.length)]));
            }
            case 10 -> {  // a CR, LF or NUL anywhere
                byte[] one = {(byte) switch (rnd.nextInt(3)) { case 0 -> '\r'; case 1 -> '\n'; default -> 0; }};
                return splice(b, at, rnd.nextBoolean() ? 0 : Math.min(1, b.length - at), one);
            }
            default -> {  // replace a byte by any byte
                if (b.length == 0) return b;
                b = b.clone();
                b[at] = (byte) rnd.nextInt(256);
                return b;
            }
        }
    }

    /** Start (inclusive) and end (after its CRLF) of a random header line of the first request, or null. */
    private static int[] headerLine(byte[] b, Random rnd) {
        int first = indexOf(b, RawHttp.bytes("\r\n"), 0);
        int end = indexOf(b, RawHttp.bytes("\r\n\r\n"), 0);
        if (first < 0 || end <= first) return null;
        List<int[]> lines = new ArrayList<>();
        int s = first + 2;
        while (s < end + 2) {
            int e = indexOf(b, RawHttp.bytes("\r\n"), s);
            if (e < 0 || e > end) break;
            lines.add(new int[] {s, e + 2});
            s = e + 2;
        }
        return lines.isEmpty() ? null : lines.get(rnd.nextInt(lines.size()));
    }

    private static int lineStart(byte[] b, int at) {
        int i = Math.min(at, b.length);
        while (i > 0 && b[i - 1] != '\n') i--;
        return i;
    }

    private static int indexOf(byte[] b, byte[] what, int from) {
        outer:
        for (int i = Math.max(0, from); i <= b.length - what.length; i++) {
            for (int j = 0; j < what.length; j++) if (b[i + j] != what[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] r = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, r, 0, at);
        System.arraycopy(insert, 0, r, at, insert.length);
        System.arraycopy(b, at + remove, r, at + insert.length, b.length - at - remove);
        return r;
    }

    private static boolean contains(byte[] b, String s) {
        return indexOf(b, RawHttp.bytes(s), 0) >= 0;
    }

    // ---------------------------------------------------------------- leak checks

    private static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new AssertionError("cannot list /proc/self/fd", e);
        }
    }

    /** Collects garbage and allocates, so the leak detector (which checks on allocation) reports what it found. */
    private static void pollLeakDetector() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            for (int j = 0; j < 16; j++) {
                ByteBuf d = ByteBufAllocator.DEFAULT.directBuffer(16);
                d.release();
                ByteBuf h = ByteBufAllocator.DEFAULT.heapBuffer(16);
                h.release();
            }
        }
    }

    private static void await(String what, long expected, LongSupplier value) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        long v;
        while ((v = value.getAsLong()) != expected) {
            if (System.nanoTime() > end) fail(what + ": " + v + ", expected " + expected);
            Thread.sleep(10);
        }
    }

    private static void awaitAtMost(String what, long max, LongSupplier value) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        long v;
        while ((v = value.getAsLong()) > max) {
            if (System.nanoTime() > end) fail(what + ": " + v + ", expected at most " + max);
            Thread.sleep(10);
        }
    }
}
