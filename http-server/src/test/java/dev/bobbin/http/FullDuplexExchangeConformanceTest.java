package dev.bobbin.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.bobbin.http.HttpServerConformanceTest.Provider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A handler may read its request body on one thread while it writes its response on another (a tunnel, a
 * streaming echo): on the JDK's provider the two directions are independent, so a response written while a
 * read waits for the client's next bytes reaches the client at once.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class FullDuplexExchangeConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();

    FullDuplexExchangeConformanceTest(Provider provider) {
        this.provider = provider;
    }

    @AfterEach
    void tearDown() {
        for (HttpServer s : servers) s.stop(0);
    }

    private HttpServer started(HttpHandler handler) throws IOException {
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        servers.add(s);
        s.createContext("/", handler);
        s.start();
        return s;
    }

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
     * Bobbin's own guard for the above: a read that waits for a client that stopped sending still ends at
     * the io timeout while another thread writes (each write has a deadline of its own, and its end must
     * not clear the read's).
     */
    @Test
    void aStalledBodyReadTimesOutWhileAnotherThreadWrites() throws Exception {
        assumeTrue(provider.isBobbin(), "the io timeout is Bobbin's");
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0,
                HttpServerOptions.builder().ioTimeout(Duration.ofMillis(500)).build());
        servers.add(s);
        CompletableFuture<Object> read = new CompletableFuture<>();
        s.createContext("/", ex -> {
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            Thread.ofPlatform().start(() -> {
                try {
                    read.complete(ex.getRequestBody().readAllBytes().length);
                } catch (IOException e) {
                    read.complete(e);
                }
            });
            try {
                while (!read.isDone()) {                    // a write every 100 ms, each well within the timeout
                    os.write("tick\n".getBytes(ISO_8859_1));
                    os.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException e) {
                // the connection closed by the timeout
            }
        });
        s.start();
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort())) {
            c.getOutputStream().write("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc".getBytes(ISO_8859_1));
            assertInstanceOf(IOException.class, read.get(10, SECONDS), "the stalled read ends at the io timeout");
        }
    }
}
