package dev.bobbin.http;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HTTPS through the {@code com.sun.net.httpserver} API, on the JDK's provider (the control) and Bobbin's,
 * with a certificate generated for the test: handlers get {@link HttpsExchange}s with the TLS session,
 * bodies cross intact both ways, the configurator's parameters apply, and a plain-text client is refused
 * without harming the server.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HttpsServerTest {
    private static SSLContext serverContext, clientContext;

    @BeforeAll
    static void certificate(@TempDir Path dir) throws Exception {
        TestCertificate cert = TestCertificate.create(dir);
        serverContext = cert.server();
        clientContext = cert.client();
    }

    private static HttpServerProvider provider(String name) throws Exception {
        return name.equals("bobbin") ? new BobbinHttpServerProvider()
                : (HttpServerProvider) Class.forName("sun.net.httpserver.DefaultHttpServerProvider").getConstructor().newInstance();
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdk", "bobbin"})
    void httpsExchangesCarryTheSessionAndBodiesBothWays(String providerName) throws Exception {
        HttpsServer s = provider(providerName).createHttpsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String[] protocolSeen = new String[1];
        s.setHttpsConfigurator(new HttpsConfigurator(serverContext) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters sp = getSSLContext().getDefaultSSLParameters();
                sp.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                params.setSSLParameters(sp);
            }
        });
        s.createContext("/who", x -> {
            String body = (x instanceof HttpsExchange h ? "https " + h.getSSLSession().getProtocol() : "plain");
            protocolSeen[0] = body;
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        s.createContext("/echo", x -> {
            byte[] b;
            try (InputStream in = x.getRequestBody()) {
                b = in.readAllBytes();
            }
            x.sendResponseHeaders(200, 0);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        s.start();
        try (HttpClient c = HttpClient.newBuilder().sslContext(clientContext).version(HttpClient.Version.HTTP_1_1).build()) {
            String base = "https://127.0.0.1:" + s.getAddress().getPort();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(base + "/who")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertTrue(r.body().startsWith("https TLSv1."), r.body());
            }
            byte[] big = new byte[2 * 1024 * 1024 + 3];
            new Random(7).nextBytes(big);
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create(base + "/echo")).POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertTrue(Arrays.equals(big, r.body()), "the body crossed TLS intact both ways");

            // a client speaking plain HTTP to the TLS port gets no HTTP answer, and the server goes on
            try (java.net.Socket plain = new java.net.Socket("127.0.0.1", s.getAddress().getPort())) {
                plain.setSoTimeout(10_000);
                plain.getOutputStream().write("GET /who HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                byte[] got = plain.getInputStream().readNBytes(5);
                assertFalse(new String(got, StandardCharsets.ISO_8859_1).startsWith("HTTP/"), "no plain-text answer on a TLS port");
            } catch (java.net.SocketException reset) {
                // closed with a reset: fine
            }
            assertEquals(200, c.send(HttpRequest.newBuilder(URI.create(base + "/who")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        } finally {
            s.stop(0);
        }
    }

    /**
     * A configurator of the pre-SSLParameters kind (HttpsParameters' setters) naming a cipher suite or a
     * protocol this JDK does not support: the JDK's provider ignores that setting (the engine keeps its
     * defaults) and serves the connection; so must Bobbin's, not close every connection.
     */
    @ParameterizedTest
    @ValueSource(strings = {"jdk", "bobbin"})
    @SuppressWarnings("deprecation")
    void legacyParametersWithAnUnsupportedNameAreIgnoredAsByTheJdk(String providerName) throws Exception {
        HttpsServer s = provider(providerName).createHttpsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setHttpsConfigurator(new HttpsConfigurator(serverContext) {
            @Override
            public void configure(HttpsParameters params) {
                params.setCipherSuites(new String[] {"TLS_AES_128_GCM_SHA256", "TLS_NO_SUCH_SUITE"});
                params.setProtocols(new String[] {"TLSv1.3", "TLSv9"});
            }
        });
        s.createContext("/", x -> {
            byte[] b = "ok".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        s.start();
        try (HttpClient c = HttpClient.newBuilder().sslContext(clientContext).version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + s.getAddress().getPort() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("ok", r.body());
        } finally {
            s.stop(0);
        }
    }

    /**
     * A configurator that throws an Error (an AssertionError, a LinkageError) for one connection: the JDK's
     * provider closes that connection and serves the next ones; Bobbin's acceptor must not die of it
     * (which would leave that socket open and refuse every later connection).
     */
    @ParameterizedTest
    @ValueSource(strings = {"jdk", "bobbin"})
    void aConfiguratorErrorClosesOnlyItsConnection(String providerName) throws Exception {
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        HttpsServer s = provider(providerName).createHttpsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setHttpsConfigurator(new HttpsConfigurator(serverContext) {
            @Override
            public void configure(HttpsParameters params) {
                if (first.getAndSet(false)) throw new AssertionError("a bug in the configurator");
                params.setSSLParameters(getSSLContext().getDefaultSSLParameters());
            }
        });
        s.createContext("/", x -> {
            x.sendResponseHeaders(200, 2);
            try (OutputStream o = x.getResponseBody()) {
                o.write("ok".getBytes(StandardCharsets.UTF_8));
            }
        });
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.bobbin.http");
        java.util.List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        boolean useParent = log.getUseParentHandlers();
        log.setUseParentHandlers(false);                 // the expected WARNING is checked here, not printed
        log.addHandler(capture);
        s.start();
        try {
            try (javax.net.ssl.SSLSocket c = (javax.net.ssl.SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", s.getAddress().getPort())) {
                c.setSoTimeout(5_000);
                java.io.IOException e = assertThrows(java.io.IOException.class, c::startHandshake);
                assertFalse(e instanceof java.net.SocketTimeoutException, "the connection whose configuration failed is closed, not left open: " + e);
            }
            try (HttpClient c = HttpClient.newBuilder().sslContext(clientContext).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(java.time.Duration.ofSeconds(10)).build()) {
                HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + s.getAddress().getPort() + "/"))
                        .timeout(java.time.Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals("ok", r.body(), "the next connection is served");
            }
            if (providerName.equals("bobbin")) {
                assertTrue(records.stream().anyMatch(r -> r.getLevel() == java.util.logging.Level.WARNING
                        && new java.util.logging.SimpleFormatter().formatMessage(r).contains("a bug in the configurator")), "one WARNING names the error");
            }
        } finally {
            s.stop(0);
            log.removeHandler(capture);
            log.setUseParentHandlers(useParent);
        }
    }
    /**
     * HttpServerOptions.maxConnections over TLS: the refusal is a bare close, without a handshake and so
     * without the 503 a plain connection gets (the options' javadoc and the README once promised a 503), and
     * it counts as refused.
     */
    @org.junit.jupiter.api.Test
    void aTlsConnectionOverTheLimitIsClosedWithoutAHandshake() throws Exception {
        BobbinHttpsServer s = BobbinHttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0,
                HttpServerOptions.builder().maxConnections(1).build());
        s.setHttpsConfigurator(new HttpsConfigurator(serverContext));
        s.createContext("/", x -> {
            x.sendResponseHeaders(200, 2);
            try (OutputStream o = x.getResponseBody()) {
                o.write("ok".getBytes(StandardCharsets.UTF_8));
            }
        });
        s.start();
        int port = s.getAddress().getPort();
        try (javax.net.ssl.SSLSocket first = (javax.net.ssl.SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", port)) {
            first.setSoTimeout(10_000);
            first.startHandshake();                      // holds the only connection
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.activeConnections() < 1 && System.nanoTime() < deadline) Thread.sleep(5);
            try (javax.net.ssl.SSLSocket second = (javax.net.ssl.SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", port)) {
                second.setSoTimeout(10_000);
                String answer;
                try {
                    second.startHandshake();
                    second.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    answer = new String(second.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
                } catch (java.io.IOException e) {
                    answer = e.toString();
                }
                assertEquals(1, s.stats().refusedConnections(), "counted as refused");
                assertTrue(answer.startsWith("javax.net.ssl.SSL") || answer.startsWith("java.net.SocketException")
                        || answer.startsWith("java.io.EOFException"), "the refused TLS connection is closed: " + answer);
            }
        } finally {
            s.stop(0);
        }
    }
}
