package dev.bobbin.http;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.bobbin.http.HttpServerConformanceTest.Conn;
import dev.bobbin.http.HttpServerConformanceTest.Provider;
import dev.bobbin.http.HttpServerConformanceTest.RawResponse;
import java.io.ByteArrayOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.bobbin.http.HttpServerConformanceTest.outcome;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Corners of the {@code com.sun.net.httpserver} API, each run against the JDK's own provider as the
 * control and Bobbin's: binding a stopped server, raw UTF-8 request targets, the protocol string, the
 * read-only request headers' Map defaults, a failed early close of the response body, and stop() while a
 * handler on the executor never returns; the response body's writes before the headers and flushes after
 * close, a handler failing after its complete response, and a handler reading its body on one thread
 * while another writes its response.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class HttpApiConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    HttpApiConformanceTest(Provider provider) {
        this.provider = provider;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (HttpServer s : servers) s.stop(0);
        for (AutoCloseable c : closeables) c.close();
    }

    private HttpServer started(String path, HttpHandler handler) throws IOException {
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(s);
        s.createContext(path, handler);
        s.start();
        return s;
    }

    private Conn connect(HttpServer s) throws IOException {
        Conn c = new Conn(new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort()));
        closeables.add(c);
        return c;
    }

    private HttpServer started(HttpHandler handler) throws IOException {
        return started("/", handler);
    }

    /**
     * {@code HttpServer.bind} declares only IOException (BindException) besides NullPointerException: a
     * server stopped before it was ever bound refuses a bind with an IOException on the JDK's provider
     * (ClosedChannelException), not with an unchecked exception.
     */
    @Test
    void bindingAServerStoppedBeforeItWasBoundThrowsAnIOException() throws Exception {
        HttpServer s = provider.factory().get().createHttpServer(null, 0);
        servers.add(s);
        s.stop(0);
        Throwable t;
        try {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            t = null;
        } catch (Throwable e) {
            t = e;
        }
        assertInstanceOf(IOException.class, t, "bind on a stopped server");
        assertNull(s.getAddress());
    }

    /**
     * {@code HttpServer.create} and {@code bind} declare IOException: an unresolved address is refused with
     * one, a {@link java.net.SocketException} ("Unresolved address", as the JDK's provider reports it through
     * its {@code ServerSocket}), not with the unchecked {@link java.nio.channels.UnresolvedAddressException}
     * of a channel; the server stays unbound and can be bound to a usable address afterwards.
     */
    @Test
    void anUnresolvedAddressIsRefusedWithASocketException() throws Exception {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("bobbin.invalid", 0);
        assertInstanceOf(java.net.SocketException.class, thrown(() -> provider.factory().get().createHttpServer(unresolved, 0)),
                "create with an unresolved address");
        HttpServer s = provider.factory().get().createHttpServer(null, 0);
        servers.add(s);
        assertInstanceOf(java.net.SocketException.class, thrown(() -> { s.bind(unresolved, 0); return null; }), "bind to an unresolved address");
        assertNull(s.getAddress());
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        assertNotNull(s.getAddress());
    }

    private interface Call {
        Object call() throws Exception;
    }

    private static Throwable thrown(Call c) {
        try {
            Object r = c.call();
            if (r instanceof HttpServer s) s.stop(0);
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /**
     * {@code bind} on a bound server fails with BindException ("already bound") whatever the address, a null
     * one included: the JDK's provider checks the state before the argument.
     */
    @Test
    void bindingABoundServerAgainThrowsBindExceptionEvenForANullAddress() throws Exception {
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(s);
        Throwable t;
        try {
            s.bind(null, 0);
            t = null;
        } catch (Throwable e) {
            t = e;
        }
        assertInstanceOf(java.net.BindException.class, t, "bind(null) on a bound server");
    }

    /**
     * {@code setExecutor} and {@code setHttpsConfigurator} throw IllegalStateException only once the server
     * has been started ("if the server is already started"): a server stopped before it was ever started
     * takes them, as the JDK's provider does.
     */
    @Test
    void aServerStoppedBeforeItStartedTakesAnExecutor() throws Exception {
        HttpServer s = provider.factory().get().createHttpServer(null, 0);
        servers.add(s);
        s.stop(0);
        java.util.concurrent.Executor direct = Runnable::run;
        s.setExecutor(direct);
        assertSame(direct, s.getExecutor());
        com.sun.net.httpserver.HttpsServer h = provider.factory().get().createHttpsServer(null, 0);
        servers.add(h);
        h.stop(0);
        com.sun.net.httpserver.HttpsConfigurator c = new com.sun.net.httpserver.HttpsConfigurator(javax.net.ssl.SSLContext.getDefault());
        h.setHttpsConfigurator(c);
        assertSame(c, h.getHttpsConfigurator());
    }

    /**
     * A request target with bytes above 0x7F (curl sends a path typed as {@code /café} as its raw UTF-8
     * bytes): the JDK's provider reads the request line as ISO-8859-1 and serves it if {@code java.net.URI}
     * accepts it.
     */
    @Test
    void aTargetWithBytesAbove0x7fIsServed() throws Exception {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpServer s = started("/", ex -> {
            seen.add(ex.getRequestURI().getRawPath() + "?" + ex.getRequestURI().getRawQuery());
            HttpServerConformanceTest.respond(ex, 200, "ok");
        });
        Conn c = connect(s);
        assertEquals(200, c.send("GET /caf\u00c3\u00a9 HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(ISO_8859_1)).read().status());
        assertEquals(200, c.send("GET /q?name=\u00e9t\u00e9 HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(ISO_8859_1)).read().status());
        assertEquals(List.of("/caf\u00c3\u00a9?null", "/q?name=\u00e9t\u00e9"), seen);
    }

    /**
     * {@code HttpExchange.getProtocol()}: "the protocol string from the request in the form
     * protocol/majorVersion.minorVersion". The JDK's provider reports the version the client sent.
     */
    @Test
    void getProtocolReportsTheRequestsMinorVersion() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        HttpServer s = started("/", ex -> {
            seen.complete(ex.getProtocol());
            HttpServerConformanceTest.respond(ex, 200, "ok");
        });
        assertEquals(200, connect(s).send("GET /v HTTP/1.2\r\nHost: localhost\r\n\r\n").read().status());
        assertEquals("HTTP/1.2", seen.get(10, SECONDS));
    }

    /**
     * The request headers are read-only; on the JDK's provider the {@code Map} methods that do not modify
     * the map in a given case ({@code computeIfAbsent} and {@code putIfAbsent} of a present key,
     * {@code computeIfPresent} of an absent one) answer as any map does instead of throwing.
     */
    @Test
    void readOnlyRequestHeadersAnswerMapDefaultsThatChangeNothing() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/", ex -> {
            var h = ex.getRequestHeaders();
            List<String> l = new ArrayList<>();
            l.add(result(() -> h.computeIfAbsent("host", k -> List.of("x"))));
            l.add(result(() -> h.putIfAbsent("Host", List.of("x"))));
            l.add(result(() -> h.computeIfPresent("X-Absent", (k, v) -> List.of("x"))));
            l.add(result(() -> h.compute("X-Absent", (k, v) -> null)));
            l.add(result(() -> h.computeIfAbsent("X-Absent", k -> List.of("x"))));
            l.add(result(() -> h.putIfAbsent("X-Absent", List.of("x"))));
            seen.complete(l);
            HttpServerConformanceTest.respond(ex, 200, "");
        });
        assertEquals(200, connect(s).send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").read().status());
        assertEquals(List.of("[localhost]", "[localhost]", "null", "null", "UnsupportedOperationException", "UnsupportedOperationException"),
                seen.get(10, SECONDS));
    }

    private static String result(java.util.concurrent.Callable<?> c) {
        try {
            return String.valueOf(c.call());
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    /**
     * Closing the response body before {@code sendResponseHeaders} fails with an IOException and, on the
     * JDK's provider, changes nothing: the handler can still read its request body and answer.
     */
    @Test
    void aFailedCloseOfTheResponseBodyLeavesTheRequestBodyReadable() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started("/", ex -> {
            List<String> l = new ArrayList<>();
            l.add(HttpServerConformanceTest.outcome(() -> ex.getResponseBody().close()));
            try {
                l.add(new String(ex.getRequestBody().readAllBytes(), ISO_8859_1));
            } catch (IOException e) {
                l.add(e.toString());
            }
            seen.complete(l);
            HttpServerConformanceTest.respond(ex, 200, "ok");
        });
        Conn c = connect(s);
        assertEquals("ok", c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc").read().text());
        assertEquals(List.of("IOException", "abc"), seen.get(10, SECONDS));
    }

    /**
     * {@code HttpServer.stop(delay)}: "The method will then block until all current exchange handlers have
     * completed or else when approximately delay seconds have elapsed (whichever happens sooner). Then, all
     * open TCP connections are closed, the background thread created by start() exits, and the method
     * returns." With an executor, a handler that does not return does not hold up the JDK's stop.
     */
    @Test
    void stopReturnsAfterItsDelayWhileAHandlerOnTheExecutorDoesNotReturn() throws Exception {
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newFixedThreadPool(2);
        closeables.add(executor::shutdownNow);
        closeables.addFirst(release::countDown);                 // before the executor goes: the handler returns
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setExecutor(executor);
        s.createContext("/stuck", ex -> {
            entered.countDown();
            try {
                release.await();                              // a handler stuck on a call that does not return
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        s.start();
        Conn c = connect(s);
        c.send("GET /stuck HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertTrue(entered.await(10, SECONDS));
        Thread stopper = Thread.ofPlatform().daemon().start(() -> s.stop(1));
        stopper.join(SECONDS.toMillis(10));
        boolean returned = !stopper.isAlive();
        release.countDown();                                  // lets a stop still waiting finish
        stopper.join(SECONDS.toMillis(10));
        assertTrue(returned, "stop(1) had not returned 10 s later: it waits for the stuck handler");
        c.socket.setSoTimeout(5000);
        assertTrue(c.closedByPeer(), "the connection is closed");
    }

    /** "ok", "IOException" (of any kind: the JDK's is its own subclass) or the simple name of another exception. */
    private static String outcome(HttpServerConformanceTest.Step s) {
        try {
            s.run();
            return "ok";
        } catch (IOException e) {
            return "IOException";
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    /**
     * Flushing a closed response body: the JDK's chunked stream fails with an IOException (its
     * {@code StreamClosedException}), as a write to it does; its fixed-length and HTTP/1.0 streams pass the
     * flush through. The response on the wire is complete either way.
     */
    @Test
    void flushingAClosedChunkedBodyFailsAsWritingToItDoes() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started(ex -> {
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            os.write("ok".getBytes(ISO_8859_1));
            os.close();
            seen.complete(List.of(outcome(() -> os.write(1)), outcome(os::flush)));
        });
        assertEquals("ok", connect(s).send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").read().text());
        assertEquals(List.of("IOException", "IOException"), seen.get(10, SECONDS));
    }

    @Test
    void flushingAClosedFixedLengthBodyIsANoOp() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started(ex -> {
            ex.sendResponseHeaders(200, 2);
            OutputStream os = ex.getResponseBody();
            os.write("ok".getBytes(ISO_8859_1));
            os.close();
            seen.complete(List.of(outcome(() -> os.write(1)), outcome(os::flush)));
        });
        assertEquals("ok", connect(s).send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").read().text());
        assertEquals(List.of("IOException", "ok"), seen.get(10, SECONDS));
    }

    /**
     * Before {@code sendResponseHeaders} the response body refuses every write with an IOException, a write of
     * no bytes included: the JDK's placeholder stream checks that the headers were sent before anything else.
     * (After the headers, and after close, a write of no bytes is a no-op on both.)
     */
    @Test
    void aZeroLengthWriteBeforeTheHeadersFails() throws Exception {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        HttpServer s = started(ex -> {
            OutputStream os = ex.getResponseBody();
            List<String> l = new ArrayList<>();
            l.add(outcome(() -> os.write(new byte[0])));
            l.add(outcome(() -> os.write(new byte[4], 2, 0)));
            ex.sendResponseHeaders(200, 2);
            l.add(outcome(() -> os.write(new byte[0])));      // after the headers: nothing to do
            os.write(new byte[] {'o', 'k'});
            os.close();
            l.add(outcome(() -> os.write(new byte[0])));      // after close: nothing to do either
            seen.complete(l);
        });
        Conn c = new Conn(new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort()));
        closeables.add(c);
        assertEquals("ok", c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").read().text());
        assertEquals(List.of("IOException", "IOException", "ok", "ok"), seen.get(10, SECONDS));
    }

    /**
     * A handler that throws after its response is complete (written and closed) spoils nothing: the JDK's
     * provider closes the connection only when the response was not finished ({@code ServerImpl.Exchange.run}:
     * {@code if (tx == null || !tx.writefinished) closeConnection}), so the connection carries the next
     * request, a pipelined one included.
     */
    @SuppressWarnings("try")                           // the resource is there to be closed, in this order
    @Test
    void theConnectionCarriesTheNextRequestAfterAHandlerThrewPastItsCompleteResponse() throws Exception {
        try (RawHttp.LogCapture ignored = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.ALL)) {
            HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            servers.add(s);
            s.createContext("/late-throw", ex -> {
                HttpServerConformanceTest.respond(ex, 200, "complete");
                throw new IllegalStateException("late handler failure (expected by the test)");
            });
            s.createContext("/ok", HttpServerConformanceTest.text("ok"));
            s.start();
            Conn c = new Conn(new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort()));
            closeables.add(c);
            c.send("GET /late-throw HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertEquals("complete", c.read().text());
            assertEquals("ok", c.read().text(), "the pipelined request is answered on the same connection");
            assertEquals("ok", c.send("GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n").read().text());
        }
    }

    /**
     * A handler may read its request body on one thread while it writes its response on another (a tunnel, a
     * streaming echo): on the JDK's provider the two directions are independent, so a response written while a
     * read waits for the client's next bytes reaches the client at once.
     */
    @Test
    void aResponseWrittenWhileAnotherThreadWaitsForTheRequestBodyGoesOut() throws Exception {
        HttpServer s = started(ex -> {
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            CompletableFuture<String> body = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try {
                    body.complete(new String(ex.getRequestBody().readAllBytes(), ISO_8859_1));
                } catch (IOException e) {
                    body.complete(e.toString());
                }
            });
            // the reader is waiting for the body, which the client sends only after it has read "hello"
            try { Thread.sleep(200); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            os.write("hello\n".getBytes(ISO_8859_1));
            os.flush();
            try {
                os.write(("got " + body.get(15, SECONDS) + "\n").getBytes(ISO_8859_1));
            } catch (Exception e) {
                os.write(e.toString().getBytes(ISO_8859_1));
            }
            os.close();
        });
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort())) {
            c.setSoTimeout(5000);
            c.getOutputStream().write("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\n".getBytes(ISO_8859_1));
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), ISO_8859_1));
            List<String> lines = new ArrayList<>();
            for (String l; (l = in.readLine()) != null && !l.equals("hello"); ) lines.add(l);
            assertEquals("HTTP/1.1 200 OK", lines.getFirst(), "the flushed response arrives while the body is still to come");
            c.getOutputStream().write("abc".getBytes(ISO_8859_1));
            String got = null;
            for (String l; (l = in.readLine()) != null && !l.equals("0"); ) if (l.startsWith("got ")) got = l;
            assertEquals("got abc", got);
        }
    }

    /**
     * Two deliberate differences of the request body stream, where Bobbin's follows the {@code InputStream}
     * contract and the JDK's provider does not: {@code read(b, off, 0)} at the end of the body returns 0
     * (the JDK's -1), and {@code available()} after {@code close()} throws an IOException (the JDK's 0).
     */
    @Test
    void theRequestBodyStreamFollowsTheInputStreamContractWhereTheJdksDoesNot() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        HttpServer s = started(ex -> {
            java.io.InputStream in = ex.getRequestBody();
            String atEnd;
            String afterClose;
            try {
                in.readAllBytes();
                atEnd = Integer.toString(in.read(new byte[4], 0, 0));
                in.close();
                try {
                    afterClose = Integer.toString(in.available());
                } catch (IOException e) {
                    afterClose = "IOException";
                }
                seen.complete(atEnd + " " + afterClose);
            } catch (Throwable t) {
                seen.complete(t.toString());
            }
            HttpServerConformanceTest.respond(ex, 200, "ok");
        });
        Conn c = connect(s);
        c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        assertEquals(200, c.read().status());
        String expected = provider.isBobbin() ? "0 IOException" : "-1 0";
        assertEquals(expected, seen.get(10, SECONDS), provider + ": read(b, off, 0) at the end, then available() after close");
    }

    /**
     * A deliberate difference: an HTTPS server started without an {@code HttpsConfigurator} fails at
     * {@code start()} with IllegalStateException on Bobbin's provider; the JDK's starts, and every
     * connection then fails in its handshake.
     */
    @Test
    void anHttpsServerWithoutAConfiguratorIsRefusedAtStartOnBobbinOnly() throws Exception {
        com.sun.net.httpserver.HttpsServer h = provider.factory().get()
                .createHttpsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(h);
        h.createContext("/", ex -> HttpServerConformanceTest.respond(ex, 200, "ok"));
        Throwable t;
        try {
            h.start();
            t = null;
        } catch (Throwable e) {
            t = e;
        }
        if (provider.isBobbin()) {
            assertInstanceOf(IllegalStateException.class, t, "start without a configurator");
            assertTrue(t.getMessage().contains("HttpsConfigurator"), t.getMessage());
        } else {
            assertNull(t, "the JDK's provider starts without a configurator");
        }
    }
    /**
     * A filter that captures the response ({@code setStreams} with a buffer), lets the handler close the
     * exchange, then writes what it captured, transformed, to the real response body and closes it: the
     * exchange's close closes the filter's stream, not the real one ({@code HttpExchange.close}: "the
     * response OutputStream" is the one set), so the client gets the transformed body, chunked or of a
     * fixed length, and the connection stays usable.
     */
    @ParameterizedTest
    @ValueSource(longs = {0, 5})
    void aFilterWritesTheRealBodyAfterTheHandlerClosedTheExchange(long length) throws Exception {
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(s);
        HttpContext ctx = s.createContext("/", ex -> {
            try (ex) {
                ex.sendResponseHeaders(200, length);
                ex.getResponseBody().write("hello".getBytes(US_ASCII));
            }
        });
        ctx.getFilters().add(new Filter() {
            @Override
            public void doFilter(HttpExchange ex, Chain chain) throws IOException {
                OutputStream real = ex.getResponseBody();
                ByteArrayOutputStream captured = new ByteArrayOutputStream();
                ex.setStreams(null, captured);
                chain.doFilter(ex);
                real.write(captured.toString(US_ASCII).toUpperCase(java.util.Locale.ROOT).getBytes(US_ASCII));
                real.close();
            }

            @Override
            public String description() {
                return "upper-case";
            }
        });
        s.start();
        Conn c = connect(s);
        for (int i = 0; i < 2; i++) {
            RawResponse r = c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
            assertEquals(200, r.status(), "request " + i);
            assertEquals("HELLO", new String(r.body(), US_ASCII), "request " + i);
        }
    }
}
