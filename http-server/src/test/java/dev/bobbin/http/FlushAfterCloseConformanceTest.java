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
import java.io.OutputStream;
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
 * Flushing a closed response body: the JDK's chunked stream fails with an IOException (its
 * {@code StreamClosedException}), as a write to it does; its fixed-length and HTTP/1.0 streams pass the
 * flush through. The response on the wire is complete either way.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class FlushAfterCloseConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    FlushAfterCloseConformanceTest(Provider provider) {
        this.provider = provider;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (HttpServer s : servers) s.stop(0);
        for (AutoCloseable c : closeables) c.close();
    }

    private HttpServer started(HttpHandler handler) throws IOException {
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(s);
        s.createContext("/", handler);
        s.start();
        return s;
    }

    private Conn connect(HttpServer s) throws IOException {
        Conn c = new Conn(new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort()));
        closeables.add(c);
        return c;
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
}
