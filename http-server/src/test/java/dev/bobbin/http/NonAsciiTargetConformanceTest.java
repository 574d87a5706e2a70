package dev.bobbin.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.bobbin.http.HttpServerConformanceTest.Conn;
import dev.bobbin.http.HttpServerConformanceTest.Provider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A request target with bytes above 0x7F (curl sends a path typed as {@code /café} as its raw UTF-8
 * bytes): the JDK's provider reads the request line as ISO-8859-1 and serves it if {@code java.net.URI}
 * accepts it.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class NonAsciiTargetConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    NonAsciiTargetConformanceTest(Provider provider) {
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
}
