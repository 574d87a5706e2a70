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
 * {@code HttpServer.stop(delay)}: "The method will then block until all current exchange handlers have
 * completed or else when approximately delay seconds have elapsed (whichever happens sooner). Then, all
 * open TCP connections are closed, the background thread created by start() exits, and the method
 * returns." With an executor, a handler that does not return does not hold up the JDK's stop.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 20, unit = SECONDS)
class StopWithStuckHandlerConformanceTest {
    private final Provider provider;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    StopWithStuckHandlerConformanceTest(Provider provider) {
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
    void stopReturnsAfterItsDelayWhileAHandlerOnTheExecutorDoesNotReturn() throws Exception {
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newFixedThreadPool(2);
        closeables.add(executor::shutdownNow);
        closeables.addFirst(release::countDown);                 // before the executor goes: the handler returns
        HttpServer s = provider.factory().get().createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setExecutor(executor);
        s.createContext("/stuck", ex -> {
            entered.countDown();
            try {
                release.await();                              // a handler stuck on a call that does not return
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        s.start();
        Conn c = connect(s);
        c.send("GET /stuck HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertTrue(entered.await(10, SECONDS));
        Thread stopper = Thread.ofPlatform().daemon().start(() -> s.stop(1));
        stopper.join(SECONDS.toMillis(10));
        boolean returned = !stopper.isAlive();
        release.countDown();                                  // lets a stop still waiting finish
        stopper.join(SECONDS.toMillis(10));
        assertTrue(returned, "stop(1) had not returned 10 s later: it waits for the stuck handler");
        c.socket.setSoTimeout(5000);
        assertTrue(c.closedByPeer(), "the connection is closed");
    }
}
