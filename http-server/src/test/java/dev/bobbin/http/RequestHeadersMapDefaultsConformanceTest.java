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
 * The request headers are read-only; on the JDK's provider the {@code Map} methods that do not modify
 * the map in a given case ({@code computeIfAbsent} and {@code putIfAbsent} of a present key,
 * {@code computeIfPresent} of an absent one) answer as any map does instead of throwing.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class RequestHeadersMapDefaultsConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    RequestHeadersMapDefaultsConformanceTest(Provider provider) {
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
}
