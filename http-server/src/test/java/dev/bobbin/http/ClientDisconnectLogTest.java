package dev.bobbin.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A handler whose body read fails because the client went away (reset inside its body) and that lets the
 * IOException escape is routine for a server: one DEBUG line, no WARNING (the JDK's provider logs it at
 * TRACE). A handler's own IOException on a healthy connection is still a WARNING, which shows the test
 * tells the two apart.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientDisconnectLogTest {
    private final Logger log = Logger.getLogger("dev.bobbin.http");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { records.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    };
    private Level previousLevel;
    private boolean previousUseParent;

    @BeforeEach
    void captureLogs() {
        previousLevel = log.getLevel();
        previousUseParent = log.getUseParentHandlers();
        log.setLevel(Level.ALL);                          // DEBUG included
        log.setUseParentHandlers(false);
        log.addHandler(capture);
    }

    @AfterEach
    void restoreLogs() {
        log.removeHandler(capture);
        log.setUseParentHandlers(previousUseParent);
        log.setLevel(previousLevel);
    }

    private static String text(LogRecord r) {
        return new SimpleFormatter().formatMessage(r);
    }

    private LogRecord awaitRecord(String containing) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (LogRecord r : records) if (text(r).contains(containing)) return r;
            Thread.sleep(5);
        }
        return fail("no log record containing '" + containing + "'; got " + records.stream().map(ClientDisconnectLogTest::text).toList());
    }

    @ParameterizedTest(name = "executor={0}")
    @ValueSource(booleans = {false, true})
    void aClientResetInsideItsBodyIsLoggedAtDebugNotWarning(boolean onExecutor) throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        CountDownLatch reading = new CountDownLatch(1);
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            if (onExecutor) s.setExecutor(executor);
            s.createContext("/upload", x -> {
                reading.countDown();
                byte[] body = x.getRequestBody().readAllBytes();   // the client resets before the end: throws
                x.sendResponseHeaders(200, -1);
                x.getResponseBody().write(body.length);
            });
            s.createContext("/own", x -> {
                x.getRequestBody().readAllBytes();
                throw new IOException("the handler's own storage failed");
            });
            s.start();
            try {
                try (Socket c = new Socket("127.0.0.1", s.getAddress().getPort())) {
                    OutputStream o = c.getOutputStream();
                    o.write(("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(10))
                            .getBytes(StandardCharsets.ISO_8859_1));
                    o.flush();
                    // the handler runs, so the reset fails its body read (one sent before the server read the
                    // head would end the connection with no exchange to log)
                    assertTrue(reading.await(30, TimeUnit.SECONDS), "the handler did not run");
                    c.setSoLinger(true, 0);                   // close with a reset
                }
                LogRecord ended = awaitRecord("ended by the client's connection");
                assertEquals(Level.FINE, ended.getLevel(), text(ended));
                assertEquals(List.of(), records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                        .map(ClientDisconnectLogTest::text).toList(), "no WARNING for a client that went away");

                // control: the handler's own IOException on a healthy connection is a WARNING
                try (Socket c = new Socket("127.0.0.1", s.getAddress().getPort())) {
                    c.getOutputStream().write("POST /own HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    String status = new String(c.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
                    assertEquals("HTTP/1.1 500", status);
                }
                LogRecord own = awaitRecord("the handler's own storage failed");
                assertEquals(Level.WARNING, own.getLevel(), text(own));
            } finally {
                s.stop(0);
            }
        }
    }
}
