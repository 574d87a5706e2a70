package dev.bobbin.http;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.Request;
import com.sun.net.httpserver.spi.HttpServerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The {@code com.sun.net.httpserver} contract, checked in the same way against the JDK's own provider
 * (the control) and against Bobbin's {@code BobbinHttpServerProvider}. Every check passes on the JDK
 * provider; a check that passes there and fails on Bobbin is a conformance bug in Bobbin, except where a
 * check names one of the deliberate differences below ({@link #HANDLER_FAILURE_ANSWERS_500},
 * {@link #REJECTS_AMBIGUOUS_REQUESTS}, {@link #NO_CONTINUE_BEFORE_A_REFUSAL},
 * {@link #ATTRIBUTES_PER_EXCHANGE}, {@link #THREE_DIGIT_STATUS_CODES}, {@link #REJECTING_EXECUTOR_ANSWERS_503}).
 *
 * <p>Wire-level checks use a raw {@link Socket} and a small response parser ({@link Conn}); the others use
 * {@link HttpClient} on HTTP/1.1. Handlers never assert: they record what they saw (futures, queues) and the
 * test thread asserts, so a failing check cannot kill a server thread or print a stack trace.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("providers")
@Timeout(value = 20, unit = SECONDS)
class HttpServerConformanceTest {
    /** The JDK's provider; it lives in a package javac cannot export under --release, so it is loaded by name. */
    static final String JDK_PROVIDER = "sun.net.httpserver.DefaultHttpServerProvider";
    static final String BOBBIN_PROVIDER = "dev.bobbin.http.BobbinHttpServerProvider";

    /**
     * Deliberate difference: when a handler throws before sending response headers, Bobbin answers
     * {@code 500} and closes the connection; the JDK closes the connection without a response.
     */
    static final String HANDLER_FAILURE_ANSWERS_500 = "handler failure before headers answers 500";

    /**
     * Deliberate difference: Bobbin answers {@code 400} and closes the connection for a request whose
     * framing or routing is ambiguous: obs-fold (a header line continued on the next line) and an HTTP/1.1
     * request without Host. The JDK accepts those. (Content-Length together with Transfer-Encoding, a
     * repeated Content-Length, and a bare CR in a header line are rejected with 400 by both.)
     */
    static final String REJECTS_AMBIGUOUS_REQUESTS = "ambiguous request framing answers 400 and closes";

    /**
     * Deliberate difference: for a request with {@code Expect: 100-continue}, Bobbin sends
     * {@code 100 Continue} only when the handler reads the body or answers with a status below 400; a
     * handler that refuses (4xx, 5xx) before reading gets its answer out without inviting the body, and
     * the connection then closes. The JDK sends {@code 100 Continue} before it calls the handler.
     */
    static final String NO_CONTINUE_BEFORE_A_REFUSAL = "no 100 Continue before a refusal";

    /**
     * Deliberate difference: {@code HttpExchange} attributes belong to the exchange, as filters passing
     * values to a handler expect; the JDK's provider (25) keeps them in the context's attribute map,
     * shared by every request of the context, and an OpenJDK change under review moves it to
     * per-exchange attributes too.
     */
    static final String ATTRIBUTES_PER_EXCHANGE = "exchange attributes belong to the exchange";

    /**
     * Deliberate difference: a status code outside 100-999 is refused with IllegalArgumentException (a
     * status code has three digits); the JDK's provider sends it.
     */
    static final String THREE_DIGIT_STATUS_CODES = "status codes outside 100-999 refused";

    /**
     * Deliberate difference: when the server's executor rejects a request, Bobbin answers 503 and closes
     * the connection; the JDK's provider closes it without an answer.
     */
    static final String REJECTING_EXECUTOR_ANSWERS_503 = "a rejecting executor's request gets 503";

    /**
     * Deliberate difference: a head that {@code sendResponseHeaders} refuses for a bad field leaves nothing
     * behind, so a handler can mend its fields and answer: no interim response went out for it, and the
     * exchange keeps neither its status nor the framing fields it would have added. The JDK's provider
     * answered {@code Expect: 100-continue} before the handler ran, reports the refused status as the
     * response code, and sends the refused attempt's {@code Transfer-encoding: chunked} beside the retry's
     * {@code Content-length}.
     */
    static final String REFUSED_HEAD_LEAVES_NO_TRACE = "a refused head leaves no trace";

    /** How long a check waits for something that must happen. */
    static final long PATIENCE_S = 10;
    static final int PATIENCE_S_INT = (int) PATIENCE_S;

    record Provider(String name, Supplier<HttpServerProvider> factory) {
        boolean isBobbin() { return name.equals("bobbin"); }

        @Override public String toString() { return name; }
    }

    static List<Provider> providers() {
        List<Provider> list = new ArrayList<>();
        list.add(new Provider("jdk", () -> instantiate(JDK_PROVIDER)));
        list.add(new Provider("bobbin", BobbinHttpServerProvider::new));
        return list;
    }

    private static HttpServerProvider instantiate(String className) {
        try {
            return (HttpServerProvider) Class.forName(className).getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot instantiate " + className, e);
        }
    }

    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final Set<HttpServer> stopped = ConcurrentHashMap.newKeySet();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private HttpClient client;

    HttpServerConformanceTest(Provider provider) {
        this.provider = provider;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (HttpServer s : servers) {
            if (stopped.add(s)) s.stop(0);
        }
        for (AutoCloseable c : closeables) c.close();
        if (client != null) client.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    /** A server bound to an ephemeral loopback port, not started. */
    private HttpServer server() throws IOException {
        HttpServer s = provider.factory().get()
                .createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(s);
        return s;
    }

    /** A started server with one context. */
    private HttpServer started(String path, HttpHandler handler) throws IOException {
        HttpServer s = server();
        s.createContext(path, handler);
        s.start();
        return s;
    }

    private void stop(HttpServer s, int delay) {
        stopped.add(s);
        s.stop(delay);
    }

    private HttpClient client() {
        if (client == null) {
            client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        }
        return client;
    }

    private static URI uri(HttpServer s, String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + s.getAddress().getPort() + pathAndQuery);
    }

    private HttpResponse<String> get(HttpServer s, String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, pathAndQuery)).GET();
        if (headers.length > 0) b.headers(headers);
        return client().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<byte[]> post(HttpServer s, String path, byte[] body) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(uri(s, path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return client().send(r, HttpResponse.BodyHandlers.ofByteArray());
    }

    private Conn connect(HttpServer s) throws IOException {
        Conn c = new Conn(new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort()));
        closeables.add(c);
        return c;
    }

    /** Sends {@code body} with a fixed length ({@code -1}, no body, when it is empty) and closes the exchange. */
    static void respond(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(UTF_8);
        ex.sendResponseHeaders(code, b.length == 0 ? -1 : b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    /** Answers 200 with the given text. */
    static HttpHandler text(String body) {
        return ex -> respond(ex, 200, body);
    }

    /** Reads the request body and answers 200 with the same bytes, fixed length. */
    static final HttpHandler ECHO = ex -> {
        byte[] b;
        try (InputStream in = ex.getRequestBody()) {
            b = in.readAllBytes();
        }
        ex.sendResponseHeaders(200, b.length == 0 ? -1 : b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    };

    static String rawGet(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(PATIENCE_S, SECONDS);
    }

    /** A raw connection: writes request bytes as given and parses the responses. */
    static final class Conn implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(PATIENCE_S));
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        Conn send(String request) throws IOException {
            return send(request.getBytes(ISO_8859_1));
        }

        Conn send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
            return this;
        }

        RawResponse read() throws IOException {
            return read(false);
        }

        /** Reads one response; {@code head} says it answers a HEAD request (no body whatever the headers). */
        RawResponse read(boolean head) throws IOException {
            String statusLine = line();
            if (statusLine == null) throw new EOFException("connection closed before a status line");
            String[] parts = statusLine.split(" ", 3);
            int status = Integer.parseInt(parts[1]);
            List<String> headerLines = new ArrayList<>();
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (String l; !(l = requireLine()).isEmpty(); ) {
                headerLines.add(l);
                int colon = l.indexOf(':');
                headers.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(l.substring(colon + 1).trim());
            }
            RawResponse r = new RawResponse(statusLine, status, headerLines, headers, null);
            byte[] body;
            if (head || status / 100 == 1 || status == 204 || status == 304) {
                body = new byte[0];
            } else if ("chunked".equalsIgnoreCase(r.header("transfer-encoding"))) {
                body = chunked();
            } else if (r.header("content-length") != null) {
                body = in.readNBytes(Integer.parseInt(r.header("content-length")));
            } else {
                body = in.readAllBytes();   // delimited by the end of the connection
            }
            return new RawResponse(statusLine, status, headerLines, headers, body);
        }

        private byte[] chunked() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String size = requireLine();
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (n == 0) break;
                byte[] chunk = in.readNBytes(n);
                if (chunk.length != n) throw new EOFException("chunk cut short");
                body.writeBytes(chunk);
                if (!requireLine().isEmpty()) throw new IOException("no CRLF after a chunk");
            }
            while (!requireLine().isEmpty()) {
                // trailer fields
            }
            return body.toByteArray();
        }

        private String requireLine() throws IOException {
            String l = line();
            if (l == null) throw new EOFException("connection closed inside a response");
            return l;
        }

        /** One CRLF-terminated line, or null at the end of the stream before any byte. */
        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\r') {
                    int lf = in.read();
                    if (lf != '\n') throw new IOException("CR without LF in a response");
                    return b.toString(ISO_8859_1);
                }
                b.write(c);
            }
            if (b.size() == 0) return null;
            throw new EOFException("connection closed inside a line");
        }

        /** Whether the peer closed the connection (end of stream or reset), with nothing more sent. */
        boolean closedByPeer() throws IOException {
            try {
                int c = in.read();
                if (c != -1) throw new AssertionError("expected the connection to close, got more bytes: " + (char) c);
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (SocketException e) {
                return true;    // reset
            }
        }

        @Override public void close() throws IOException {
            socket.close();
        }
    }

    record RawResponse(String statusLine, int status, List<String> headerLines, Map<String, List<String>> headers,
                       byte[] body) {
        /** The first value of a header, the name in any case. */
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.getFirst();
        }

        String text() {
            return new String(body, UTF_8);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // contexts

    @Test
    void theContextWithTheLongestMatchingPrefixHandlesTheRequest() throws Exception {
        HttpServer s = server();
        for (String p : List.of("/", "/a", "/a/b", "/c/")) {
            s.createContext(p, text(p));
        }
        s.start();
        assertEquals("/", get(s, "/").body());
        assertEquals("/", get(s, "/x").body());
        assertEquals("/a", get(s, "/a").body());
        assertEquals("/a", get(s, "/a/").body());
        assertEquals("/a/b", get(s, "/a/b").body());
        assertEquals("/a/b", get(s, "/a/b/c").body());
        // the match is a plain string prefix, not a path-segment match
        assertEquals("/a", get(s, "/ab").body());
        assertEquals("/a/b", get(s, "/a/bc").body());
        // "/c" is not prefixed by "/c/": it falls through to "/"
        assertEquals("/", get(s, "/c").body());
        assertEquals("/c/", get(s, "/c/d").body());
        // matching is case sensitive
        assertEquals("/", get(s, "/A/b").body());
        // the query takes no part in the match
        assertEquals("/a/b", get(s, "/a/b?x=/").body());
    }

    @Test
    void aRequestNoContextMatchesIsAnswered404() throws Exception {
        HttpServer s = started("/only", text("only"));
        assertEquals(404, get(s, "/other").statusCode());
        assertEquals(404, get(s, "/").statusCode());
        assertEquals(404, get(s, "/onl").statusCode());
        assertEquals(200, get(s, "/only").statusCode());
    }

    @Test
    void removedContextsNoLongerMatch() throws Exception {
        HttpServer s = server();
        s.createContext("/p", text("p"));
        HttpContext q = s.createContext("/q", text("q"));
        s.start();
        assertEquals("p", get(s, "/p").body());
        assertEquals("q", get(s, "/q").body());

        s.removeContext("/p");
        assertEquals(404, get(s, "/p").statusCode());
        assertEquals("q", get(s, "/q").body());

        s.removeContext(q);
        assertEquals(404, get(s, "/q").statusCode());

        // a removed path can be created again
        s.createContext("/p", text("p again"));
        assertEquals("p again", get(s, "/p").body());
    }

    @Test
    void removingAnUnknownContextThrowsIllegalArgumentException() throws Exception {
        HttpServer s = server();
        s.createContext("/a", text("a"));
        assertThrows(IllegalArgumentException.class, () -> s.removeContext("/nope"));
        // removal is by exact path, not by prefix
        assertThrows(IllegalArgumentException.class, () -> s.removeContext("/a/b"));
        assertThrows(IllegalArgumentException.class, () -> s.removeContext("/"));
        HttpContext foreign = server().createContext("/a", text("other"));
        assertThrows(IllegalArgumentException.class, () -> s.removeContext(foreign));
        HttpContext own = s.createContext("/b", text("b"));
        s.removeContext(own);
        assertThrows(IllegalArgumentException.class, () -> s.removeContext(own));
        assertThrows(NullPointerException.class, () -> s.removeContext((String) null));
    }

    @Test
    void creatingAContextTwiceThrowsIllegalArgumentException() throws Exception {
        HttpServer s = server();
        s.createContext("/dup", text("first"));
        assertThrows(IllegalArgumentException.class, () -> s.createContext("/dup", text("second")));
        assertThrows(IllegalArgumentException.class, () -> s.createContext("/dup"));
        // a path that differs from an existing one only by a trailing slash is another context
        s.createContext("/dup/", text("slash"));
        assertThrows(NullPointerException.class, () -> s.createContext(null, text("x")));
        assertThrows(NullPointerException.class, () -> s.createContext("/n", null));
        // a context path starts with '/'
        assertThrows(IllegalArgumentException.class, () -> s.createContext("relative", text("x")));
        s.start();
        assertEquals("first", get(s, "/dup").body());
        assertEquals("slash", get(s, "/dup/x").body());
    }

    @Test
    void contextAccessorsAndAttributes() throws Exception {
        HttpServer s = server();
        HttpHandler h = text("h");
        HttpContext c = s.createContext("/ctx", h);
        assertEquals("/ctx", c.getPath());
        assertSame(s, c.getServer());
        assertSame(h, c.getHandler());
        // attributes: a mutable map the handler sees through its exchange's context
        Map<String, Object> attrs = c.getAttributes();
        assertNotNull(attrs);
        attrs.put("k", "v");
        assertEquals("v", c.getAttributes().get("k"));
        CompletableFuture<Object> seen = new CompletableFuture<>();
        HttpContext c2 = s.createContext("/seen", ex -> {
            seen.complete(ex.getHttpContext().getAttributes().get("k2"));
            respond(ex, 200, "");
        });
        c2.getAttributes().put("k2", 42);
        s.start();
        assertEquals(200, get(s, "/seen").statusCode());
        assertEquals(42, await(seen));
    }

    @Test
    void aContextCreatedWithoutAHandlerTakesOneLater() throws Exception {
        HttpServer s = server();
        HttpContext c = s.createContext("/late");
        assertNull(c.getHandler());
        HttpHandler h = text("late");
        c.setHandler(h);
        assertSame(h, c.getHandler());
        // a handler cannot be replaced, nor set to null
        assertThrows(IllegalArgumentException.class, () -> c.setHandler(text("again")));
        assertThrows(NullPointerException.class, () -> s.createContext("/other").setHandler(null));
        s.start();
        assertEquals("late", get(s, "/late").body());
    }

    @Test
    void aContextWithoutAHandlerIsAnswered500() throws Exception {
        HttpServer s = server();
        s.createContext("/nohandler");
        s.start();
        assertEquals(500, get(s, "/nohandler").statusCode());
    }

    // ---------------------------------------------------------------------------------------------
    // filters

    @Test
    void beforeAndAfterHandlerFiltersRunAroundTheHandler() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch after = new CountDownLatch(1);
        HttpServer s = server();
        HttpContext c = s.createContext("/f", ex -> {
            events.add("handler saw " + ex.getAttribute("before"));
            respond(ex, 201, "body");
        });
        Filter before = Filter.beforeHandler("marks the exchange", ex -> {
            events.add("before");
            ex.setAttribute("before", "yes");
            ex.getResponseHeaders().set("X-Before", "1");
        });
        Filter afterF = Filter.afterHandler("records the status", ex -> {
            events.add("after " + ex.getResponseCode());
            after.countDown();
        });
        assertEquals("marks the exchange", before.description());
        assertEquals("records the status", afterF.description());
        c.getFilters().add(before);
        c.getFilters().add(afterF);
        s.start();
        HttpResponse<String> r = get(s, "/f");
        assertEquals(201, r.statusCode());
        assertEquals("body", r.body());
        assertEquals("1", r.headers().firstValue("X-Before").orElse(null));
        assertTrue(after.await(PATIENCE_S, SECONDS));
        assertEquals(List.of("before", "handler saw yes", "after 201"), events);
    }

    @Test
    void filtersRunInListOrder() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        HttpServer s = server();
        HttpContext c = s.createContext("/chain", ex -> {
            events.add("handler");
            respond(ex, 200, "ok");
        });
        for (String name : List.of("f1", "f2", "f3")) {
            c.getFilters().add(new Filter() {
                @Override public void doFilter(HttpExchange ex, Chain chain) throws IOException {
                    events.add(name + ">");
                    chain.doFilter(ex);
                    events.add("<" + name);
                    if (name.equals("f1")) done.countDown();
                }

                @Override public String description() { return name; }
            });
        }
        s.start();
        assertEquals("ok", get(s, "/chain").body());
        assertTrue(done.await(PATIENCE_S, SECONDS));
        assertEquals(List.of("f1>", "f2>", "f3>", "handler", "<f3", "<f2", "<f1"), events);
    }

    @Test
    void aFilterCanAnswerWithoutCallingTheChain() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        AtomicInteger secondFilter = new AtomicInteger();
        HttpServer s = server();
        HttpContext c = s.createContext("/guarded", ex -> {
            handled.incrementAndGet();
            respond(ex, 200, "handler");
        });
        c.getFilters().add(new Filter() {
            @Override public void doFilter(HttpExchange ex, Chain chain) throws IOException {
                if (ex.getRequestURI().getQuery() == null) {
                    respond(ex, 403, "denied by filter");
                } else {
                    chain.doFilter(ex);
                }
            }

            @Override public String description() { return "guard"; }
        });
        c.getFilters().add(Filter.beforeHandler("counts", ex -> secondFilter.incrementAndGet()));
        s.start();
        HttpResponse<String> denied = get(s, "/guarded");
        assertEquals(403, denied.statusCode());
        assertEquals("denied by filter", denied.body());
        HttpResponse<String> allowed = get(s, "/guarded?ok");
        assertEquals(200, allowed.statusCode());
        assertEquals("handler", allowed.body());
        assertEquals(1, handled.get());
        assertEquals(1, secondFilter.get());
    }

    @Test
    void adaptRequestFiltersChangeWhatTheHandlerSees() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = server();
        HttpContext c = s.createContext("/adapt", ex -> {
            seen.complete(List.of(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                    String.valueOf(ex.getRequestHeaders().getFirst("X-Added"))));
            respond(ex, 200, "");
        });
        c.getFilters().add(Filter.adaptRequest("adds a header", req -> {
            Headers h = new Headers(req.getRequestHeaders());
            h.set("X-Added", "by filter");
            return new Request() {
                @Override public URI getRequestURI() { return req.getRequestURI(); }
                @Override public String getRequestMethod() { return req.getRequestMethod(); }
                @Override public Headers getRequestHeaders() { return Headers.of(h); }
            };
        }));
        s.start();
        assertEquals(200, get(s, "/adapt/x").statusCode());
        assertEquals(List.of("GET", "/adapt/x", "by filter"), await(seen));
    }

    @Test
    void theFilterListIsLiveAndMutable() throws Exception {
        HttpServer s = server();
        HttpContext c = s.createContext("/live", text("live"));
        assertTrue(c.getFilters().isEmpty());
        s.start();
        assertTrue(get(s, "/live").headers().firstValue("X-Filter").isEmpty());

        Filter tag = Filter.beforeHandler("tags", ex -> ex.getResponseHeaders().add("X-Filter", "tag"));
        c.getFilters().add(tag);
        assertEquals(List.of(tag), c.getFilters());
        assertEquals(List.of("tag"), get(s, "/live").headers().allValues("X-Filter"));

        Filter first = Filter.beforeHandler("first", ex -> ex.getResponseHeaders().add("X-Filter", "first"));
        c.getFilters().addFirst(first);
        assertEquals(List.of("first", "tag"), get(s, "/live").headers().allValues("X-Filter"));

        c.getFilters().remove(tag);
        assertEquals(List.of("first"), get(s, "/live").headers().allValues("X-Filter"));
        c.getFilters().clear();
        assertTrue(get(s, "/live").headers().firstValue("X-Filter").isEmpty());
    }

    // ---------------------------------------------------------------------------------------------
    // authentication

    @Test
    void basicAuthenticatorChallengesRejectsAndAdmits() throws Exception {
        CompletableFuture<HttpPrincipal> principal = new CompletableFuture<>();
        HttpServer s = server();
        HttpContext c = s.createContext("/secret", ex -> {
            principal.complete(ex.getPrincipal());
            respond(ex, 200, "secret");
        });
        c.setAuthenticator(new BasicAuthenticator("bobbin-realm") {
            @Override public boolean checkCredentials(String user, String password) {
                return user.equals("alice") && password.equals("s3cret");
            }
        });
        assertEquals("bobbin-realm", ((BasicAuthenticator) c.getAuthenticator()).getRealm());
        s.start();

        HttpResponse<String> none = get(s, "/secret");
        assertEquals(401, none.statusCode());
        String challenge = none.headers().firstValue("WWW-Authenticate").orElseThrow();
        assertTrue(challenge.startsWith("Basic realm=\"bobbin-realm\""), challenge);

        HttpResponse<String> wrong = get(s, "/secret", "Authorization", basic("alice", "wrong"));
        assertEquals(401, wrong.statusCode());
        assertFalse(principal.isDone());
        HttpResponse<String> unknown = get(s, "/secret", "Authorization", basic("bob", "s3cret"));
        assertEquals(401, unknown.statusCode());
        assertFalse(principal.isDone());

        HttpResponse<String> right = get(s, "/secret", "Authorization", basic("alice", "s3cret"));
        assertEquals(200, right.statusCode());
        assertEquals("secret", right.body());
        HttpPrincipal p = await(principal);
        assertEquals("alice", p.getUsername());
        assertEquals("bobbin-realm", p.getRealm());
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(UTF_8));
    }

    // ---------------------------------------------------------------------------------------------
    // the exchange

    record Seen(String method, URI uri, String protocol, InetSocketAddress local, InetSocketAddress remote,
                HttpContext context) {
    }

    private HttpServer recording(String path, CompletableFuture<Seen> seen, HttpContext[] ctx) throws IOException {
        HttpServer s = server();
        ctx[0] = s.createContext(path, ex -> {
            seen.complete(new Seen(ex.getRequestMethod(), ex.getRequestURI(), ex.getProtocol(),
                    ex.getLocalAddress(), ex.getRemoteAddress(), ex.getHttpContext()));
            respond(ex, 200, "seen");
        });
        s.start();
        return s;
    }

    @Test
    void theExchangeReportsTheRequestLineAndTheAddresses() throws Exception {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        HttpContext[] ctx = new HttpContext[1];
        HttpServer s = recording("/p", seen, ctx);
        Conn conn = connect(s);
        conn.send("PUT /p/a%20b?x=1&y=%41%2F HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
        assertEquals(200, conn.read().status());
        Seen r = await(seen);
        assertEquals("PUT", r.method());
        assertEquals("/p/a%20b", r.uri().getRawPath());
        assertEquals("/p/a b", r.uri().getPath());
        assertEquals("x=1&y=%41%2F", r.uri().getRawQuery());
        assertEquals("/p/a%20b?x=1&y=%41%2F", r.uri().toString());
        assertEquals("HTTP/1.1", r.protocol());
        assertEquals(s.getAddress().getPort(), r.local().getPort());
        assertEquals(InetAddress.getLoopbackAddress(), r.local().getAddress());
        assertEquals(conn.socket.getLocalPort(), r.remote().getPort());
        assertEquals(InetAddress.getLoopbackAddress(), r.remote().getAddress());
        assertSame(ctx[0], r.context());
    }

    @Test
    void theExchangeReportsHttp10() throws Exception {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        HttpServer s = recording("/", seen, new HttpContext[1]);
        Conn conn = connect(s);
        conn.send("GET /old HTTP/1.0\r\n\r\n");
        RawResponse r = conn.read();
        assertEquals(200, r.status());
        assertEquals("seen", r.text());
        assertEquals("HTTP/1.0", await(seen).protocol());
        assertEquals("GET", await(seen).method());
    }

    @Test
    void exchangeAttributesCarryValuesFromFiltersToTheHandler() throws Exception {
        CompletableFuture<List<Object>> seen = new CompletableFuture<>();
        HttpServer s = server();
        HttpContext c = s.createContext("/attr", ex -> {
            Object fromFilter = ex.getAttribute("from-filter");
            ex.setAttribute("own", "x");
            Object own = ex.getAttribute("own");
            ex.setAttribute("own", null);
            List<Object> l = new ArrayList<>();
            l.add(fromFilter);
            l.add(own);
            l.add(ex.getAttribute("own"));
            l.add(ex.getAttribute("never-set"));
            seen.complete(l);
            respond(ex, 200, "");
        });
        c.getFilters().add(Filter.beforeHandler("sets", ex -> ex.setAttribute("from-filter", 7)));
        s.start();
        assertEquals(200, get(s, "/attr").statusCode());
        assertEquals(Arrays.asList(7, "x", null, null), await(seen));
    }

    @Test
    void requestHeaderNamesAreNormalized() throws Exception {
        CompletableFuture<List<Object>> seen = new CompletableFuture<>();
        HttpServer s = started("/h", ex -> {
            Headers h = ex.getRequestHeaders();
            seen.complete(List.of(
                    String.valueOf(h.getFirst("content-type")),
                    String.valueOf(h.getFirst("CONTENT-TYPE")),
                    String.valueOf(h.getFirst("Content-Type")),
                    h.containsKey("content-TYPE"),
                    Set.copyOf(h.keySet()),
                    String.valueOf(h.get("x-multi")),
                    String.valueOf(h.getFirst("X-MIXED-case"))));
            respond(ex, 200, "");
        });
        Conn conn = connect(s);
        conn.send("GET /h HTTP/1.1\r\nHost: localhost\r\ncontent-type: text/plain\r\nX-MiXeD-Case: 1\r\n"
                + "x-multi: a\r\nX-Multi: b\r\n\r\n");
        assertEquals(200, conn.read().status());
        List<Object> r = await(seen);
        assertEquals("text/plain", r.get(0));
        assertEquals("text/plain", r.get(1));
        assertEquals("text/plain", r.get(2));
        assertEquals(true, r.get(3));
        assertEquals(Set.of("Host", "Content-type", "X-mixed-case", "X-multi"), r.get(4));
        assertEquals("[a, b]", r.get(5));
        assertEquals("1", r.get(6));
    }

    @Test
    void requestHeadersAreReadOnly() throws Exception {
        CompletableFuture<List<Class<?>>> seen = new CompletableFuture<>();
        HttpServer s = started("/ro", ex -> {
            Headers h = ex.getRequestHeaders();
            List<Class<?>> thrown = new ArrayList<>();
            List<Runnable> attempts = List.of(
                    () -> h.add("X-New", "1"),
                    () -> h.set("Host", "elsewhere"),
                    () -> h.put("X-New", List.of("1")),
                    () -> h.remove("Host"),
                    () -> h.get("Host").add("more"),
                    h::clear);
            for (Runnable a : attempts) {
                try {
                    a.run();
                    thrown.add(null);
                } catch (RuntimeException e) {
                    thrown.add(e.getClass());
                }
            }
            thrown.add(h.getFirst("Host") == null ? null : Object.class);
            seen.complete(thrown);
            respond(ex, 200, "");
        });
        assertEquals(200, get(s, "/ro").statusCode());
        List<Class<?>> thrown = await(seen);
        for (int i = 0; i < 6; i++) {
            assertEquals(UnsupportedOperationException.class, thrown.get(i), "attempt " + i);
        }
        assertEquals(Object.class, thrown.get(6), "Host still present");
    }

    @Test
    void responseHeadersReachTheClient() throws Exception {
        HttpServer s = started("/rh", ex -> {
            Headers h = ex.getResponseHeaders();
            h.set("X-One", "1");
            h.add("x-multi", "a");
            h.add("X-MULTI", "b");
            h.set("Content-Type", "text/x-bobbin");
            respond(ex, 200, "hdrs");
        });
        HttpResponse<String> r = get(s, "/rh");
        assertEquals("1", r.headers().firstValue("x-one").orElse(null));
        assertEquals(List.of("a", "b"), r.headers().allValues("X-Multi"));
        assertEquals("text/x-bobbin", r.headers().firstValue("content-type").orElse(null));
        assertTrue(r.headers().firstValue("Date").isPresent(), "a Date header");
        Conn conn = connect(s);
        RawResponse raw = conn.send(rawGet("/rh")).read();
        assertEquals(List.of("a", "b"), raw.headers().get("x-multi"));
        assertEquals("hdrs", raw.text());
    }

    // ---------------------------------------------------------------------------------------------
    // bodies

    @Test
    void aFixedLengthRequestBodyIsReadWhole() throws Exception {
        HttpServer s = started("/echo", ECHO);
        HttpResponse<byte[]> r = post(s, "/echo", "hello body".getBytes(UTF_8));
        assertEquals(200, r.statusCode());
        assertEquals("hello body", new String(r.body(), UTF_8));
        Conn conn = connect(s);
        RawResponse raw = conn.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nabcde").read();
        assertEquals("abcde", raw.text());
        assertEquals("5", raw.header("Content-Length"));
    }

    @Test
    void aChunkedRequestBodyIsDecoded() throws Exception {
        HttpServer s = started("/echo", ECHO);
        Conn conn = connect(s);
        conn.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n7;ext=1\r\n, world\r\nA\r\n0123456789\r\n0\r\n\r\n");
        RawResponse r = conn.read();
        assertEquals(200, r.status());
        assertEquals("hello, world0123456789", r.text());
        // the connection is still usable afterwards
        RawResponse second = conn.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n").read();
        assertEquals("abc", second.text());
    }

    /**
     * A chunked body is framed by CRLF only (RFC 9112 section 7.1; the bare-LF allowance of section 2.2
     * covers the start line and header fields): a chunk-size line or chunk data ended by a bare LF, or a
     * chunk size followed by anything but a chunk extension (whitespace only before its ';'), is a malformed body, which a
     * front end that frames it otherwise could use to smuggle a request. Reading it fails on both providers.
     */
    @Test
    void aChunkedBodyFramedByBareLineFeedsOrStrayTextIsRefused() throws Exception {
        java.util.concurrent.LinkedBlockingQueue<String> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        HttpServer s = started("/chunks", ex -> {
            try {
                seen.add("read " + new String(ex.getRequestBody().readAllBytes(), ISO_8859_1));
            } catch (IOException e) {
                seen.add("IOException");
                throw e;
            }
            respond(ex, 200, "read");
        });
        for (String body : List.of("5\nhello\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5\nhello\n0\n\n",
                "2 2\r\nhi\r\n0\r\n\r\n", "2 x\r\nhi\r\n0\r\n\r\n", "2 \r\nhi\r\n0\r\n\r\n",
                "2\t\r\nhi\r\n0\r\n\r\n")) {
            Conn conn = connect(s);
            conn.send("POST /chunks HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
            conn.socket.shutdownOutput();                   // a parser still looking for a CR meets the end
            assertEquals("IOException", seen.poll(PATIENCE_S, SECONDS), "body " + RawHttp.show(body));
            conn.close();
        }
    }

    @Test
    void anEmptyBodyBothWays() throws Exception {
        CompletableFuture<Integer> read = new CompletableFuture<>();
        HttpServer s = started("/empty", ex -> {
            read.complete(ex.getRequestBody().readAllBytes().length);
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/empty")).read();
        assertEquals(0, await(read));
        assertEquals(200, r.status());
        assertEquals("0", r.header("Content-Length"));
        assertNull(r.header("Transfer-Encoding"));
        assertEquals(0, r.body().length);
        // nothing followed the headers: the next response on the connection parses
        assertEquals(200, conn.send(rawGet("/empty")).read().status());
    }

    @Test
    void oneMebibyteBothWays() throws Exception {
        byte[] big = new byte[1 << 20];
        new Random(42).nextBytes(big);
        HttpServer s = server();
        s.createContext("/fixed", ECHO);
        s.createContext("/chunked", ex -> {
            byte[] b = ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, 0);
            try (OutputStream os = ex.getResponseBody()) {
                for (int off = 0; off < b.length; off += 10_000) {
                    os.write(b, off, Math.min(10_000, b.length - off));
                }
            }
        });
        s.start();
        HttpResponse<byte[]> fixed = post(s, "/fixed", big);
        assertEquals(200, fixed.statusCode());
        assertEquals(String.valueOf(big.length), fixed.headers().firstValue("Content-Length").orElse(null));
        assertArrayEquals(big, fixed.body());
        HttpResponse<byte[]> chunked = post(s, "/chunked", big);
        assertEquals(200, chunked.statusCode());
        assertArrayEquals(big, chunked.body());
        // a chunked 1 MiB request body
        Conn conn = connect(s);
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes("POST /fixed HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(ISO_8859_1));
        for (int off = 0; off < big.length; off += 65_000) {
            int n = Math.min(65_000, big.length - off);
            req.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(ISO_8859_1));
            req.write(big, off, n);
            req.writeBytes("\r\n".getBytes(ISO_8859_1));
        }
        req.writeBytes("0\r\n\r\n".getBytes(ISO_8859_1));
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                conn.send(req.toByteArray());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        RawResponse r = conn.read();
        await(writer);
        assertArrayEquals(big, r.body());
    }

    @Test
    void lengthZeroMeansAChunkedResponse() throws Exception {
        HttpServer s = started("/chunks", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream os = ex.getResponseBody()) {
                os.write("first ".getBytes(UTF_8));
                os.flush();
                os.write("second".getBytes(UTF_8));
            }
        });
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/chunks")).read();
        assertEquals(200, r.status());
        assertEquals("chunked", r.header("Transfer-Encoding").toLowerCase(Locale.ROOT));
        assertNull(r.header("Content-Length"));
        assertEquals("first second", r.text());
        assertEquals("first second", conn.send(rawGet("/chunks")).read().text());
    }

    @Test
    void aPositiveLengthMeansAFixedLengthResponse() throws Exception {
        HttpServer s = started("/fixed", text("twelve bytes"));
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/fixed")).read();
        assertEquals("HTTP/1.1 200 OK", r.statusLine());
        assertEquals("12", r.header("Content-Length"));
        assertNull(r.header("Transfer-Encoding"));
        assertEquals("twelve bytes", r.text());
        assertEquals("twelve bytes", conn.send(rawGet("/fixed")).read().text());
    }

    @Test
    void writingMoreThanTheDeclaredLengthThrowsIOException() throws Exception {
        CompletableFuture<Throwable> overflow = new CompletableFuture<>();
        HttpServer s = started("/over", ex -> {
            ex.sendResponseHeaders(200, 5);
            OutputStream os = ex.getResponseBody();
            try {
                os.write("123456".getBytes(UTF_8));
                overflow.complete(null);
            } catch (IOException e) {
                overflow.complete(e);
            }
            try {
                os.write("12345".getBytes(UTF_8));
                os.close();
            } catch (IOException e) {
                ex.close();
            }
        });
        Conn conn = connect(s);
        conn.send(rawGet("/over"));
        assertInstanceOf(IOException.class, await(overflow));
        // whatever the client got, the server goes on serving
        assertEquals(200, connect(s).send(rawGet("/over")).read().status());
    }

    @Test
    void aHeadResponseHasNoBodyOnTheWire() throws Exception {
        HttpServer s = started("/res", ex -> {
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                ex.close();
            } else {
                respond(ex, 200, "get body");
            }
        });
        Conn conn = connect(s);
        // HEAD then GET written together: the GET's status line must follow the HEAD's headers directly
        conn.send("HEAD /res HTTP/1.1\r\nHost: localhost\r\n\r\n" + rawGet("/res"));
        RawResponse head = conn.read(true);
        assertEquals(200, head.status());
        assertEquals("text/plain", head.header("Content-Type"));
        RawResponse get = conn.read();
        assertEquals("HTTP/1.1 200 OK", get.statusLine());
        assertEquals("get body", get.text());
    }

    @Test
    void responses204And304HaveNoBody() throws Exception {
        HttpServer s = server();
        s.createContext("/204", ex -> {
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        s.createContext("/304", ex -> {
            ex.getResponseHeaders().set("ETag", "\"v1\"");
            ex.sendResponseHeaders(304, -1);
            ex.close();
        });
        s.start();
        Conn conn = connect(s);
        conn.send(rawGet("/204") + rawGet("/304") + rawGet("/204"));
        RawResponse r204 = conn.read();
        assertEquals(204, r204.status());
        assertNull(r204.header("Content-Length"));
        assertNull(r204.header("Transfer-Encoding"));
        RawResponse r304 = conn.read();
        assertEquals(304, r304.status());
        assertEquals("\"v1\"", r304.header("ETag"));
        assertNull(r304.header("Transfer-Encoding"));
        assertEquals(204, conn.read().status());
        assertEquals(204, get(s, "/204").statusCode());
    }

    @Test
    void sendingResponseHeadersTwiceThrowsIOException() throws Exception {
        CompletableFuture<List<Object>> seen = new CompletableFuture<>();
        HttpServer s = started("/twice", ex -> {
            List<Object> l = new ArrayList<>();
            l.add(ex.getResponseCode());
            ex.sendResponseHeaders(201, 2);
            l.add(ex.getResponseCode());
            try {
                ex.sendResponseHeaders(500, -1);
                l.add("no exception");
            } catch (IOException e) {
                l.add(IOException.class);
            }
            l.add(ex.getResponseCode());
            try (OutputStream os = ex.getResponseBody()) {
                os.write("ok".getBytes(UTF_8));
            }
            seen.complete(l);
        });
        HttpResponse<String> r = get(s, "/twice");
        assertEquals(201, r.statusCode());
        assertEquals("ok", r.body());
        assertEquals(List.of(-1, 201, IOException.class, 201), await(seen));
    }

    // ---------------------------------------------------------------------------------------------
    // persistent connections

    @Test
    void twoRequestsOnOneConnection() throws Exception {
        List<Integer> remotePorts = new CopyOnWriteArrayList<>();
        HttpServer s = started("/", ex -> {
            remotePorts.add(ex.getRemoteAddress().getPort());
            respond(ex, 200, ex.getRequestURI().getPath());
        });
        Conn conn = connect(s);
        assertEquals("/one", conn.send(rawGet("/one")).read().text());
        assertEquals("/two", conn.send(rawGet("/two")).read().text());
        assertEquals(List.of(conn.socket.getLocalPort(), conn.socket.getLocalPort()), remotePorts);
    }

    @Test
    void connectionCloseFromTheClientClosesAfterTheResponse() throws Exception {
        HttpServer s = started("/", text("bye"));
        Conn conn = connect(s);
        RawResponse r = conn.send("GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").read();
        assertEquals("bye", r.text());
        assertTrue(conn.closedByPeer());
    }

    @Test
    void http10WithoutKeepAliveClosesAfterTheResponse() throws Exception {
        HttpServer s = started("/", text("old"));
        Conn conn = connect(s);
        RawResponse r = conn.send("GET /x HTTP/1.0\r\n\r\n").read();
        assertEquals(200, r.status());
        assertEquals("old", r.text());
        assertTrue(conn.closedByPeer());
    }

    @Test
    void connectionCloseFromTheHandlerClosesAfterTheResponse() throws Exception {
        HttpServer s = started("/", ex -> {
            ex.getResponseHeaders().set("Connection", "close");
            respond(ex, 200, "last");
        });
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/x")).read();
        assertEquals("last", r.text());
        assertEquals("close", r.header("Connection").toLowerCase(Locale.ROOT));
        assertTrue(conn.closedByPeer());
    }

    @Test
    void anUnreadRequestBodyIsSkippedBeforeTheNextRequest() throws Exception {
        HttpServer s = started("/", ex -> respond(ex, 200, ex.getRequestURI().getPath()));
        Conn conn = connect(s);
        conn.send("POST /ignored HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789" + rawGet("/next"));
        assertEquals("/ignored", conn.read().text());
        assertEquals("/next", conn.read().text());
    }

    /**
     * A handler that answers without reading the request body: the response goes out at once, while the
     * client is still sending that body (the JDK's provider flushes it before it drains the body), and the
     * connection then carries the next request.
     */
    @Test
    void aResponseGoesOutBeforeTheRestOfAnUnreadRequestBody() throws Exception {
        HttpServer s = started("/", ex -> respond(ex, 200, ex.getRequestURI().getPath()));
        Conn conn = connect(s);
        conn.socket.setSoTimeout(3000);
        conn.send("POST /early HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n01234");
        RawResponse r;
        try {
            r = conn.read();                                 // before the other half of the body is sent
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the response waited for the rest of a body the handler did not read", e);
        }
        assertEquals("/early", r.text());
        conn.send("56789" + rawGet("/next"));
        assertEquals("/next", conn.read().text());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        HttpServer s = started("/", ECHO);
        Conn conn = connect(s);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            String body = "request " + i;
            all.append("POST /p").append(i).append(" HTTP/1.1\r\nHost: localhost\r\nContent-Length: ")
                    .append(body.length()).append("\r\n\r\n").append(body);
        }
        all.append(rawGet("/last"));
        conn.send(all.toString());
        for (int i = 0; i < 5; i++) {
            assertEquals("request " + i, conn.read().text());
        }
        RawResponse last = conn.read();
        assertEquals(200, last.status());
        assertEquals(0, last.body().length);
    }

    // ---------------------------------------------------------------------------------------------
    // Expect: 100-continue

    @Test
    void expectContinueOnTheWire() throws Exception {
        expectContinueThenEcho(started("/echo", ECHO), "/echo");
    }

    /** Sends a head with {@code Expect: 100-continue}, waits for the interim response, then the body, which must come back. */
    private void expectContinueThenEcho(HttpServer s, String path) throws IOException {
        Conn conn = connect(s);
        conn.send("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n");
        RawResponse interim = conn.read();                   // a client holding the body back waits for this
        assertEquals(100, interim.status());
        conn.send("continued");
        RawResponse r = conn.read();
        assertEquals(200, r.status());
        assertEquals("continued", r.text());
    }

    @Test
    void expectContinueWhenTheHandlerAnswersBeforeReadingTheBody() throws Exception {
        HttpServer s = started("/stream", ex -> {
            ex.sendResponseHeaders(200, 0);                  // chunked, then the body streamed back
            try (InputStream in = ex.getRequestBody(); OutputStream os = ex.getResponseBody()) {
                in.transferTo(os);
            }
        });
        expectContinueThenEcho(s, "/stream");
    }

    @Test
    void expectContinueRefusedByTheHandlerGetsItsAnswerWithoutTheBody() throws Exception {
        HttpServer s = started("/guarded", ex -> respond(ex, 401, "no"));
        Conn conn = connect(s);
        conn.send("POST /guarded HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n");
        RawResponse r = conn.read();                         // the body is never sent: this fails if the answer waits for it
        if (provider.isBobbin()) {
            assertEquals(401, r.status(), NO_CONTINUE_BEFORE_A_REFUSAL);
            assertEquals("close", r.header("connection"), "the body was not read: the connection cannot go on");
        } else {
            assertEquals(100, r.status());
            r = conn.read();
            assertEquals(401, r.status());
        }
        assertEquals("no", r.text());
    }

    @Test
    void aResponseGoesOutWhileTheConnectionWaitsForTheRestOfTheNextRequest() throws Exception {
        HttpServer s = started("/", ex -> respond(ex, 200, ex.getRequestURI().getPath()));
        Conn conn = connect(s);
        conn.send(rawGet("/a") + "\n");                    // a stray line break after the request, as echo | nc sends
        assertEquals("/a", conn.read().text());
        conn.send(rawGet("/b") + "GET /c HTTP/1.1\r\nHo");   // the next request cut short
        assertEquals("/b", conn.read().text());
        conn.send("st: localhost\r\n\r\n");
        assertEquals("/c", conn.read().text());
    }

    @Test
    void expectContinueWithHttpClient() throws Exception {
        HttpServer s = started("/echo", ECHO);
        HttpRequest req = HttpRequest.newBuilder(uri(s, "/echo")).expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofString("after continue")).build();
        HttpResponse<String> r = client().send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("after continue", r.body());
    }

    // ---------------------------------------------------------------------------------------------
    // executors

    @Test
    void theDefaultExecutorServes() throws Exception {
        HttpServer s = server();
        assertNull(s.getExecutor());
        s.setExecutor(null);
        assertNull(s.getExecutor());
        s.createContext("/", text("default"));
        s.start();
        assertEquals("default", get(s, "/").body());
    }

    @Test
    void handlersRunOnTheGivenExecutor() throws Exception {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "conformance-executor");
            t.setDaemon(true);
            threads.add(t);
            return t;
        };
        ExecutorService executor = Executors.newFixedThreadPool(2, factory);
        closeables.add(executor::shutdownNow);
        CompletableFuture<Thread> ran = new CompletableFuture<>();
        HttpServer s = server();
        s.setExecutor(executor);
        assertSame(executor, s.getExecutor());
        s.createContext("/", ex -> {
            ran.complete(Thread.currentThread());
            respond(ex, 200, "pooled");
        });
        s.start();
        assertEquals("pooled", get(s, "/").body());
        assertTrue(threads.contains(await(ran)), "the handler ran on a thread of the given executor");
        assertSame(executor, s.getExecutor());
        assertThrows(IllegalStateException.class, () -> s.setExecutor(Executors.newSingleThreadExecutor()));
        assertThrows(IllegalStateException.class, () -> s.setExecutor(null));
        assertSame(executor, s.getExecutor());
    }

    // ---------------------------------------------------------------------------------------------
    // lifecycle

    @Test
    void startingTwiceThrowsIllegalStateException() throws Exception {
        HttpServer s = started("/", text("up"));
        assertThrows(IllegalStateException.class, s::start);
        assertEquals("up", get(s, "/").body());
    }

    @Test
    void aNegativeStopDelayThrowsIllegalArgumentException() throws Exception {
        HttpServer s = started("/", text("still up"));
        assertThrows(IllegalArgumentException.class, () -> s.stop(-1));
        assertEquals("still up", get(s, "/").body());
    }

    @Test
    void aStoppedServerRefusesConnections() throws Exception {
        HttpServer s = started("/", text("up"));
        InetSocketAddress addr = s.getAddress();
        assertEquals("up", get(s, "/").body());
        Conn idle = connect(s);
        assertEquals("up", idle.send(rawGet("/")).read().text());
        stop(s, 0);
        assertThrows(ConnectException.class, () -> new Socket(addr.getAddress(), addr.getPort()).close());
        // an idle connection is closed by the stop
        assertTrue(idle.closedByPeer());
        // a stopped server cannot be started again
        assertThrows(IllegalStateException.class, s::start);
    }

    @Test
    void stopLetsAnExchangeInProgressFinishWithinTheDelay() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HeldExchange held = exchangeHeldUntil(release);
        HttpServer s = held.server();
        InetSocketAddress addr = held.address();
        Conn conn = held.conn();
        Thread stopper = Thread.ofPlatform().name("conformance-stopper").start(() -> s.stop(PATIENCE_S_INT));
        awaitListenerClosed(addr);                    // stop closes the listener at once
        assertTrue(stopper.isAlive(), "stop waits for the exchange in progress");
        release.countDown();
        RawResponse r = conn.read();
        assertEquals(200, r.status());
        assertEquals("finished", r.text());
        // Bobbin's stop returns once the exchange is done, well before the delay; the JDK's usually does
        // too, but on a busy machine it was seen to wait out the delay, which its specification allows
        stopper.join(SECONDS.toMillis(provider.isBobbin() ? PATIENCE_S - 2 : PATIENCE_S + 5));
        assertFalse(stopper.isAlive(), "stop returned after the exchange finished");
    }

    /**
     * A request whose head has begun to arrive when stop is called is in progress too: the JDK's provider
     * lets it finish within the delay (it counts the connection among its requests in progress), so the
     * client that sends the rest of its head gets its response. Stop begins once the server counts the
     * request in progress (bytes the server has not yet read are no request to it, with either provider).
     */
    @Test
    void stopLetsARequestWhoseHeadIsArrivingFinishWithinTheDelay() throws Exception {
        HttpServer s = server();
        ExecutorService executor = Executors.newFixedThreadPool(2);   // not the JDK's dispatcher thread (see exchangeHeldUntil)
        closeables.add(executor::shutdownNow);
        // the JDK's provider hands a connection to the executor as soon as it sees the first bytes of a
        // request, having counted the request in progress; Bobbin's only once the head is parsed
        CountDownLatch dispatched = new CountDownLatch(1);
        s.setExecutor(task -> {
            dispatched.countDown();
            executor.execute(task);
        });
        s.createContext("/", text("served"));
        s.start();
        InetSocketAddress addr = s.getAddress();
        Conn conn = connect(s);
        conn.send("GET /late HTTP/1.1\r\nHo");
        if (provider.isBobbin()) {                              // the connection's head is arriving (phase HEAD)
            ServerCore core = ((BobbinHttpServer) s).core();
            long deadline = System.nanoTime() + SECONDS.toNanos(PATIENCE_S);
            while (!core.requestInProgressForTest()) {
                assertTrue(System.nanoTime() < deadline, "the server never counted the arriving head in progress");
                Thread.sleep(5);                                // polling, not a timing assertion
            }
        } else {
            assertTrue(dispatched.await(PATIENCE_S, SECONDS), "the server never saw the arriving head");
        }
        stopped.add(s);
        Thread stopper = Thread.ofPlatform().name("conformance-stopper").start(() -> s.stop(PATIENCE_S_INT));
        awaitListenerClosed(addr);
        RawResponse r;
        try {
            conn.send("st: localhost\r\n\r\n");
            r = conn.read();
        } catch (IOException e) {
            throw new AssertionError("stop closed a connection whose request head was arriving", e);
        }
        assertEquals("served", r.text());
        stopper.join(SECONDS.toMillis(PATIENCE_S + 5));
        assertFalse(stopper.isAlive());
    }

    /** A started server with one exchange in progress, its handler held until the test's {@code release}. */
    private record HeldExchange(HttpServer server, InetSocketAddress address, Conn conn) { }

    private HeldExchange exchangeHeldUntil(CountDownLatch release) throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        HttpServer s = server();
        // handlers run on an executor of the test's: with the JDK's default executor a handler runs on the
        // server's dispatcher thread, whose selector keeps the listening socket open until the handler returns
        ExecutorService executor = Executors.newFixedThreadPool(2);
        closeables.add(() -> {
            release.countDown();
            executor.shutdownNow();
        });
        s.setExecutor(executor);
        s.createContext("/", heldUntil(entered, release));
        s.start();
        Conn conn = connect(s);
        conn.send(rawGet("/slow"));
        assertTrue(entered.await(PATIENCE_S, SECONDS));
        stopped.add(s);
        return new HeldExchange(s, s.getAddress(), conn);
    }

    /**
     * Polls until connecting to {@code addr} fails: refused, or reset when the connection reached the
     * backlog of a listener that was closing (seen with the JDK's provider).
     */
    @SuppressWarnings("try")   // the probe is only opened
    private static void awaitListenerClosed(InetSocketAddress addr) throws InterruptedException {
        long deadline = System.nanoTime() + SECONDS.toNanos(PATIENCE_S);
        while (true) {
            try (Socket probe = new Socket(addr.getAddress(), addr.getPort())) {
                assertTrue(System.nanoTime() < deadline, "the listener is still open after stop began");
                Thread.sleep(5);   // polling, not a timing assertion
            } catch (IOException refusedOrReset) {
                return;
            }
        }
    }

    @Test
    void anUnboundServerIsBoundLater() throws Exception {
        HttpServer s = provider.factory().get().createHttpServer(null, 0);
        servers.add(s);
        s.createContext("/", text("bound later"));
        assertThrows(IllegalStateException.class, s::start);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        InetSocketAddress addr = s.getAddress();
        assertEquals(InetAddress.getLoopbackAddress(), addr.getAddress());
        assertTrue(addr.getPort() > 0);
        assertThrows(BindException.class, () -> s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
        HttpServer other = provider.factory().get().createHttpServer(null, 0);
        servers.add(other);
        assertThrows(NullPointerException.class, () -> other.bind(null, 0));
        s.start();
        assertEquals("bound later", get(s, "/").body());
        assertEquals(addr, s.getAddress());
    }

    @Test
    void getAddressIsTheBoundLoopbackAddress() throws Exception {
        HttpServer s = server();
        InetSocketAddress addr = s.getAddress();
        assertEquals(InetAddress.getLoopbackAddress(), addr.getAddress());
        assertTrue(addr.getPort() > 0);
        assertEquals(addr, s.getAddress());
    }

    // ---------------------------------------------------------------------------------------------
    // failing handlers

    @Test
    void aHandlerThrowingBeforeHeadersFailsOnlyItsExchange() throws Exception {
        // Bobbin logs the failure at WARNING: kept off the console, and checked
        try (RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.ALL)) {
            handlerThrowingBeforeHeaders();
            if (provider.isBobbin()) {
                assertTrue(log.records.stream().anyMatch(r -> r.getLevel() == java.util.logging.Level.WARNING),
                        "the failure was logged");
            }
        }
    }

    private void handlerThrowingBeforeHeaders() throws Exception {
        HttpServer s = server();
        s.createContext("/throw", ex -> {
            throw new IllegalStateException("handler failure (expected by the test)");
        });
        s.createContext("/ok", text("ok"));
        s.start();
        Conn conn = connect(s);
        conn.send(rawGet("/throw"));
        if (provider.isBobbin()) {
            // HANDLER_FAILURE_ANSWERS_500: Bobbin answers, then closes
            RawResponse r = conn.read();
            assertEquals(500, r.status(), HANDLER_FAILURE_ANSWERS_500);
            assertTrue(conn.closedByPeer());
        } else {
            // the JDK closes the connection without a response
            assertThrows(IOException.class, conn::read);
        }
        // the server goes on serving
        assertEquals("ok", connect(s).send(rawGet("/ok")).read().text());
        assertEquals("ok", get(s, "/ok").body());
    }

    @Test
    @SuppressWarnings("try")   // a resource held open for the test, not read
    void aHandlerThrowingAfterItsResponseDoesNotSpoilTheResponse() throws Exception {
        try (RawHttp.LogCapture ignored = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.ALL)) {
            handlerThrowingAfterItsResponse();
        }
    }

    private void handlerThrowingAfterItsResponse() throws Exception {
        HttpServer s = server();
        s.createContext("/late-throw", ex -> {
            respond(ex, 200, "complete");
            throw new IllegalStateException("late handler failure (expected by the test)");
        });
        s.createContext("/ok", text("ok"));
        s.start();
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/late-throw")).read();
        assertEquals(200, r.status());
        assertEquals("complete", r.text());
        assertEquals("ok", connect(s).send(rawGet("/ok")).read().text());
    }

    // ---------------------------------------------------------------------------------------------
    // ambiguous requests

    @Test
    void contentLengthWithTransferEncodingIsRejected() throws Exception {
        assertRejected("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n");
    }

    @Test
    void aRepeatedContentLengthIsRejected() throws Exception {
        assertRejected("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    }

    @Test
    void obsFoldIsRejectedByBobbin() throws Exception {
        assertRejectedByBobbinOnly("GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Folded: first\r\n second\r\n\r\n");
    }

    @Test
    void aBareCrIsRejected() throws Exception {
        assertRejected("GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Cr: a\rb\r\n\r\n");
    }

    @Test
    void http11WithoutHostIsRejectedByBobbin() throws Exception {
        assertRejectedByBobbinOnly("GET /echo HTTP/1.1\r\n\r\n");
    }

    /** Both providers answer 400 and close; the server goes on serving. */
    private void assertRejected(String request) throws Exception {
        HttpServer s = started("/echo", ECHO);
        Conn conn = connect(s);
        RawResponse r = conn.send(request).read();
        assertEquals(400, r.status());
        assertTrue(conn.closedByPeer());
        assertEquals("x", connect(s).send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx").read().text());
    }

    /** REJECTS_AMBIGUOUS_REQUESTS: Bobbin answers 400 and closes; the JDK serves the request. */
    private void assertRejectedByBobbinOnly(String request) throws Exception {
        HttpServer s = started("/echo", ECHO);
        Conn conn = connect(s);
        RawResponse r = conn.send(request).read();
        if (provider.isBobbin()) {
            assertEquals(400, r.status(), REJECTS_AMBIGUOUS_REQUESTS);
            assertTrue(conn.closedByPeer());
        } else {
            assertEquals(200, r.status());
        }
        assertEquals("x", connect(s).send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx").read().text());
    }
    // ---------------------------------------------------------------- misuse and fault paths of the API

    /** A handler that signals {@code entered}, waits for {@code release} and answers 200 "finished". */
    static HttpHandler heldUntil(CountDownLatch entered, CountDownLatch release) {
        return ex -> {
            entered.countDown();
            try {
                release.await(PATIENCE_S, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            respond(ex, 200, "finished");
        };
    }

    /** Records what a handler step did: "ok", or the simple name of the exception it threw. */
    interface Step { void run() throws Exception; }

    static String outcome(Step s) {
        try {
            s.run();
            return "ok";
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    @Test
    void exchangeAttributesAndContextAttributes() throws Exception {
        CompletableFuture<List<Object>> seen = new CompletableFuture<>();
        HttpServer s = server();
        HttpContext c = s.createContext("/a", ex -> {
            List<Object> l = new ArrayList<>();
            l.add(ex.getAttribute("ctx"));                       // a context attribute, read through the exchange
            ex.setAttribute("ex", "set on exchange");
            l.add(ex.getHttpContext().getAttributes().get("ex")); // an exchange attribute, read through the context
            l.add(outcome(() -> ex.getAttribute(null)));
            l.add(outcome(() -> ex.setAttribute(null, "v")));
            seen.complete(l);
            respond(ex, 200, "");
        });
        c.getAttributes().put("ctx", "set on context");
        s.start();
        assertEquals(200, get(s, "/a").statusCode());
        if (provider.isBobbin()) {
            assertEquals(Arrays.asList(null, null, "NullPointerException", "NullPointerException"), await(seen),
                    ATTRIBUTES_PER_EXCHANGE);
        } else {
            assertEquals(Arrays.asList("set on context", "set on exchange", "NullPointerException", "NullPointerException"),
                    await(seen));
        }
    }

    @Test
    void responseHeaderWithCrLfIsRefusedBySendResponseHeaders() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/inj", ex -> {
            Headers h = ex.getResponseHeaders();
            h.add("X-A", "fine");
            List<String> l = new ArrayList<>();
            l.add(outcome(() -> h.add("X-B", "v\r\nX-Injected: direct")));      // Headers itself checks
            h.get("X-A").add("v\r\nX-Injected: yes");                           // ... but not its live lists
            l.add(outcome(() -> ex.sendResponseHeaders(200, -1)));
            seen.complete(l);
            if (!l.get(1).equals("ok")) {
                h.remove("X-A");
                respond(ex, 200, "");
            }
        });
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/inj")).read();
        assertNull(r.header("X-Injected"), "response splitting: " + r.headerLines());
        assertEquals(200, r.status());
        assertEquals(List.of("IllegalArgumentException", "IllegalArgumentException"), await(seen));
    }

    @Test
    void aRefusedHeadLeavesNoTrace() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/refused", ex -> {
            Headers h = ex.getResponseHeaders();
            h.add("X-A", "fine");
            h.get("X-A").add("v\r\nX-Injected: yes");                        // Headers does not check its live lists
            List<String> l = new ArrayList<>();
            l.add(outcome(() -> ex.sendResponseHeaders(200, 0)));           // chunked, and refused
            l.add(Integer.toString(ex.getResponseCode()));
            seen.complete(l);
            h.remove("X-A");
            respond(ex, 403, "no");                                         // mended: a refusal, fixed length
        });
        Conn conn = connect(s);
        conn.send("POST /refused HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n");
        if (provider.isBobbin()) {
            RawResponse r = conn.read();
            assertEquals(403, r.status(), REFUSED_HEAD_LEAVES_NO_TRACE + ": no 100 Continue for the refused 200");
            assertNull(r.header("transfer-encoding"), REFUSED_HEAD_LEAVES_NO_TRACE + ": " + r.headerLines());
            assertEquals("2", r.header("content-length"));
            assertEquals("no", r.text());
            assertEquals(List.of("IllegalArgumentException", "-1"), await(seen), REFUSED_HEAD_LEAVES_NO_TRACE);
        } else {
            assertEquals(100, conn.read().status());
            RawResponse r = conn.read(true);                                // both framings: read the head only
            assertEquals(403, r.status());
            assertEquals("chunked", r.header("transfer-encoding"), r.headerLines().toString());
            assertEquals("2", r.header("content-length"));
            assertEquals(List.of("IllegalArgumentException", "200"), await(seen));
        }
    }

    @Test
    void responseHeaderOutsideLatin1IsRefused() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        HttpServer s = started("/u", ex -> {
            ex.getResponseHeaders().put("X-U", new ArrayList<>(List.of("ok")));
            ex.getResponseHeaders().get("X-U").set(0, "\u20ac");
            String o = outcome(() -> ex.sendResponseHeaders(200, -1));
            seen.complete(o);
            if (!o.equals("ok")) {
                ex.getResponseHeaders().remove("X-U");
                respond(ex, 200, "");
            }
        });
        RawResponse r = connect(s).send(rawGet("/u")).read();
        assertNull(r.header("X-U"), r.headerLines().toString());
        assertEquals("IllegalArgumentException", await(seen));
    }

    @Test
    void sendResponseHeadersAfterCloseFails() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        HttpServer s = started("/closed", ex -> {
            ex.close();
            seen.complete(outcome(() -> {
                ex.sendResponseHeaders(200, 4);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write("late".getBytes(UTF_8));
                }
            }));
        });
        Conn conn = connect(s);
        conn.send(rawGet("/closed"));
        await(seen);
        String got;
        try {
            RawResponse r = conn.read();
            got = r.statusLine() + " " + r.headerLines() + " " + r.text();
        } catch (IOException e) {
            got = null;
        }
        assertNull(got, "the connection closes without a response");
        assertNotEquals("ok", await(seen), "an exchange closed before its headers cannot answer afterwards");
    }

    @Test
    void readingTheRequestBodyAfterTheResponseIsClosedFails() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        HttpServer s = started("/rb", ex -> {
            ex.sendResponseHeaders(200, 2);
            ex.getResponseBody().write("ok".getBytes(UTF_8));
            ex.getResponseBody().close();                     // closes the request body too (HttpExchange spec)
            seen.complete(outcome(() -> ex.getRequestBody().read()));
        });
        Conn conn = connect(s);
        RawResponse r = conn.send("POST /rb HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nabcde").read();
        assertEquals("ok", r.text());
        assertEquals("IOException", await(seen));
    }

    /**
     * {@code sendResponseHeaders(code, -1)} ends the exchange as {@code close()} does: the request body is
     * closed too, so a handler reading it afterwards gets an IOException. A handler on an executor must
     * never read a silently shortened body while the connection drains the rest for the next request.
     */
    @Test
    void readingTheRequestBodyAfterAResponseWithoutBodyFails() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        ExecutorService executor = Executors.newFixedThreadPool(2);
        closeables.add(executor::shutdownNow);
        HttpServer s = server();
        s.setExecutor(executor);
        s.createContext("/nb", ex -> {
            ex.sendResponseHeaders(204, -1);
            try {
                Thread.sleep(300);                           // the connection has moved on by now
                byte[] b = ex.getRequestBody().readAllBytes();
                seen.complete("read " + b.length + " bytes");
            } catch (IOException e) {
                seen.complete("IOException");
            } catch (InterruptedException e) {
                seen.complete("interrupted");
            }
        });
        s.createContext("/next", text("next"));
        s.start();
        Conn conn = connect(s);
        conn.send("POST /nb HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789");
        assertEquals(204, conn.read().status());
        assertEquals("IOException", await(seen), "a request body read after the exchange ended");
        assertEquals("next", conn.send(rawGet("/next")).read().text());
    }

    @Test
    void flushingTheResponseBodyBeforeHeadersFails() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/fl", ex -> {
            OutputStream os = ex.getResponseBody();
            List<String> l = new ArrayList<>();
            l.add(outcome(() -> os.write(1)));
            l.add(outcome(os::flush));
            l.add(outcome(os::close));
            seen.complete(l);
            respond(ex, 200, "after");
        });
        assertEquals("after", get(s, "/fl").body());
        assertEquals(List.of("IOException", "IOException", "IOException"), await(seen));
    }

    @Test
    void statusCodesOutsideThreeDigits() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/code", ex -> {
            int code = Integer.parseInt(ex.getRequestURI().getQuery());
            String o = outcome(() -> ex.sendResponseHeaders(code, -1));
            seen.complete(List.of(String.valueOf(code), o));
            if (!o.equals("ok")) respond(ex, 200, "refused");
        });
        RawResponse r = connect(s).send(rawGet("/code?1000")).read();
        if (provider.isBobbin()) {
            assertEquals(List.of("1000", "IllegalArgumentException"), await(seen), THREE_DIGIT_STATUS_CODES);
            assertEquals(200, r.status());
        } else {
            assertEquals(List.of("1000", "ok"), await(seen));
            assertEquals(1000, r.status());
        }
    }

    @Test
    void headAnd204WithABodyWritten() throws Exception {
        // the JDK's provider logs each such misuse at WARNING: kept off the console
        RawHttp.LogCapture jdkLog = new RawHttp.LogCapture("com.sun.net.httpserver", java.util.logging.Level.ALL);
        closeables.add(jdkLog::close);
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer s = server();
        s.createContext("/hb", ex -> {
            ex.sendResponseHeaders(200, 5);
            seen.add(ex.getRequestMethod() + " " + outcome(() -> ex.getResponseBody().write("12345".getBytes(UTF_8))));
            ex.close();
        });
        s.createContext("/nc", ex -> {
            ex.sendResponseHeaders(204, 5);
            seen.add("204 " + outcome(() -> ex.getResponseBody().write("12345".getBytes(UTF_8))));
            ex.close();
        });
        s.start();
        Conn conn = connect(s);
        conn.send("HEAD /hb HTTP/1.1\r\nHost: localhost\r\n\r\n" + rawGet("/nc") + rawGet("/hb"));
        RawResponse head = conn.read(true);
        assertEquals(200, head.status());
        assertNull(head.header("Content-Length"));
        RawResponse nc = conn.read();
        assertEquals(204, nc.status());
        assertNull(nc.header("Content-Length"));
        RawResponse get = conn.read();
        assertEquals("12345", get.text());
        assertEquals(List.of("HEAD IOException", "204 IOException", "GET ok"), seen);
    }

    @Test
    void responseHeadersSetAfterSendingAreNotSent() throws Exception {
        HttpServer s = started("/late", ex -> {
            ex.sendResponseHeaders(200, 2);
            ex.getResponseHeaders().set("X-Late", "1");
            try (OutputStream os = ex.getResponseBody()) {
                os.write("ok".getBytes(UTF_8));
            }
        });
        RawResponse r = connect(s).send(rawGet("/late")).read();
        assertNull(r.header("X-Late"));
        assertEquals("ok", r.text());
    }

    @Test
    void absoluteFormAndEncodedTargets() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer s = server();
        s.createContext("/p/", ex -> {
            URI u = ex.getRequestURI();
            seen.add(u + " | " + u.getPath() + " | " + u.getRawQuery() + " | " + ex.getHttpContext().getPath());
            respond(ex, 200, "");
        });
        s.start();
        Conn conn = connect(s);
        assertEquals(200, conn.send("GET http://localhost/p/x?q=1&r=%20 HTTP/1.1\r\nHost: localhost\r\n\r\n").read().status());
        assertEquals(200, conn.send(rawGet("/p%2Fz?")).read().status());   // an encoded slash decodes for the match
        assertEquals(404, connect(s).send("GET http://localhost HTTP/1.1\r\nHost: localhost\r\n\r\n").read().status());
        assertEquals(400, connect(s).send(rawGet("/p/%zz")).read().status());
        assertEquals(List.of("http://localhost/p/x?q=1&r=%20 | /p/x | q=1&r=%20 | /p/",
                "/p%2Fz? | /p/z |  | /p/"), seen);
    }

    @Test
    void authenticatorRetryAndFailure() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        HttpServer s = server();
        HttpContext c = s.createContext("/auth", ex -> {
            handled.incrementAndGet();
            respond(ex, 200, "in");
        });
        c.setAuthenticator(new com.sun.net.httpserver.Authenticator() {
            @Override public Result authenticate(HttpExchange ex) {
                String q = ex.getRequestURI().getQuery();
                if ("retry".equals(q)) {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Custom");
                    return new Retry(407);
                }
                if ("fail".equals(q)) return new Failure(403);
                return new Success(new HttpPrincipal("u", "r"));
            }
        });
        s.start();
        Conn conn = connect(s);
        RawResponse retry = conn.send("POST /auth?retry HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc").read();
        assertEquals(407, retry.status());
        assertEquals("Custom", retry.header("WWW-Authenticate"));
        assertEquals(403, conn.send(rawGet("/auth?fail")).read().status());
        assertEquals("in", conn.send(rawGet("/auth?ok")).read().text());
        assertEquals(1, handled.get());
    }

    @Test
    void chainCalledTwice() throws Exception {
        CompletableFuture<String> second = new CompletableFuture<>();
        AtomicInteger handled = new AtomicInteger();
        HttpServer s = server();
        HttpContext c = s.createContext("/twice", ex -> {
            handled.incrementAndGet();
            respond(ex, 200, "once");
        });
        c.getFilters().add(new Filter() {
            @Override public void doFilter(HttpExchange ex, Chain chain) throws IOException {
                chain.doFilter(ex);
                second.complete(outcome(() -> chain.doFilter(ex)));
            }

            @Override public String description() { return "twice"; }
        });
        s.start();
        Conn conn = connect(s);
        RawResponse r = conn.send(rawGet("/twice")).read();
        assertEquals("once", r.text());
        assertEquals("IOException", await(second));
        assertEquals(2, handled.get());
    }

    @Test
    void removingAContextWhileItsRequestIsInFlight() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HttpServer s = server();
        s.createContext("/rm", heldUntil(entered, release));
        s.start();
        Conn conn = connect(s);
        conn.send(rawGet("/rm"));
        assertTrue(entered.await(PATIENCE_S, SECONDS));
        s.removeContext("/rm");
        release.countDown();
        assertEquals("finished", conn.read().text());
        assertEquals(404, conn.send(rawGet("/rm")).read().status());
    }

    @Test
    void contextPathMisuse() throws Exception {
        HttpServer s = server();
        assertThrows(IllegalArgumentException.class, () -> s.createContext("", text("x")));
        assertThrows(IllegalArgumentException.class, () -> s.createContext(""));
        assertThrows(NullPointerException.class, () -> s.createContext(null));
        assertThrows(IllegalArgumentException.class, () -> s.createContext("nope"));
        // HttpServer.removeContext(HttpContext) documents NullPointerException; the JDK throws IllegalArgumentException
        assertEquals(provider.isBobbin() ? "NullPointerException" : "IllegalArgumentException",
                outcome(() -> s.removeContext((HttpContext) null)));
    }

    @Test
    void bindingAStartedServerThrowsBindException() throws Exception {
        HttpServer s = started("/", text("up"));
        InetSocketAddress other = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        assertThrows(BindException.class, () -> s.bind(other, 0), "HttpServer.bind: BindException if already bound");
        InetSocketAddress addr = s.getAddress();
        stop(s, 0);
        assertThrows(BindException.class, () -> s.bind(other, 0));
        assertEquals(addr, s.getAddress(), "the address after stop");
    }

    @Test
    void lifecycleMisuse() throws Exception {
        HttpServer unbound = provider.factory().get().createHttpServer(null, 0);
        servers.add(unbound);
        assertNull(unbound.getAddress());
        HttpServer s = server();
        stop(s, 0);                                   // stop before start
        assertThrows(IllegalStateException.class, s::start);
        s.stop(0);                                    // stop twice
        assertThrows(IllegalArgumentException.class, () -> s.stop(-1));
    }

    @Test
    void anAuthenticatorReturningNullDoesNotAdmit() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        HttpServer s = server();
        HttpContext c = s.createContext("/nullauth", ex -> {
            handled.incrementAndGet();
            respond(ex, 200, "admitted");
        });
        c.setAuthenticator(new com.sun.net.httpserver.Authenticator() {
            @Override public Result authenticate(HttpExchange ex) { return null; }   // a buggy authenticator
        });
        s.start();
        Conn conn = connect(s);
        conn.socket.setSoTimeout(1500);
        Integer status;
        try (RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.ALL)) {
            try {
                status = conn.send(rawGet("/nullauth")).read().status();
            } catch (IOException e) {
                status = null;                                // the JDK never answers
            }
            if (provider.isBobbin()) {
                assertEquals(500, status, HANDLER_FAILURE_ANSWERS_500);
                assertTrue(log.records.stream().anyMatch(r -> (r.getMessage() + " " + r.getThrown()).contains("Authenticator returned null")),
                        "the buggy authenticator is logged");
            }
        }
        assertEquals(0, handled.get(), "the handler ran for an unauthenticated request (status " + status + ")");
    }

    @Test
    void anExecutorThatRejects() throws Exception {
        HttpServer s = server();
        s.setExecutor(r -> { throw new java.util.concurrent.RejectedExecutionException("full (expected by the test)"); });
        s.createContext("/", text("never"));
        s.start();
        Conn conn = connect(s);
        RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.ALL);
        closeables.add(log::close);                          // the rejection's log line stays off the console
        String got;
        try {
            got = String.valueOf(conn.send(rawGet("/")).read().status());
        } catch (IOException e) {
            got = "closed";
        }
        assertEquals(provider.isBobbin() ? "503" : "closed", got, REJECTING_EXECUTOR_ANSWERS_503);
    }

    @Test
    void requestHeadersWithOddKeys() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/k", ex -> {
            Headers h = ex.getRequestHeaders();
            seen.complete(List.of(
                    outcome(() -> h.get(null)),
                    outcome(() -> h.getFirst(null)),
                    outcome(() -> h.containsKey(null)),
                    outcome(() -> { if (h.containsKey(42)) throw new AssertionError(); }),
                    String.valueOf(h.getFirst("X-Empty")),
                    String.valueOf(h.size())));
            respond(ex, 200, "");
        });
        assertEquals(200, connect(s).send("GET /k HTTP/1.1\r\nHost: localhost\r\nX-Empty:\r\n\r\n").read().status());
        assertEquals(List.of("NullPointerException", "NullPointerException", "NullPointerException", "ok", "", "2"), await(seen));
    }

    @Test
    void bindingToAnAddressInUseOrNotLocal() throws Exception {
        HttpServer first = started("/", text("first"));
        HttpServer s = provider.factory().get().createHttpServer(null, 0);
        servers.add(s);
        assertThrows(BindException.class, () -> s.bind(first.getAddress(), 0));
        assertNull(s.getAddress());
        assertThrows(BindException.class, () -> s.bind(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 0), 0));
        // the failed binds left it unbound: it binds now
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.createContext("/", text("second"));
        s.start();
        assertEquals("second", get(s, "/").body());
        assertThrows(BindException.class,
                () -> provider.factory().get().createHttpServer(first.getAddress(), 0));
    }

    @Test
    void stopFromAHandlerAfterItsResponse() throws Exception {
        stopFromAHandler(false);
    }

    @Test
    void stopFromAHandlerOnAnExecutorAfterItsResponse() throws Exception {
        stopFromAHandler(true);
    }

    /** A shutdown endpoint: the handler answers, then stops its own server; the answer must reach the client. */
    private void stopFromAHandler(boolean onExecutor) throws Exception {
        CompletableFuture<String> stopped = new CompletableFuture<>();
        HttpServer[] self = new HttpServer[1];
        HttpServer s = server();
        self[0] = s;
        if (onExecutor) {
            ExecutorService executor = Executors.newFixedThreadPool(2);
            closeables.add(executor::shutdownNow);
            s.setExecutor(executor);
        }
        s.createContext("/stop", ex -> {
            respond(ex, 200, "bye");
            self[0].stop(1);
            stopped.complete("stopped");
        });
        s.start();
        this.stopped.add(s);
        Conn conn = connect(s);
        conn.send(rawGet("/stop"));
        assertEquals("stopped", await(stopped));
        String got;
        try {
            got = conn.read().text();
        } catch (IOException e) {
            got = e.toString();
        }
        assertEquals("bye", got, "the handler's answer, completed before it called stop()");
    }

    @Test
    void addressAfterStopAndAsteriskTarget() throws Exception {
        HttpServer s = started("/", text("root"));
        InetSocketAddress addr = s.getAddress();
        RawResponse r = connect(s).send("OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
        assertEquals(404, r.status());
        stop(s, 0);
        String after;
        try {
            after = String.valueOf(s.getAddress());
        } catch (RuntimeException e) {
            after = e.toString();
        }
        assertEquals(String.valueOf(addr), after);
    }

    /**
     * A race tried 300 times: a handler on an executor closes its exchange, then answers on it anyway
     * while the connection sends what the close left. Nothing may go out, and each late call fails with
     * an IOException (on Bobbin never a released buffer's exception).
     */
    @Test
    @Timeout(value = 120, unit = SECONDS)
    void usingAClosedExchangeFromAnExecutorSendsNothing() throws Exception {
        List<String> outcomes = new CopyOnWriteArrayList<>();
        HttpServer s = server();
        ExecutorService executor = Executors.newFixedThreadPool(4);
        closeables.add(executor::shutdownNow);
        s.setExecutor(executor);
        byte[] big = new byte[256 * 1024];
        s.createContext("/", ex -> {
            ex.close();
            outcomes.add(outcome(() -> {
                ex.sendResponseHeaders(200, big.length);
                OutputStream os = ex.getResponseBody();
                for (int off = 0; off < big.length; off += 1000) os.write(big, off, Math.min(1000, big.length - off));
                os.close();
            }));
        });
        s.start();
        try (RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.ALL)) {
            int responses = 0;
            for (int i = 0; i < 300; i++) {
                Conn conn = connect(s);
                conn.socket.setSoTimeout(2000);
                conn.send(rawGet("/"));
                try {
                    RawResponse r = conn.read();
                    responses++;
                    if (r.body().length != big.length) outcomes.add("short body " + r.body().length);
                } catch (IOException e) {
                    // closed without a response: what the JDK does
                }
                conn.close();
            }
            Thread.sleep(500);
            java.util.Map<String, Long> counts = new java.util.TreeMap<>();
            for (String o : outcomes) counts.merge(o, 1L, Long::sum);
            List<String> logged = log.records.stream().filter(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
                    .map(r -> r.getMessage() + " " + r.getThrown()).distinct().toList();
            assertEquals(0, responses, "responses sent on closed exchanges; outcomes " + counts + "; warnings " + logged);
            assertTrue(java.util.Set.of("IOException", "ClosedChannelException").containsAll(counts.keySet()),
                    "outcomes of the late calls (IOExceptions only): " + counts + "; warnings " + logged);
        }
    }

    /**
     * stop() from two threads: while one waits out a long delay for an exchange in progress, a second
     * stop(0) must not return before the server is stopped. HttpServer.stop: "Then, all open TCP
     * connections are closed, the background thread created by start() exits, and the method returns."
     */
    @Test
    void aConcurrentStopWithNoDelayClosesTheExchangeBeforeReturning() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HeldExchange held = exchangeHeldUntil(release);
        HttpServer s = held.server();
        InetSocketAddress addr = held.address();
        Conn conn = held.conn();
        Thread first = Thread.ofPlatform().name("conformance-first-stopper").start(() -> s.stop(60));
        awaitListenerClosed(addr);                    // the first stop has begun
        Thread.ofPlatform().daemon().start(() -> {     // the handler returns soon: no stop waits out a handler that never does
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
                // released at once
            }
            release.countDown();
        });
        s.stop(0);
        conn.socket.setSoTimeout(3000);
        boolean closed = conn.closedByPeer();
        release.countDown();
        first.join(SECONDS.toMillis(PATIENCE_S));
        assertTrue(closed, "stop(0) returned while the exchange's connection was still open");
        assertFalse(first.isAlive());
    }
}
