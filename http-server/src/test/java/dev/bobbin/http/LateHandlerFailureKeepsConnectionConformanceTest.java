package dev.bobbin.http;

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

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A handler that throws after its response is complete (written and closed) spoils nothing: the JDK's
 * provider closes the connection only when the response was not finished ({@code ServerImpl.Exchange.run}:
 * {@code if (tx == null || !tx.writefinished) closeConnection}), so the connection carries the next
 * request, a pipelined one included.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class LateHandlerFailureKeepsConnectionConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    LateHandlerFailureKeepsConnectionConformanceTest(Provider provider) {
        this.provider = provider;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (HttpServer s : servers) s.stop(0);
        for (AutoCloseable c : closeables) c.close();
    }

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
}
