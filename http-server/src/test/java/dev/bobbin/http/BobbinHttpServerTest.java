package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bobbin's server through the plain {@code com.sun.net.httpserver} API: the provider, fibers, bodies. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BobbinHttpServerTest {
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    /**
     * A handler that sends its whole fixed-length response and returns without closing the exchange ends it
     * (Bobbin completes such a response), and so ends the request body, as close() would: a thread the
     * handler gave the body to gets "Stream is closed", never a body with bytes missing, while the connection
     * drains the rest for the next request, which is then served. {@code slowRest}: the thread reads while
     * the rest of the body is still arriving, so during the drain itself.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aRequestBodyLeftToAnotherThreadEndsWithTheExchangeInsteadOfLosingBytes(boolean slowRest) throws Exception {
        byte[] body = new byte[50_000];
        for (int i = 0; i < body.length; i++) body[i] = (byte) (i * 31 + 7);
        int firstPart = slowRest ? 10_000 : body.length;
        CompletableFuture<InputStream> handedOver = new CompletableFuture<>();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/give", x -> {
            x.sendResponseHeaders(202, 2);
            x.getResponseBody().write("ok".getBytes(StandardCharsets.ISO_8859_1));
            handedOver.complete(x.getRequestBody());             // and return, leaving the exchange open
        });
        server.createContext("/next", x -> {
            x.sendResponseHeaders(200, 4);
            try (OutputStream o = x.getResponseBody()) {
                o.write("next".getBytes(StandardCharsets.ISO_8859_1));
            }
        });
        server.start();
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
            c.setSoTimeout(10_000);
            OutputStream out = c.getOutputStream();
            out.write(("POST /give HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, 0, firstPart);
            out.flush();
            InputStream in = c.getInputStream();
            String first = new String(readResponse(in), StandardCharsets.ISO_8859_1);
            assertTrue(first.startsWith("HTTP/1.1 202") && first.endsWith("ok"), RawHttp.show(first));
            // the exchange has ended: the handed-over stream must fail, or (had it been read in time) be whole
            InputStream held = handedOver.get(10, TimeUnit.SECONDS);
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            CompletableFuture<IOException> failure = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try (held) {
                    held.transferTo(got);
                    failure.complete(null);
                } catch (IOException e) {
                    failure.complete(e);
                }
            });
            for (int off = firstPart; off < body.length; off += 10_000) {   // the rest, while that thread reads
                Thread.sleep(20);
                out.write(body, off, Math.min(10_000, body.length - off));
                out.flush();
            }
            reader.join(10_000);
            IOException e = failure.get(10, TimeUnit.SECONDS);
            if (e == null) {
                assertTrue(java.util.Arrays.equals(body, got.toByteArray()),
                        "a body read after its exchange ended: " + got.size() + " of " + body.length + " bytes, no error");
            } else {
                assertEquals("Stream is closed", e.getMessage());
            }
            out.write("GET /next HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String second = new String(readResponse(in), StandardCharsets.ISO_8859_1);
            assertTrue(second.startsWith("HTTP/1.1 200") && second.endsWith("next"), "the connection goes on: " + RawHttp.show(second));
        }
    }

    /**
     * A handler that throws partway through a chunked body: what it wrote goes out, framed, and the
     * connection closes without the last chunk, so the client reads a response cut short (an error), not a
     * connection closed with no response at all, which it could take for a stale one and send again.
     */
    @Test
    void aHandlerFailingInsideAChunkedBodySendsWhatItWroteAndNoLastChunk() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/fail", x -> {
            x.sendResponseHeaders(200, 0);
            x.getResponseBody().write("x".repeat(100).getBytes(StandardCharsets.ISO_8859_1));
            throw new IllegalStateException("a handler failing inside its body");
        });
        server.start();
        try (RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.INFO);
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
            c.setSoTimeout(10_000);
            c.getOutputStream().write("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.getOutputStream().flush();
            String got = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);   // to the close
            assertTrue(got.startsWith("HTTP/1.1 200"), RawHttp.show(got));
            assertTrue(got.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked"), RawHttp.show(got));
            String body = got.substring(got.indexOf("\r\n\r\n") + 4);
            assertEquals("0064\r\n" + "x".repeat(100) + "\r\n", body, "the data written, framed, and no last chunk");
            assertEquals(1, log.atLeast(java.util.logging.Level.WARNING).size(), "the failure is logged: " + log.atLeast(java.util.logging.Level.INFO));
        }
    }

    /**
     * {@code stop(delay)} returns after about its delay ("block until all current exchange handlers have
     * completed or else when approximately delay seconds have elapsed") when a handler on a connection's
     * fiber (no executor, the default) does not return: after the bounded wait for the connection fibers it
     * interrupts them, and the server's scheduler terminates. Deliberate difference: the JDK's provider runs
     * such a handler on its dispatcher thread and waits for it for ever.
     */
    @Test
    void stopReturnsAndInterruptsAHandlerOnAFiberThatDoesNotReturn() throws Exception {
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server = s;
        s.createContext("/stuck", x -> {
            entered.countDown();
            try {
                never.await();                                   // a call that does not return
                interrupted.complete(false);
            } catch (InterruptedException e) {
                interrupted.complete(true);
            }
        });
        s.start();
        try (RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.INFO);
             Socket c = new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort())) {
            c.getOutputStream().write("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.getOutputStream().flush();
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            Thread stopper = Thread.ofPlatform().daemon().start(() -> s.stop(1));
            stopper.join(30_000);
            boolean returned = !stopper.isAlive();
            never.countDown();                                   // lets a stop still waiting finish
            assertTrue(returned, "stop(1) had not returned 30 s later: it waits for the stuck handler");
            assertTrue(interrupted.get(10, TimeUnit.SECONDS), "the stuck handler was interrupted");
            assertTrue(s.scheduler() == null || s.scheduler().awaitTermination(Duration.ofSeconds(10)), "the server's scheduler terminated");
            assertTrue(log.atLeast(java.util.logging.Level.WARNING).stream().anyMatch(l -> l.contains("did not end within")),
                    "the stop says a handler did not return: " + log.atLeast(java.util.logging.Level.INFO));
        }
        server = null;
    }

    /**
     * A handler that stops its own server and then writes a response its client never reads: the write is
     * still bounded by the io timeout (it fails, and the connection closes), so the server's last thread
     * ends and with it the JVM may exit.
     */
    @Test
    void aHandlerThatStopsItsServerKeepsTheIoTimeoutForItsOwnResponse() throws Exception {
        CompletableFuture<String> writeOutcome = new CompletableFuture<>();
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0,
                HttpServerOptions.builder().ioTimeout(Duration.ofSeconds(1)).build());
        server = s;
        s.createContext("/shutdown", x -> {
            s.stop(0);                                          // a shutdown endpoint
            byte[] big = new byte[8 << 20];
            try {
                x.sendResponseHeaders(200, big.length);
                try (OutputStream o = x.getResponseBody()) {
                    o.write(big);                               // to a client that reads nothing
                }
                writeOutcome.complete("written");
            } catch (IOException e) {
                writeOutcome.complete("IOException");
            }
        });
        s.start();
        try (RawHttp.LogCapture log = new RawHttp.LogCapture("dev.bobbin.http", java.util.logging.Level.INFO);
             Socket c = new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort())) {
            c.setReceiveBufferSize(4096);
            c.getOutputStream().write("GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.getOutputStream().flush();
            assertEquals("IOException", writeOutcome.get(20, TimeUnit.SECONDS), "the write gave up at the io timeout");
            assertTrue(s.scheduler().awaitTermination(Duration.ofSeconds(20)), "the server's scheduler terminated");
            assertEquals(java.util.List.of(), log.atLeast(java.util.logging.Level.WARNING), "a routine end, nothing to warn of");
        }
        server = null;
    }

    /** One response with a Content-Length, read from {@code in}: head and body. */
    private static byte[] readResponse(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        int c, state = 0;
        while (state < 4 && (c = in.read()) >= 0) {
            head.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : c == '\r' ? 1 : 0;
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(h);
        assertTrue(m.find(), "a Content-Length: " + h);
        head.write(in.readNBytes(Integer.parseInt(m.group(1))));
        return head.toByteArray();
    }

    @Test
    void everyCreateOverloadOfTheJdkApiReturnsABobbinServer() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        java.util.List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.Filter before = com.sun.net.httpserver.Filter.beforeHandler("mark", x -> order.add("filter"));
        server = HttpServer.create(any, 0, "/p", x -> {
            order.add("handler");
            x.sendResponseHeaders(204, -1);
        }, before);
        assertInstanceOf(BobbinHttpServer.class, server, "the JDK 18 overload with path, handler and filters");
        server.start();
        try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            assertEquals(204, c.send(HttpRequest.newBuilder(uri("/p")).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        assertEquals(java.util.List.of("filter", "handler"), order);
        HttpServer unbound = HttpServer.create();
        assertInstanceOf(BobbinHttpServer.class, unbound);
        unbound.stop(0);
        com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create();
        assertInstanceOf(BobbinHttpsServer.class, https);
        https.stop(0);
        com.sun.net.httpserver.HttpsServer https2 = com.sun.net.httpserver.HttpsServer.create(any, 0, "/q", x -> { });
        assertInstanceOf(BobbinHttpsServer.class, https2, "the JDK 18 HTTPS overload");
        https2.stop(0);
    }

    @Test
    void theSystemPropertySelectsAProviderAsTheJdkSpecifies() throws Exception {
        assertEquals(BobbinHttpServerProvider.class.getName() + " " + BobbinHttpServer.class.getName(),
                probe("-Dcom.sun.net.httpserver.HttpServerProvider=" + BobbinHttpServerProvider.class.getName()));
        // the property wins over the service file: naming the JDK's own provider gives the JDK's server
        String jdk = probe("-Dcom.sun.net.httpserver.HttpServerProvider=sun.net.httpserver.DefaultHttpServerProvider");
        assertTrue(jdk.startsWith("sun.net.httpserver.DefaultHttpServerProvider "), jdk);
        // and without it, the service file on the class path selects Bobbin's
        assertTrue(probe().startsWith(BobbinHttpServerProvider.class.getName()), "no property");
    }

    private static String probe(String... props) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "-Djava.util.logging.config.file=" + System.getProperty("java.util.logging.config.file", ""),
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(java.util.List.of(props));
        cmd.add(ProviderProbe.class.getName());
        // output to a file: a child that hangs is killed after the wait, not read from for ever
        java.nio.file.Path log = java.nio.file.Files.createTempFile("bobbin-provider-probe", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = p.waitFor(60, TimeUnit.SECONDS);
            if (!finished) p.destroyForcibly().waitFor();
            String out = java.nio.file.Files.readString(log, StandardCharsets.UTF_8).strip();
            assertTrue(finished, () -> "the probe JVM hung: " + out);
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    @Test
    void theJdkApiReturnsABobbinServerWhoseHandlersRunOnFibers() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        assertInstanceOf(BobbinHttpServer.class, server, "the provider is found through META-INF/services");
        server.createContext("/hello", x -> {
            byte[] b = ("virtual=" + Thread.currentThread().isVirtual()).getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        server.createContext("/echo", x -> {
            byte[] b;
            try (InputStream in = x.getRequestBody()) {
                b = in.readAllBytes();
            }
            x.sendResponseHeaders(200, 0);
            try (OutputStream o = x.getResponseBody()) {
                for (int i = 0; i < b.length; i += 1000) o.write(b, i, Math.min(1000, b.length - i));
            }
        });
        server.start();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("virtual=true", r.body());
        }
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(1).nextBytes(big);
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(uri("/echo")).POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertTrue(java.util.Arrays.equals(big, r.body()), "the body came back intact");
        assertEquals("chunked", r.headers().firstValue("transfer-encoding").orElse(""));
        HttpResponse<String> missing = client.send(HttpRequest.newBuilder(uri("/nothing")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
    }

    /**
     * A given scheduler must drive the server's io runtime, or every socket of the server would live on
     * that runtime's one fallback loop thread: build() refuses a plain scheduler and one of another runtime.
     */
    @Test
    void optionsRefuseASchedulerThatDoesNotDriveTheServersIo() {
        dev.bobbin.uring.FiberIo system = dev.bobbin.uring.FiberIo.system();
        dev.bobbin.uring.FiberIo nio = dev.bobbin.uring.FiberIo.of(dev.bobbin.uring.IoTransport.NIO);
        try (dev.bobbin.FiberScheduler plain = dev.bobbin.FiberScheduler.create(
                     dev.bobbin.SchedulerConfig.builder().name("plain").parallelism(1).build());
             dev.bobbin.FiberScheduler driven = system.newScheduler("driven", 1);
             dev.bobbin.FiberScheduler ofNio = nio.newScheduler("of-nio", 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HttpServerOptions.builder().scheduler(plain).build());
            assertTrue(e.getMessage().contains("'plain'"), e.getMessage());
            if (system.transport() != dev.bobbin.uring.IoTransport.NIO) {
                assertThrows(IllegalArgumentException.class, () -> HttpServerOptions.builder().scheduler(ofNio).build(),
                        "a scheduler of another io runtime than the system's");
            }
            assertThrows(IllegalArgumentException.class, () -> HttpServerOptions.builder().io(nio).scheduler(driven).build());
            assertSame(driven, HttpServerOptions.builder().scheduler(driven).build().scheduler());
            assertSame(ofNio, HttpServerOptions.builder().io(nio).scheduler(ofNio).build().scheduler());
        }
    }

    @Test
    void optionsRefuseTimeoutsThatAreNotPositiveOrTooLongForADeadline() {
        HttpServerOptions.Builder b = HttpServerOptions.builder();
        for (java.time.Duration bad : java.util.List.of(java.time.Duration.ZERO, java.time.Duration.ofSeconds(-1),
                java.time.temporal.ChronoUnit.FOREVER.getDuration(), java.time.Duration.ofSeconds(Long.MAX_VALUE),
                java.time.Duration.ofDays(365L * 200))) {
            assertThrows(IllegalArgumentException.class, () -> b.idleTimeout(bad), bad.toString());
            assertThrows(IllegalArgumentException.class, () -> b.ioTimeout(bad), bad.toString());
            assertThrows(IllegalArgumentException.class, () -> b.headerReadTimeout(bad), bad.toString());
        }
        java.time.Duration century = java.time.Duration.ofDays(36_500);
        HttpServerOptions o = b.idleTimeout(century).ioTimeout(century).headerReadTimeout(century).build();
        assertEquals(century, o.idleTimeout());
        assertTrue(System.nanoTime() + o.idleTimeout().toNanos() > System.nanoTime(), "a deadline from it does not overflow");
    }

    /**
     * A handler reading its body on one thread while another writes its response (HttpApiConformanceTest):
     * a read that waits for a client that stopped sending still ends at
     * the io timeout while another thread writes (each write has a deadline of its own, and its end must
     * not clear the read's).
     */
    @Test
    void aStalledBodyReadTimesOutWhileAnotherThreadWrites() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0,
                HttpServerOptions.builder().ioTimeout(Duration.ofMillis(500)).build());
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
                    os.write("tick\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                    os.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException e) {
                // the connection closed by the timeout
            }
        });
        s.start();
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), s.getAddress().getPort())) {
            c.getOutputStream().write("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            assertInstanceOf(IOException.class, read.get(10, java.util.concurrent.TimeUnit.SECONDS), "the stalled read ends at the io timeout");
        } finally {
            s.stop(0);
        }
    }
}
