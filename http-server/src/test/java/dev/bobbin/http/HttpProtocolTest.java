package dev.bobbin.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.bobbin.http.RawHttp.Conn;
import dev.bobbin.http.RawHttp.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.logging.Level;

import static dev.bobbin.http.RawHttp.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Bobbin's HTTP/1.1 wire behaviour, driven over raw sockets: request-line and header syntax, message
 * framing, limits, timeouts, connection limits, 100-continue, failing handlers, and the protocol basics
 * (HTTP/1.0, pipelining, chunked request bodies, HEAD, absolute-form targets, Date). Every rejection must
 * be a complete response with Connection: close and a Content-Length, after which the server closes.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HttpProtocolTest {
    private static final int BIG_RESPONSE_BYTES = 32 << 20;
    /** Handler invocations on every server of this class (tests run one at a time). */
    private static final AtomicInteger CALLS = new AtomicInteger();

    private static RawHttp.LogCapture serverLog;
    private static BobbinHttpServer shared;
    private final List<BobbinHttpServer> own = new ArrayList<>();

    @BeforeAll
    static void startShared() throws IOException {
        // failing handlers are part of these tests: the server's log about them stays off the console
        serverLog = new RawHttp.LogCapture("dev.bobbin.http", Level.INFO);
        shared = start(HttpServerOptions.builder().build());
    }

    @AfterAll
    static void stopShared() {
        if (shared != null) shared.stop(0);
        if (serverLog != null) serverLog.close();
    }

    @AfterEach
    void afterEach() throws InterruptedException {
        for (BobbinHttpServer s : own) s.stop(0);
        own.clear();
        // every test closes its client sockets: the shared server must forget them
        awaitValue("shared server's open connections", 0, () -> shared.activeConnections(), 10_000);
    }

    // ---------------------------------------------------------------- request line

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /", "GET", "/ HTTP/1.1", "GET  / HTTP/1.1", "GET /  HTTP/1.1", "GET / HTTP/1.1 ", " GET / HTTP/1.1",
            "GET / HTTP/1.1 extra", "G@T / HTTP/1.1", "GE(T / HTTP/1.1", "G{T / HTTP/1.1", "GE\"T / HTTP/1.1",
            "GET / HTTP/1.x", "GET / HTTP/1", "GET / HTTP/1.", "GET / HTTP/x.1", "GET / http/1.1", "GET / HTTP/1.1.1",
            "GET / HTTX/1.1", "GET / HTTP 1.1"})
    void malformedRequestLineIs400(String requestLine) throws IOException {
        rejects(port(), requestLine + "\r\nHost: localhost\r\n\r\n", 400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/2.0", "HTTP/3.0", "HTTP/0.9"})
    void versionWithMajorOtherThanOneIs505(String version) throws IOException {
        rejects(port(), "GET / " + version + "\r\nHost: localhost\r\n\r\n", 505);
    }

    @Test
    void requestLineLongerThanTheDefaultMaximumIs414() throws IOException {
        try (Conn c = connect(port())) {
            c.sendQuietly(RawHttp.bytes("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            c.expectRejection(414);
        }
        assertEquals(200, get(port(), "/" + "b".repeat(4000)).status());
    }

    @Test
    void requestLineLongerThanAConfiguredMaximumIs414() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxRequestLineBytes(256).build()));
        try (Conn c = connect(p)) {
            c.send("GET /" + "a".repeat(300) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            c.expectRejection(414);
        }
        assertEquals(200, get(p, "/" + "a".repeat(200)).status());
    }

    @Test
    void theRequestLineLimitIsTheSameWhateverEndsTheLine() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxRequestLineBytes(256).build()));
        String atLimit = "GET /" + "a".repeat(256 - 14) + " HTTP/1.1";
        String overLimit = "GET /" + "a".repeat(257 - 14) + " HTTP/1.1";
        for (String eol : List.of("\r\n", "\n")) {
            try (Conn c = connect(p)) {
                c.send(atLimit + eol + "Host: localhost" + eol + eol);
                assertOk(c.read());
            }
            try (Conn c = connect(p)) {
                c.sendQuietly(RawHttp.bytes(overLimit + eol + "Host: localhost" + eol + eol));
                c.expectRejection(414);
            } catch (AssertionError e) {
                throw new AssertionError("a " + overLimit.length() + "-byte request line ended by " + RawHttp.show(eol)
                        + ": " + e.getMessage(), e);
            }
        }
    }

    // ---------------------------------------------------------------- header block limits

    @Test
    void headerBlockLongerThanTheDefaultMaximumIs431() throws IOException {
        StringBuilder h = new StringBuilder();
        for (int i = 0; i < 70; i++) h.append("X-Fill-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
        try (Conn c = connect(port())) {
            c.sendQuietly(RawHttp.bytes("GET / HTTP/1.1\r\nHost: localhost\r\n" + h + "\r\n"));
            c.expectRejection(431);
        }
    }

    @Test
    void headerBlockLongerThanAConfiguredMaximumIs431() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxHeaderBytes(1024).build()));
        try (Conn c = connect(p)) {
            c.sendQuietly(RawHttp.bytes("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "v".repeat(2048) + "\r\n\r\n"));
            c.expectRejection(431);
        }
        try (Conn c = connect(p)) {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\nX-Small: " + "v".repeat(500) + "\r\n\r\n");
            assertOk(c.read());
        }
    }

    @Test
    void theHeaderBlockLimitIsTheSameWhateverEndsTheLines() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxHeaderBytes(256).build()));
        // counted as if each field line ended with CRLF: "Host: localhost" 15 + 2, "X-Pad: " 7 + pad + 2
        int atLimit = 256 - 17 - 9;
        for (String eol : List.of("\r\n", "\n")) {
            for (int pad : List.of(atLimit, atLimit + 1)) {
                String head = "GET / HTTP/1.1" + eol + "Host: localhost" + eol + "X-Pad: " + "v".repeat(pad) + eol + eol;
                try (Conn c = connect(p)) {
                    if (pad == atLimit) {
                        c.send(head);
                        assertOk(c.read());
                    } else {
                        c.sendQuietly(RawHttp.bytes(head));
                        c.expectRejection(431);
                    }
                } catch (AssertionError e) {
                    throw new AssertionError("a header block " + (pad - atLimit) + " byte(s) over the limit, lines ended by "
                            + RawHttp.show(eol) + ": " + e.getMessage(), e);
                }
            }
        }
    }

    @Test
    void aHeaderBlockPastTheLimitIs431BeforeItsEndArrives() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxHeaderBytes(256).build()));
        try (Conn c = connect(p)) {
            // no empty line follows: the server must not wait for one (the header-read timeout is 30 s)
            c.sendQuietly(RawHttp.bytes("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "v".repeat(300)));
            c.expectRejection(431);
        }
    }

    @Test
    void twoHundredHeaderFieldsAreServedAndTwoHundredOneAre431() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n" + fields(199) + "\r\n");
            assertOk(c.read());
        }
        try (Conn c = connect(port())) {
            c.sendQuietly(RawHttp.bytes("GET / HTTP/1.1\r\nHost: localhost\r\n" + fields(200) + "\r\n"));
            c.expectRejection(431);
        }
    }

    private static String fields(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append("X-F").append(i).append(": ").append(i).append("\r\n");
        return sb.toString();
    }

    // ---------------------------------------------------------------- body framing

    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {
            "Content-Length: 5\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: chunked\r\nContent-Length: 5",
            "Content-Length: 5\r\nContent-Length: 5",
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length: 5, 5",
            "Content-Length: -1", "Content-Length: +5", "Content-Length: abc", "Content-Length: ",
            "Content-Length: 99999999999999999999", "Content-Length: 0x5", "Content-Length: 5a", "Content-Length: 1e3",
            "Transfer-Encoding: gzip", "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: chunked, chunked",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "Transfer-Encoding: identity"})
    void conflictingOrInvalidFramingIs400(String framing) throws IOException {
        rejects(port(), "POST / HTTP/1.1\r\nHost: localhost\r\n" + framing + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400);
    }

    @Test
    void unsupportedCodingBeforeChunkedIs501() throws IOException {
        try (Conn c = connect(port())) {
            c.sendQuietly(RawHttp.bytes("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n"));
            c.expectRejection(501);
        }
    }

    @Test
    void transferEncodingOnHttp10Is400() throws IOException {
        try (Conn c = connect(port())) {
            c.sendQuietly(RawHttp.bytes("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
            c.expectRejection(400);
        }
    }

    // ---------------------------------------------------------------- header syntax

    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n",          // obs-fold, space
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n\tb\r\n\r\n",         // obs-fold, tab
            "GET / HTTP/1.1\r\n X-A: a\r\nHost: localhost\r\n\r\n",               // whitespace before the first field
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A : a\r\n\r\n",               // space before the colon
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A\t: a\r\n\r\n",              // tab before the colon
            "GET / HTTP/1.1\r\nHost : localhost\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX@A: a\r\n\r\n",                // name characters outside tchar
            "GET / HTTP/1.1\r\nHost: localhost\r\nX(A): a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX A: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX\u00e9A: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\n: a\r\n\r\n",                   // empty name
            "GET / HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0000b\r\n\r\n",         // CTLs in a value
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0001b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u007fb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u001fb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n\r\n",             // bare CR in a value
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\r\n\r\n",              // bare CR before CRLF
            "GET / HTTP/1.1\rHost: localhost\r\n\r\n",                            // bare CR after the request line
            "GET /a\rb HTTP/1.1\r\nHost: localhost\r\n\r\n",                      // bare CR in the target
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n\r\r\n"})             // bare CR in the final empty line
    void badHeaderSyntaxIs400(String request) throws IOException {
        rejects(port(), request, 400);
    }

    /**
     * Empty lines before a request are skipped (RFC 9112 section 2.2), but a bare CR there is no empty line: it
     * is invalid (a bare CR is, section 2.2), a 400. Dropped silently, it would let {@code "\rGET /admin"} pass
     * a party that reads the method as {@code "\rGET"} (as the JDK's provider does) and reach the handler as
     * a GET.
     */
    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {"\rGET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "\r\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "\r\n\rGET / HTTP/1.1\r\nHost: localhost\r\n\r\n"})
    void aBareCrBeforeTheRequestLineIs400(String request) throws IOException {
        rejects(port(), request, 400);
        try (Conn c = connect(port())) {                 // after a request on the same connection
            c.sendQuietly(RawHttp.bytes("GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n" + request));
            assertTrue(assertOk(c.read()).contains("path=/first"));
            c.expectRejection(400);
        }
    }

    /** Empty lines before a request, CRLF or bare LF, are skipped, also when a CRLF's CR and LF arrive apart. */
    @Test
    void emptyLinesBeforeARequestAreSkipped() throws Exception {
        try (Conn c = connect(port())) {
            c.send("\r\n\n\r\nGET /e1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/e1"));
            c.send("\r\n\r\nGET /e2 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/e2"));
        }
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().build());
        OneBytePerSegmentWire wire = new OneBytePerSegmentWire("\r\n\r\nGET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"
                + "\r\nGET /x/2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        s.core().serveForTest(wire);
        assertTrue(wire.closed.await(10, TimeUnit.SECONDS), "the connection was never closed");
        String written = wire.written.toString();
        assertTrue(written.startsWith("HTTP/1.1 200") && written.endsWith("method=GET path=/x/2 ctx=/x body="), RawHttp.show(written));
    }

    @Test
    void tabInAHeaderValueIsAccepted() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /tab HTTP/1.1\r\nHost: localhost\r\nX-A: a\tb\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/tab"));
        }
    }

    @Test
    void bareLfLineEndsAreAccepted() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /lf HTTP/1.1\nHost: localhost\nX-A: b\n\n");
            assertTrue(assertOk(c.read()).contains("path=/lf"));
            c.send("POST /lf2 HTTP/1.1\nHost: localhost\nContent-Length: 3\n\nabc");
            String body = assertOk(c.read());
            assertTrue(body.contains("path=/lf2") && body.contains("body=abc"), body);
        }
    }

    @Test
    void http11WithoutHostIs400() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
            c.expectRejection(400);
        }
    }

    @Test
    void twoHostFieldsAre400() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n");
            c.expectRejection(400);
        }
    }

    /**
     * A Host whose value is no {@code uri-host [ ":" port ]} is a 400 (RFC 9112 section 3.2, a MUST), on
     * HTTP/1.0 too: a party routing by the authority and a handler reading this field must not disagree on it
     * (a value with whitespace, a path or userinfo, or two hosts joined by a proxy that merged two fields).
     * Deliberately stricter than the JDK's provider, which checks no Host at all.
     */
    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {"a b", "good, evil", "good.example/evil", "user@good", "good:80:80", "good:8x", "[::1",
            "[::1]x", "a\"b", "a<b", "a\\b", "a%zz", "a%2", "a{b}"})
    void invalidHostIs400(String host) throws IOException {
        rejects(port(), "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 400);
        rejects(port(), "GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n", 400);
    }

    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {"", "localhost", "localhost:8080", "localhost:", "127.0.0.1:1", "[::1]", "[::1]:80",
            "[v1.x]", "a-b.c_d~e", "a%20b", "a!$&'()*+,;=b"})
    void validHostIsServed(String host) throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /host HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/host"));
        }
    }

    /**
     * An IPv6 literal with a zone id is served: the JDK's own clients send one for a link-local URL
     * ({@code http://[fe80::1%eth0]:8080/} gives {@code Host: [fe80::1%eth0]:8080} from both
     * {@code HttpClient} and {@code HttpURLConnection}; {@code [fe80::1%1]} gives {@code [fe80::1%251]} from
     * {@code HttpClient}), as RFC 6874 writes one ({@code %25}), and the JDK's provider serves them all.
     */
    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {"[fe80::1%eth0]:8080", "[fe80::1%251]:8080", "[fe80::1%25eth0]", "[::1%lo]"})
    void anIpv6HostWithAZoneIdIsServed(String host) throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /host HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/host"));
        }
    }

    @Test
    void http10WithoutHostIsServed() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /ten HTTP/1.0\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/ten"));
        }
    }

    // ---------------------------------------------------------------- request body limits

    @Test
    void contentLengthAboveTheMaximumIs413BeforeTheHandlerRuns() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxRequestBodyBytes(1000).build()));
        int before = CALLS.get();
        try (Conn c = connect(p)) {
            c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n");
            c.expectRejection(413);
        }
        assertEquals(before, CALLS.get(), "the handler ran for a request whose body is above the maximum");
        try (Conn c = connect(p)) {  // exactly the maximum is allowed
            c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n" + "z".repeat(1000));
            assertTrue(assertOk(c.read()).contains("body=" + "z".repeat(1000)));
        }
    }

    @Test
    void chunkedBodyGrowingPastTheMaximumIs413() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxRequestBodyBytes(1000).build()));
        try (Conn c = connect(p)) {
            String chunk = "258\r\n" + "q".repeat(600) + "\r\n";
            c.sendQuietly(RawHttp.bytes("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunk + chunk + chunk + "0\r\n\r\n"));
            c.expectRejection(413);
        }
        try (Conn c = connect(p)) {
            c.send("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + "q".repeat(600) + "\r\n0\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("body=" + "q".repeat(600)));
        }
    }

    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {"zz\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n",
            "\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX\r\n0\r\n\r\n"})
    void malformedChunkIs400(String body) throws IOException {
        rejects(port(), "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 400);
    }

    /**
     * The trailer section is field lines (RFC 9112 section 7.1.2), held to the header section's syntax: a line
     * that is no field line is a 400, not a trailer dropped unread. Above all a request line there: a party
     * that ends the body at the last chunk's line would take it for the next request, while a server dropping
     * it as a trailer reads the request after it instead (a desync). Stricter than the JDK's provider only in
     * accepting trailers at all (it refuses any): what it accepts here, valid fields, is still served. The
     * trailer section's lines end with CRLF only, as chunk lines do: a bare LF there is a 400 (unlike in the
     * head, where RFC 9112 section 2.2 lets it end a line), since the section's end is the message's end.
     */
    @ParameterizedTest(name = "[{index}]")
    @ValueSource(strings = {
            "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n",   // a request line: no colon
            "NoColon\r\n\r\n",
            "X-T : v\r\n\r\n",                                       // whitespace before the colon
            "X-T\t: v\r\n\r\n",
            "X-T: v\r\n folded\r\n\r\n",                           // obs-fold
            " X-T: v\r\n\r\n",
            ": v\r\n\r\n",                                           // empty name
            "X@T: v\r\n\r\n",                                        // name characters outside tchar
            "X-T: a\u0001b\r\n\r\n",                                // CTLs in a value
            "X-T: a\u007fb\r\n\r\n",
            "\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n",            // a bare LF ending the trailer section
            "X-T: v\n\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"})   // and a trailer line
    void malformedTrailerIs400(String trailers) throws IOException {
        rejects(port(), "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
                + trailers, 400);
    }

    /**
     * A handler that lets its read's 400 through has not failed: the client sent a bad body. The client
     * gets the 400, and the server logs no WARNING (as for a handler failure), only a DEBUG line.
     */
    @Test
    void aHandlerPassingOnItsBodysVerdictIsNoHandlerFailure() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().build()));   // a fresh failure log: its first WARNING is not rate-limited
        serverLog.records.clear();
        rejects(p, "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400);
        assertEquals(List.of(), serverLog.atLeast(Level.WARNING));
        try (Conn c = connect(p)) {                      // a real handler failure still warns
            c.send("GET /throw-early HTTP/1.1\r\nHost: localhost\r\n\r\n");
            c.expectRejection(500);
        }
        assertEquals(1, serverLog.atLeast(Level.WARNING).size(), serverLog.atLeast(Level.WARNING).toString());
    }

    // ---------------------------------------------------------------- timeouts

    @Test
    void slowSenderGets408() throws Exception {
        int p = port(startOwn(HttpServerOptions.builder().headerReadTimeout(Duration.ofMillis(500)).build()));
        try (Conn c = connect(p)) {
            long start = System.nanoTime();
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
            Thread trickle = Thread.ofPlatform().daemon().name("slow-sender").start(() -> {
                long end = System.nanoTime() + 15_000_000_000L;
                while (System.nanoTime() < end && c.sendQuietly(new byte[] {'a'})) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                c.expectRejection(408);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms >= 400, "408 after " + ms + " ms, before the 500 ms header timeout");
                assertTrue(ms < 4_000, "408 only after " + ms + " ms with a 500 ms header timeout");
            } finally {
                trickle.interrupt();
                trickle.join();
            }
        }
    }

    /**
     * A 408 whose write waits (a client that sends part of a head and reads nothing while earlier
     * responses fill its socket) must not hold up the server's other timeouts: an idle connection beside
     * it is still closed, and the waiting 408 itself is given up at the io timeout. The waiting write is
     * scripted (a wire whose writes wait until it is closed), since how many bytes a real socket takes
     * before a write waits depends on the kernel's buffer tuning.
     */
    @Test
    void a408ThatCannotBeWrittenHoldsUpNoOtherTimeout() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().headerReadTimeout(Duration.ofMillis(200))
                .idleTimeout(Duration.ofMillis(300)).ioTimeout(Duration.ofSeconds(2)).build());
        ScriptedWire stuck = new ScriptedWire("GET / HTTP/1.1\r\nHost: loc", true);
        s.core().serveForTest(stuck);
        assertTrue(stuck.writeStarted.await(10, TimeUnit.SECONDS), "the sweeper never started the 408");
        assertTrue(stuck.written.startsWith("HTTP/1.1 408"), "first bytes written: " + stuck.written);
        try (Conn idle = connect(port(s))) {
            idle.assertClosed();                     // the sweeper, not waiting on the 408, closes it
        }
        assertTrue(stuck.closed.await(10, TimeUnit.SECONDS), "the waiting 408 was never given up");
        awaitValue("open connections after both closed", 0, s::activeConnections, 10_000);
    }

    /**
     * A response that cannot be flushed (a client that reads nothing) must not keep its connection open:
     * the closing flush of a {@code Connection: close} exchange is bounded by the io timeout. Scripted as
     * above: how much a real socket takes before its flush waits depends on the kernel's buffers.
     */
    @Test
    void aClosingFlushThatCannotCompleteIsGivenUpAtTheIoTimeout() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().ioTimeout(Duration.ofMillis(500)).build());
        ScriptedWire stuck = new ScriptedWire("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", false);
        s.core().serveForTest(stuck);
        assertTrue(stuck.closed.await(10, TimeUnit.SECONDS), "the closing flush was never given up");
        assertTrue(stuck.written.startsWith("HTTP/1.1 200"), "bytes written: " + stuck.written);
        awaitValue("open connections after the close", 0, s::activeConnections, 10_000);
    }

    /**
     * A head that arrives one byte per segment is parsed and served like one that arrives whole: the bytes
     * are appended to a merge buffer that grows by doubling (once per doubling, not once per segment).
     * Scripted, since a real socket would coalesce the segments.
     */
    @Test
    void aHeadArrivingOneBytePerSegmentIsServed() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().build());
        String head = "POST /x HTTP/1.1\r\nHost: localhost\r\nX-Long: " + "v".repeat(20_000)
                + "\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody";
        OneBytePerSegmentWire wire = new OneBytePerSegmentWire(head);
        s.core().serveForTest(wire);
        assertTrue(wire.closed.await(10, TimeUnit.SECONDS), "the connection was never closed");
        assertTrue(wire.written.toString().startsWith("HTTP/1.1 200"), "bytes written: " + RawHttp.show(wire.written.toString()));
        assertTrue(wire.written.toString().endsWith("method=POST path=/x ctx=/x body=body"), RawHttp.show(wire.written.toString()));
    }

    /**
     * The same with a head far larger than the default limits allow, under limits configured for it: the
     * merge buffer still doubles until it holds the largest head the limits allow. Were its growth capped
     * below that, every segment past the cap would copy the whole head so far: quadratic in the head's size
     * (here some 10^12 bytes copied, where doubling copies a few MiB), a CPU flood any client can send.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aHeadFarAboveTheDefaultLimitsArrivingOneBytePerSegmentIsServed() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().maxHeaderBytes(4 << 20)
                .headerReadTimeout(Duration.ofMinutes(10)).build());
        String head = "POST /x HTTP/1.1\r\nHost: localhost\r\nX-Long: " + "v".repeat(2 << 20)
                + "\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody";
        OneBytePerSegmentWire wire = new OneBytePerSegmentWire(head);
        s.core().serveForTest(wire);
        assertTrue(wire.closed.await(100, TimeUnit.SECONDS), "the connection was never closed");
        assertTrue(wire.written.toString().startsWith("HTTP/1.1 200"), "bytes written: " + RawHttp.show(wire.written.toString()));
        assertTrue(wire.written.toString().endsWith("method=POST path=/x ctx=/x body=body"), RawHttp.show(wire.written.toString()));
    }

    /** A wire that delivers its script one byte per receive, then end of stream; writes are kept. */
    private static final class OneBytePerSegmentWire implements Wire {
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        final StringBuffer written = new StringBuffer();
        private final byte[] script;
        private int next;

        OneBytePerSegmentWire(String script) {
            this.script = script.getBytes(StandardCharsets.ISO_8859_1);
        }

        @Override public synchronized io.netty.buffer.ByteBuf receive() {
            if (next == script.length) return null;
            return io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {script[next++]});
        }
        @Override public void write(io.netty.buffer.ByteBuf buf) {
            written.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        @Override public void flush() { }
        @Override public void shutdownOutput() { }
        @Override public void close() { closed.countDown(); }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 1); }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 2); }
    }

    /**
     * A wire with bytes to read once (then nothing until closed) whose flushes, and with
     * {@code writesWait} its writes too, wait until it is closed: a client that reads nothing.
     */
    private static final class ScriptedWire implements Wire {
        final java.util.concurrent.CountDownLatch writeStarted = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        volatile String written = "";
        private volatile String toRead;
        private final boolean writesWait;

        ScriptedWire(String toRead, boolean writesWait) {
            this.toRead = toRead;
            this.writesWait = writesWait;
        }

        @Override public io.netty.buffer.ByteBuf receive() throws IOException {
            String head = toRead;
            toRead = null;
            if (head != null) return io.netty.buffer.Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1);
            awaitClose();
            throw new java.nio.channels.ClosedChannelException();
        }

        @Override public void write(io.netty.buffer.ByteBuf buf) throws IOException {
            written += buf.toString(StandardCharsets.ISO_8859_1);
            buf.release();
            writeStarted.countDown();
            if (!writesWait) return;
            awaitClose();
            throw new java.nio.channels.AsynchronousCloseException();
        }

        @Override public void flush() throws IOException {
            awaitClose();
            throw new java.nio.channels.AsynchronousCloseException();
        }
        @Override public void shutdownOutput() { }
        @Override public void close() { closed.countDown(); }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 1); }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), 2); }

        private void awaitClose() throws IOException {
            try {
                closed.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosedWithoutAResponse() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().idleTimeout(Duration.ofMillis(300)).build()));
        try (Conn c = connect(p)) {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Response r = c.read();
            assertOk(r);
            assertFalse(r.closes(), "a plain HTTP/1.1 request should keep the connection open");
            long start = System.nanoTime();
            c.assertClosed();
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 200, "closed after " + ms + " ms, well before the 300 ms idle timeout");
            assertTrue(ms < 4_000, "closed only after " + ms + " ms with a 300 ms idle timeout");
        }
    }

    @Test
    void clientThatNeverReadsIsDisconnectedAfterTheIoTimeout() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().ioTimeout(Duration.ofMillis(500)).build());
        try (Conn c = connect(port(s), RawHttp.DEFAULT_TIMEOUT_MILLIS, 4096)) {
            c.send("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n");
            awaitValue("open connections while the response is stuck", 1, s::activeConnections, 5_000);
            awaitValue("open connections after the io timeout", 0, s::activeConnections, 10_000);
            long got = c.drainToEnd();
            assertTrue(got < BIG_RESPONSE_BYTES, "the client received the whole response, the write never blocked");
        }
        assertEquals(200, get(port(s), "/").status());
    }

    // ---------------------------------------------------------------- connection limit

    /**
     * A flood of connections over the limit: each refused one is answered and lingers for a moment, but
     * never more than {@link HttpTunables#MAX_LINGERING_REFUSALS} at once; the rest are closed at once,
     * so the flood cannot hold more descriptors and fibers than that.
     */
    @Test
    void aFloodOfRefusedConnectionsLingersAtMostUpToTheCap() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().maxConnections(1).build());
        int p = port(s);
        int flood = HttpTunables.MAX_LINGERING_REFUSALS + 100;
        List<java.net.Socket> extra = new ArrayList<>();
        try (Conn first = connect(p)) {
            first.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertOk(first.read());                     // the one allowed connection stays open
            for (int i = 0; i < flood; i++) extra.add(new java.net.Socket("127.0.0.1", p));   // never send, never close
            awaitValue("refused connections", flood, () -> (int) s.stats().refusedConnections(), 10_000);
            int lingering = s.lingeringRefusals();
            assertTrue(lingering > 0, "refused connections are answered and linger");
            assertTrue(lingering <= HttpTunables.MAX_LINGERING_REFUSALS, "lingering refusals: " + lingering);
        } finally {
            for (java.net.Socket x : extra) x.close();
        }
        awaitValue("lingering refusals after the clients left", 0, s::lingeringRefusals, 10_000);
    }

    @Test
    @SuppressWarnings("try")   // closes a resource inside its try on purpose
    void connectionAboveTheMaximumGets503() throws Exception {
        BobbinHttpServer s = startOwn(HttpServerOptions.builder().maxConnections(2).build());
        int p = port(s);
        try (Conn a = connect(p); Conn b = connect(p)) {
            for (Conn c : List.of(a, b)) {
                c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertOk(c.read());
            }
            try (Conn third = connect(p)) {
                third.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                third.expectRejection(503);
            }
            a.close();
            awaitValue("open connections after one closed", 1, s::activeConnections, 5_000);
            try (Conn c = connect(p)) {
                c.send("GET /again HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(assertOk(c.read()).contains("path=/again"));
            }
            b.send("GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(assertOk(b.read()).contains("path=/b"));
        }
    }

    // ---------------------------------------------------------------- Expect: 100-continue

    @Test
    void expectContinueGetsTheInterimResponseBeforeTheBodyIsSent() throws IOException {
        try (Conn c = connect(port())) {
            c.send("POST /cont HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            Response interim = c.read();   // the body is not sent yet: this read fails if the server waits for it
            assertNotNull(interim, "connection closed instead of 100 Continue");
            assertEquals(100, interim.status(), interim.describe());
            c.send("hello");
            String body = assertOk(c.read());
            assertTrue(body.contains("path=/cont") && body.contains("body=hello"), body);
        }
    }

    @Test
    void expectContinueWithABodyAboveTheMaximumIs413WithoutContinue() throws IOException {
        int p = port(startOwn(HttpServerOptions.builder().maxRequestBodyBytes(1000).build()));
        int before = CALLS.get();
        try (Conn c = connect(p)) {
            c.send("POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
            c.expectRejection(413);  // fails on a 100 Continue first
        }
        assertEquals(before, CALLS.get(), "the handler ran for a request whose body is above the maximum");
    }

    // ---------------------------------------------------------------- failing handlers

    @Test
    void handlerThrowingBeforeTheHeadersGives500() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /throw-early HTTP/1.1\r\nHost: localhost\r\n\r\n");
            c.expectRejection(500);
        }
        assertEquals(200, get(port(), "/").status());
    }

    @Test
    void handlerThrowingAfterTheHeadersClosesTheConnection() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /throw-late HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Response head = c.read(h -> RawHttp.Body.NONE);
            assertNotNull(head, "connection closed before the response head");
            assertEquals(200, head.status(), head.describe());
            assertEquals("10", head.header("Content-Length"), head.describe());
            long body = c.drainToEnd();  // fails on a read timeout: the server must close, not hang
            assertTrue(body < 10, "got " + body + " body bytes of a response whose handler wrote 3 and failed");
        }
        assertEquals(200, get(port(), "/").status());
    }

    // ---------------------------------------------------------------- protocol basics

    @Test
    void http10IsAnsweredWithHttp11AndClosed() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /old HTTP/1.0\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/old"));  // the parser accepts only an HTTP/1.1 status line
            c.assertClosed();
        }
    }

    @Test
    void http10KeepAliveKeepsTheConnection() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Response r = c.read();
            assertTrue(assertOk(r).contains("path=/k1"));
            assertFalse(r.closes(), r.describe());
            c.send("GET /k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/k2"));
        }
    }

    /**
     * {@code close} among the connection options ends the connection whatever else they say (RFC 9112
     * section 9.3: close is checked first), on HTTP/1.0 as on HTTP/1.1 (where a {@code keep-alive, close}
     * list already closes).
     */
    @Test
    void http10CloseAmongTheConnectionOptionsClosesDespiteKeepAlive() throws IOException {
        for (String request : new String[] {
                "GET /c1 HTTP/1.0\r\nConnection: Keep-Alive, Close\r\n\r\n",
                "GET /c2 HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"}) {
            try (Conn c = connect(port())) {
                c.send(request);
                Response r = c.read();
                assertOk(r);
                assertTrue(r.closes(), r.describe());
                c.assertClosed();
            }
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET /p1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "POST /p2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /p3 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(assertOk(c.read()).startsWith("method=GET path=/p1 "));
            String second = assertOk(c.read());
            assertTrue(second.startsWith("method=POST path=/p2 ") && second.endsWith("body=abc"), second);
            assertTrue(assertOk(c.read()).startsWith("method=GET path=/p3 "));
        }
    }

    @Test
    void chunkedRequestBodyIsDecoded() throws IOException {
        try (Conn c = connect(port())) {
            c.send("POST /chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;name=value\r\nhello\r\n6;a;b=\"q\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n");
            String body = assertOk(c.read());
            assertTrue(body.endsWith("body=hello world0123456789"), body);
            c.send("GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n");  // the trailers were consumed
            assertTrue(assertOk(c.read()).contains("path=/after"));
        }
    }

    @Test
    void headGetsTheHeadOnly() throws IOException {
        try (Conn c = connect(port())) {
            c.send("HEAD /h HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Response r = c.readHead();
            assertNotNull(r);
            assertEquals(200, r.status(), r.describe());
            r.assertDate();
            // a body after the head would be read as the next status line
            c.send("GET /afterhead HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(assertOk(c.read()).contains("path=/afterhead"));
        }
    }

    @Test
    void absoluteFormTargetRoutesByItsPath() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET http://localhost/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
            String body = assertOk(c.read());
            assertTrue(body.contains("path=/x ctx=/x "), body);
        }
    }

    @Test
    void everyResponseHasADate() throws IOException {
        try (Conn c = connect(port())) {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            c.read().assertDate();
        }
        try (Conn c = connect(port())) {
            c.send("GET / HTTP/9.9\r\nHost: localhost\r\n\r\n");
            c.expectRejection(505).assertDate();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static BobbinHttpServer start(HttpServerOptions options) throws IOException {
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0, options);
        s.createContext("/", HttpProtocolTest::echo);
        s.createContext("/x", HttpProtocolTest::echo);
        s.createContext("/throw-early", ex -> {
            CALLS.incrementAndGet();
            throw new IllegalStateException("handler failure the test asked for");
        });
        s.createContext("/throw-late", ex -> {
            CALLS.incrementAndGet();
            ex.sendResponseHeaders(200, 10);
            OutputStream out = ex.getResponseBody();
            out.write(new byte[] {'a', 'b', 'c'});
            out.flush();
            throw new IllegalStateException("handler failure the test asked for");
        });
        s.createContext("/big", big());
        s.start();
        return s;
    }

    private BobbinHttpServer startOwn(HttpServerOptions options) throws IOException {
        BobbinHttpServer s = start(options);
        own.add(s);
        return s;
    }

    /** Answers 200 with {@code method=M path=P ctx=C body=B} (no body for HEAD). */
    private static void echo(HttpExchange ex) throws IOException {
        CALLS.incrementAndGet();
        byte[] in = ex.getRequestBody().readAllBytes();
        String text = "method=" + ex.getRequestMethod() + " path=" + ex.getRequestURI().getPath()
                + " ctx=" + ex.getHttpContext().getPath() + " body=" + new String(in, StandardCharsets.ISO_8859_1);
        byte[] out = text.getBytes(StandardCharsets.ISO_8859_1);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(200, -1);
        } else {
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        }
        ex.close();
    }

    private static HttpHandler big() {
        return ex -> {
            CALLS.incrementAndGet();
            ex.sendResponseHeaders(200, BIG_RESPONSE_BYTES);
            byte[] block = new byte[64 * 1024];
            try (OutputStream out = ex.getResponseBody()) {
                for (int sent = 0; sent < BIG_RESPONSE_BYTES; sent += block.length) out.write(block);
            }
        };
    }

    private static int port() {
        return port(shared);
    }

    private static int port(BobbinHttpServer s) {
        return s.getAddress().getPort();
    }

    /** Sends {@code request} on a new connection and expects the complete rejection {@code status}, then the close. */
    private static void rejects(int port, String request, int status) throws IOException {
        try (Conn c = connect(port)) {
            c.sendQuietly(RawHttp.bytes(request));
            c.expectRejection(status);
        } catch (AssertionError e) {
            throw new AssertionError("request " + RawHttp.show(request) + ": " + e.getMessage(), e);
        }
    }

    /** A GET on a new connection; the response must be complete and well-formed. */
    private static Response get(int port, String path) throws IOException {
        try (Conn c = connect(port)) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Response r = c.read();
            assertNotNull(r, "connection closed without a response");
            return r;
        }
    }

    /** Checks a 200 from the echo handler with a Date header; returns its body. */
    private static String assertOk(Response r) {
        assertNotNull(r, "connection closed without a response");
        assertEquals(200, r.status(), r.describe());
        r.assertDate();
        return r.bodyText();
    }

    private static void awaitValue(String what, int expected, IntSupplier value, long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        int v;
        while ((v = value.getAsInt()) != expected) {
            if (System.nanoTime() > end) fail(what + ": " + v + ", expected " + expected + " within " + timeoutMillis + " ms");
            Thread.sleep(10);
        }
    }
}
