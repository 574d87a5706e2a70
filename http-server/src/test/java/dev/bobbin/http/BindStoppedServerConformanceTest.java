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
 * {@code HttpServer.bind} declares only IOException (BindException) besides NullPointerException: a
 * server stopped before it was ever bound refuses a bind with an IOException on the JDK's provider
 * (ClosedChannelException), not with an unchecked exception.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class BindStoppedServerConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    BindStoppedServerConformanceTest(Provider provider) {
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
}
