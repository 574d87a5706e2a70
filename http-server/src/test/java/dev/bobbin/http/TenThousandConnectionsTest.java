package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 10,000 keep-alive connections open at once, each answered twice, from a client in a child JVM. The
 * server holds one fiber per connection; every connection must stay open between its two requests (the
 * client holds its second round until the test has counted them).
 */
class TenThousandConnectionsTest {
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void tenThousandConcurrentKeepAliveConnections() throws Exception {
        int n = 10_000;
        AtomicInteger peak = new AtomicInteger();
        BobbinHttpServer server = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        HttpServer s = server;
        s.createContext("/c/", x -> {
            peak.accumulateAndGet(server.activeConnections(), Math::max);
            byte[] b = x.getRequestURI().getPath().getBytes(StandardCharsets.ISO_8859_1);
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        s.start();
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-cp", System.getProperty("java.class.path"), ManyKeepAliveClients.class.getName(),
                    "127.0.0.1", String.valueOf(s.getAddress().getPort()), String.valueOf(n))
                    .redirectErrorStream(true).start();
            StringBuilder out = new StringBuilder();
            int openAtFirst = -1;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("FIRST ")) {
                        openAtFirst = server.activeConnections();   // the client waits for the go-ahead: none closed yet
                        p.getOutputStream().write('\n');
                        p.getOutputStream().flush();
                    }
                    out.append(line).append('\n');
                }
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client did not finish");
            assertEquals(0, p.exitValue(), out::toString);
            assertTrue(out.toString().contains("OK " + n), out::toString);
            assertEquals(n, openAtFirst, "every connection was open after its first answer");
            assertEquals(n, peak.get(), "the last handlers ran with all connections open");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (server.activeConnections() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(0, server.activeConnections(), "every connection closed when its client did");
        } finally {
            s.stop(0);
        }
    }
}
