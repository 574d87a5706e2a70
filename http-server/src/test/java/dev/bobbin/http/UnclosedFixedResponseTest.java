package dev.bobbin.http;

import dev.bobbin.http.HttpServerConformanceTest.Conn;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bobbin completes a fixed-length response whose handler wrote every declared byte and returned without
 * closing the exchange ({@code Exchange.finishIfFullySent}; the JDK's provider leaves such a response in
 * its buffer). Whether the handler ran on the connection's fiber or on an executor makes no difference.
 */
@Timeout(value = 20, unit = SECONDS)
class UnclosedFixedResponseTest {
    @ParameterizedTest(name = "executor={0}")
    @ValueSource(booleans = {false, true})
    void aCompleteFixedLengthResponseTheHandlerDidNotCloseGoesOut(boolean onExecutor) throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            if (onExecutor) s.setExecutor(executor);
            s.createContext("/", ex -> {
                ex.sendResponseHeaders(200, 2);
                OutputStream os = ex.getResponseBody();
                os.write("ok".getBytes(UTF_8));             // every declared byte, then no close()
            });
            s.start();
            try (Conn c = new Conn(new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort()))) {
                c.socket.setSoTimeout(5000);
                c.send("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("ok", c.read().text());
                c.send("GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("ok", c.read().text(), "the connection carries the next request");
            }
        } finally {
            s.stop(0);
            executor.shutdownNow();
        }
    }
}
