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

import static dev.bobbin.http.HttpServerConformanceTest.outcome;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Before {@code sendResponseHeaders} the response body refuses every write with an IOException, a write of
 * no bytes included: the JDK's placeholder stream checks that the headers were sent before anything else.
 * (After the headers, and after close, a write of no bytes is a no-op on both.)
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class ZeroLengthWriteBeforeHeadersConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    ZeroLengthWriteBeforeHeadersConformanceTest(Provider provider) {
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
}
