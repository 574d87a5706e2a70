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
 * Closing the response body before {@code sendResponseHeaders} fails with an IOException and, on the
 * JDK's provider, changes nothing: the handler can still read its request body and answer.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class ResponseCloseBeforeHeadersConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    ResponseCloseBeforeHeadersConformanceTest(Provider provider) {
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
}
