package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A server whose given scheduler is shut down while it runs can no longer start a connection's fiber. Its
 * clients must then learn it (a close, a reset, a refused connection), never wait forever on a listener
 * nobody accepts from: the JDK's provider, whose executor is shut down, closes every connection it accepts.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SchedulerShutDownUnderServerTest {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** What a client that sends a request gets: the status line, "closed", or the exception; a hang is "no answer". */
    private static String ask(int port) {
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port)) {
            c.setSoTimeout(10_000);                            // a hang guard: an answer or a close comes at once
            c.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            byte[] b = new byte[128];
            int n = c.getInputStream().read(b);
            return n < 0 ? "closed" : new String(b, 0, n, StandardCharsets.ISO_8859_1).lines().findFirst().orElse("");
        } catch (SocketTimeoutException e) {
            return "no answer";
        } catch (IOException e) {
            return "failed: " + e.getClass().getSimpleName();
        }
    }

    private static void ok(com.sun.net.httpserver.HttpExchange x) throws IOException {
        x.sendResponseHeaders(200, 2);
        try (OutputStream o = x.getResponseBody()) {
            o.write("ok".getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void clientsOfAServerWhoseSchedulerIsShutDownAreNeverLeftWaiting() throws Exception {
        Logger log = Logger.getLogger("dev.bobbin.http");
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        log.addHandler(capture);
        boolean useParent = log.getUseParentHandlers();
        log.setUseParentHandlers(false);
        try {
            for (String provider : List.of("jdk", "bobbin")) {
                FiberScheduler scheduler = FiberIo.system().newScheduler("shut-under-server", 2);
                ExecutorService jdkExecutor = Executors.newSingleThreadExecutor();
                HttpServer s = provider.equals("jdk")
                        ? ((HttpServerProvider) Class.forName(HttpServerConformanceTest.JDK_PROVIDER).getConstructor().newInstance()).createHttpServer(ANY, 0)
                        : BobbinHttpServer.create(ANY, 0, HttpServerOptions.builder().scheduler(scheduler).build());
                if (provider.equals("jdk")) s.setExecutor(jdkExecutor);
                s.createContext("/", SchedulerShutDownUnderServerTest::ok);
                s.start();
                int port = s.getAddress().getPort();
                try {
                    assertEquals("HTTP/1.1 200 OK", ask(port), provider);
                    if (provider.equals("jdk")) jdkExecutor.shutdown();
                    else scheduler.shutdown();
                    for (int i = 0; i < 3; i++) {
                        String answer = ask(port);
                        assertNotEquals("no answer", answer, provider + ": client " + i + " after the shutdown waits for ever");
                    }
                } finally {
                    s.stop(0);
                    jdkExecutor.shutdown();
                    scheduler.close();
                }
                assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)));
            }
            assertTrue(records.stream().anyMatch(r -> r.getLevel() == Level.WARNING && r.getMessage().contains("shut down")),
                    "Bobbin says why its server stopped accepting");
        } finally {
            log.removeHandler(capture);
            log.setUseParentHandlers(useParent);
        }
    }
}
