package dev.bobbin.integration;

import dev.bobbin.CapturedLogs;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import dev.bobbin.http.BobbinHttpServerProvider;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.DefaultHandler;
import io.prometheus.metrics.exporter.httpserver.HealthyHandler;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.glassfish.jersey.jdkhttp.JdkHttpHandlerContainer;
import org.glassfish.jersey.server.ContainerFactory;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;
import org.glassfish.jersey.server.filter.EncodingFilter;
import org.glassfish.jersey.message.GZipEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.logging.LogRecord;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Third-party libraries built on {@code com.sun.net.httpserver}, unchanged, on Bobbin's provider and on the
 * JDK's own (the control): the Prometheus exporter's handlers and Jersey's JDK-HTTP container. Each case
 * creates its server from the provider instance under test ({@code provider.createHttpServer}) and hands it
 * to the library, so no JVM-wide provider is chosen. The same requests are sent over raw sockets
 * ({@link Wire}) and the same status, Content-Type, framing (Content-Length or chunked), Content-Encoding and
 * body are expected from both providers.
 *
 * <p>The libraries log through java.util.logging, and so does the JDK's server: their records are captured
 * for the duration of each case and the case fails on any record at WARNING or above, so the run stays
 * quiet and a library's complaint about the server is not lost.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("providers")
@Timeout(value = 60, unit = SECONDS)
class HttpServerLibrariesOnBobbinTest {
    /** The JDK's provider; its package is not exported, so it is loaded by name (the pom adds the export). */
    static final String JDK_PROVIDER = "sun.net.httpserver.DefaultHttpServerProvider";

    /**
     * Deliberate difference (logging only): when a handler answers HEAD with {@code sendResponseHeaders(code, n)}
     * and {@code n >= 0}, as Jersey does, the JDK's provider logs this WARNING; both providers send the same
     * head and no body, and Bobbin logs nothing (a HEAD answer never has a body, whatever length is passed).
     */
    static final String JDK_WARNS_HEAD_WITH_LENGTH =
            "sendResponseHeaders: being invoked with a content length for a HEAD request";

    /**
     * Deliberate difference (logging only): a handler that throws is logged by Bobbin at WARNING (at most
     * once a minute, every failure at DEBUG); the JDK's provider logs it at TRACE. The response and the
     * connection are the same on both (a complete response stands, and so does the connection).
     */
    static final String HANDLER_FAILURE_LOGGED = "a failing handler is logged at WARNING";

    record Provider(String name, Supplier<HttpServerProvider> factory) {
        @Override public String toString() { return name; }
    }

    static List<Provider> providers() {
        return List.of(new Provider("jdk", () -> {
                    try {
                        return (HttpServerProvider) Class.forName(JDK_PROVIDER).getConstructor().newInstance();
                    } catch (ReflectiveOperationException e) {
                        throw new AssertionError("cannot instantiate " + JDK_PROVIDER, e);
                    }
                }),
                new Provider("bobbin", BobbinHttpServerProvider::new));
    }

    /** The loggers the libraries and the servers write to. */
    private static final List<String> LOGGERS = List.of(
            "io.prometheus", "org.glassfish", "jakarta", "com.sun.net.httpserver", "dev.bobbin");

    private final Provider provider;
    private final List<Runnable> cleanup = new ArrayList<>();
    private CapturedLogs logs;
    /** Set by a case whose libraries' own records (not the servers') vary with timing: those are not checked. */
    private boolean libraryRecordsExpected;

    HttpServerLibrariesOnBobbinTest(Provider provider) {
        this.provider = provider;
    }

    @BeforeEach
    void captureLogs() {
        logs = new CapturedLogs(LOGGERS.toArray(String[]::new));
        cleanup.add(logs::close);   // first in, so run last: the servers stop before the capture ends
    }

    @AfterEach
    void tearDown() {
        for (int i = cleanup.size() - 1; i >= 0; i--) cleanup.get(i).run();
        List<String> unexpected = new ArrayList<>();
        for (LogRecord r : logs.warnings()) {
            if (provider.name().equals("jdk") && JDK_WARNS_HEAD_WITH_LENGTH.equals(r.getMessage())) continue;
            if (libraryRecordsExpected && (r.getLoggerName().startsWith("org.glassfish.")
                    || r.getLoggerName().startsWith("io.prometheus."))) continue;
            unexpected.add(CapturedLogs.describe(r));
        }
        assertEquals(List.of(), unexpected, "nothing logged at WARNING or above");
    }

    /**
     * Waits for {@code n} records at WARNING or above (libraries log after the response went out), then
     * takes them out of the check at the end of the case and returns them, sorted, as "LEVEL logger: message
     * (exception class)", for Bobbin's records the first two parameters (what failed: the throwable). The JDK's
     * {@link #JDK_WARNS_HEAD_WITH_LENGTH} is not counted.
     */
    private List<String> awaitWarnings(int n) throws InterruptedException {
        Supplier<List<LogRecord>> relevant = () -> logs.warnings().stream()
                .filter(r -> !JDK_WARNS_HEAD_WITH_LENGTH.equals(r.getMessage())).toList();
        while (relevant.get().size() < n) Thread.sleep(10);   // the test's @Timeout guards a record that never comes
        List<String> seen = new ArrayList<>();
        for (LogRecord r : relevant.get()) {
            Object[] params = r.getParameters();
            String message = r.getLoggerName().startsWith("dev.bobbin") && params != null
                    ? params[0] + ": " + params[1] : r.getMessage();
            seen.add(r.getLevel() + " " + r.getLoggerName() + ": " + message
                    + (r.getThrown() == null ? "" : " (" + r.getThrown().getClass().getSimpleName() + ")"));
            logs.records().remove(r);
        }
        seen.sort(null);
        return seen;
    }

    /** A server from the provider under test on an ephemeral loopback port, stopped when the case ends. */
    private HttpServer server() throws IOException {
        HttpServer s = provider.factory().get()
                .createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cleanup.add(() -> s.stop(0));
        return s;
    }

    private static String head(String method, String target, String... headers) {
        StringBuilder b = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: localhost");
        for (String h : headers) b.append("\r\n").append(h);
        return b.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Prometheus: the exporter's own handlers (MetricsHandler, HealthyHandler, DefaultHandler), registered
    // as its HTTPServer registers them, on a server from the provider under test

    private PrometheusRegistry registry;

    /** A started Prometheus exporter; {@code series} counter children make the scrape as large as wanted. */
    private int prometheus(int series) throws IOException {
        registry = new PrometheusRegistry();
        Counter requests = Counter.builder().name("requests_total").help("requests served")
                .labelNames("path").register(registry);
        for (int i = 0; i < series; i++) requests.labelValues("/path/" + i).inc(i);
        Gauge.builder().name("temperature_celsius").help("a gauge").register(registry).set(21.5);
        Histogram latency = Histogram.builder().name("latency_seconds").help("a histogram").register(registry);
        for (int i = 0; i < 100; i++) latency.observe(i / 1000.0);
        HttpServer s = server();
        s.createContext("/", new DefaultHandler("/metrics"));
        s.createContext("/metrics", new MetricsHandler(registry));
        s.createContext("/-/healthy", new HealthyHandler());
        s.start();
        return s.getAddress().getPort();
    }

    private static final String PROTOBUF =
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

    @Test
    void prometheusTextScrape() throws Exception {
        int port = prometheus(10);
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/metrics")).read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("content-type"));
            assertEquals("length " + r.body().length, r.framing());
            assertNull(r.header("content-encoding"));
            String text = r.text();
            assertTrue(text.contains("requests_total{path=\"/path/9\"} 9.0\n"), text);
            assertTrue(text.contains("temperature_celsius 21.5\n"), text);
            // the same connection serves the next request
            Wire.Response again = w.send(head("GET", "/metrics")).read(false);
            assertEquals(200, again.status());
            assertEquals(text, again.text());
        }
    }

    @Test
    void prometheusGzipScrapes() throws Exception {
        int port = prometheus(2_000);   // well over one write buffer
        String plain;
        try (Wire w = new Wire(port)) {
            plain = w.send(head("GET", "/metrics")).read(false).text();
        }
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/metrics", "Accept-Encoding: gzip, deflate")).read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("gzip", r.header("content-encoding"));
            assertEquals("chunked", r.framing());
            assertEquals(plain, r.text());
            Wire.Response om = w.send(head("GET", "/metrics", "Accept: application/openmetrics-text; version=1.0.0",
                    "Accept-Encoding: gzip")).read(false);
            assertEquals(200, om.status(), om.toString());
            assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", om.header("content-type"));
            assertEquals("gzip", om.header("content-encoding"));
            assertTrue(om.text().endsWith("# EOF\n"), "an OpenMetrics exposition ends with # EOF");
            Wire.Response pb = w.send(head("GET", "/metrics", "Accept: " + PROTOBUF, "Accept-Encoding: gzip")).read(false);
            assertEquals(200, pb.status(), pb.toString());
            assertEquals(PROTOBUF, pb.header("content-type"));
            assertEquals("gzip", pb.header("content-encoding"));
            assertTrue(pb.decoded().length > 0);
        }
    }

    @Test
    void prometheusProtobufAndOpenMetrics() throws Exception {
        int port = prometheus(10);
        try (Wire w = new Wire(port)) {
            Wire.Response pb = w.send(head("GET", "/metrics", "Accept: " + PROTOBUF)).read(false);
            assertEquals(200, pb.status(), pb.toString());
            assertEquals(PROTOBUF, pb.header("content-type"));
            assertEquals("length " + pb.body().length, pb.framing());
            assertTrue(new String(pb.body(), UTF_8).contains("requests_total"), "protobuf names the metric");
            Wire.Response om = w.send(head("GET", "/metrics?name[]=temperature_celsius",
                    "Accept: application/openmetrics-text; version=1.0.0")).read(false);
            assertEquals(200, om.status(), om.toString());
            assertEquals("# TYPE temperature_celsius gauge\n# HELP temperature_celsius a gauge\n"
                    + "temperature_celsius 21.5\n# EOF\n", om.text());
        }
    }

    @Test
    void prometheusHeadHealthyDefaultAndBadQuery() throws Exception {
        int port = prometheus(10);
        try (Wire w = new Wire(port)) {
            int length = w.send(head("GET", "/metrics")).read(false).body().length;
            Wire.Response h = w.send(head("HEAD", "/metrics")).read(true);
            assertEquals(200, h.status(), h.toString());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", h.header("content-type"));
            assertEquals("length " + length, h.framing(), "HEAD: the length GET would have");
            Wire.Response healthy = w.send(head("GET", "/-/healthy")).read(false);
            assertEquals(200, healthy.status(), healthy.toString());
            assertEquals("Exporter is healthy.\n", healthy.text());
            Wire.Response home = w.send(head("GET", "/")).read(false);
            assertEquals(200, home.status(), home.toString());
            assertEquals("text/html; charset=utf-8", home.header("content-type"));
            assertTrue(home.text().contains("The metrics path is <a href=\"metrics\">/metrics</a>."), home.text());
            Wire.Response bad = w.send(head("GET", "/metrics?debug=nonsense")).read(false);
            assertEquals(500, bad.status(), bad.toString());
        }
    }

    @Test
    void prometheusPipelinedRequests() throws Exception {
        int port = prometheus(300);
        try (Wire w = new Wire(port)) {
            String text = w.send(head("GET", "/metrics")).read(false).text();
            w.send(head("GET", "/metrics", "Accept-Encoding: gzip") + "\r\n\r\n" + head("HEAD", "/metrics")
                    + "\r\n\r\n" + head("GET", "/-/healthy") + "\r\n\r\n" + head("GET", "/metrics"));
            Wire.Response gz = w.read(false);
            assertEquals("200 chunked gzip", gz.status() + " " + gz.framing() + " " + gz.header("content-encoding"));
            assertEquals(text, gz.text());
            Wire.Response h = w.read(true);
            assertEquals("200 length " + text.length(), h.status() + " " + h.framing());
            assertEquals("Exporter is healthy.\n", w.read(false).text());
            assertEquals(text, w.read(false).text());
        }
    }

    @Test
    void prometheusScrapeFailure() throws Exception {
        int port = prometheus(10);
        registry.register((Collector) () -> {
            throw new IllegalStateException("a collector that fails");
        });
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/metrics")).read(false);
            assertEquals(500, r.status(), r.toString());
            assertEquals("text/plain; charset=utf-8", r.header("content-type"));
            assertEquals("An internal error occurred while scraping metrics. Configure an HTTP error reporter for details.",
                    r.text().strip());
            assertEquals("length " + r.body().length, r.framing());
            Wire.Response healthy = w.send(head("GET", "/-/healthy")).read(false);
            assertEquals("Exporter is healthy.\n", healthy.text(), "the connection stays: " + healthy);
        }
    }

    /**
     * The exporter answers a compressed HEAD by writing the gzip stream into the HEAD response: the head
     * goes out (no length, no body), the write fails with an IOException as it does on the JDK's provider,
     * and the exporter logs it.
     */
    @Test
    void prometheusHeadWithGzip() throws Exception {
        int port = prometheus(10);
        try (Wire w = new Wire(port)) {
            Wire.Response h = w.send(head("HEAD", "/metrics", "Accept-Encoding: gzip")).read(true);
            assertEquals(200, h.status(), h.toString());
            assertEquals("gzip", h.header("content-encoding"));
            assertEquals("text/plain; version=0.0.4; charset=utf-8", h.header("content-type"));
            assertEquals("none", h.framing());
            Wire.Response healthy = w.send(head("GET", "/-/healthy")).read(false);
            assertEquals("Exporter is healthy.\n", healthy.text(), "the connection stays: " + healthy);
        }
        assertEquals(List.of("SEVERE io.prometheus.metrics.exporter.httpserver.HttpExchangeAdapter: The Prometheus"
                        + " metrics HTTPServer caught an Exception while trying to send the metrics response. (IOException)"),
                awaitWarnings(1));
    }

    @Test
    void prometheusNotFound() throws Exception {
        registry = new PrometheusRegistry();
        HttpServer s = server();
        s.createContext("/metrics", new MetricsHandler(registry));   // no "/" context: other paths are 404
        s.start();
        try (Wire w = new Wire(s.getAddress().getPort())) {
            Wire.Response r = w.send(head("GET", "/nothing/here")).read(false);
            assertEquals(404, r.status(), r.toString());
            assertEquals("text/html", r.header("content-type"));
            assertEquals("<h1>404 Not Found</h1>No context found for request", r.text());
            assertEquals("close", r.header("connection"));
            assertTrue(w.closedByServer(), "a request no context takes closes the connection");
        }
        try (Wire w = new Wire(s.getAddress().getPort())) {
            assertEquals(200, w.send(head("GET", "/metrics")).read(false).status());
        }
    }

    @Test
    void prometheusConcurrentScrapes() throws Exception {
        int port = prometheus(500);
        String expected;
        try (Wire w = new Wire(port)) {
            expected = w.send(head("GET", "/metrics", "Accept-Encoding: gzip")).read(false).text();
        }
        try (ExecutorService clients = Executors.newFixedThreadPool(16)) {
            List<CompletableFuture<String>> scrapes = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                boolean gzip = i % 2 == 0;
                scrapes.add(CompletableFuture.supplyAsync(() -> {
                    try (Wire w = new Wire(port)) {
                        StringBuilder b = new StringBuilder();
                        for (int k = 0; k < 3; k++) {
                            Wire.Response r = w.send(gzip ? head("GET", "/metrics", "Accept-Encoding: gzip")
                                    : head("GET", "/metrics")).read(false);
                            b.append(r.status()).append(' ').append(r.header("content-encoding")).append(' ');
                            if (!r.text().equals(expected)) b.append("different body ");
                        }
                        return b.toString();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, clients));
            }
            for (int i = 0; i < scrapes.size(); i++) {
                String e = i % 2 == 0 ? "200 gzip " : "200 null ";
                assertEquals(e.repeat(3), scrapes.get(i).get(), "scrape " + i);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Jersey: a JAX-RS application in Jersey's JDK-HTTP container, as a handler on a server from the
    // provider under test

    /** The JAX-RS resource. */
    @Path("/api")
    public static class Resource {
        @GET @Path("hello") @Produces(MediaType.TEXT_PLAIN)
        public String hello(@QueryParam("name") String name, @HeaderParam("X-Greeting") String greeting) {
            return (greeting == null ? "hello" : greeting) + " " + (name == null ? "world" : name);
        }

        @POST @Path("echo") @Consumes(MediaType.WILDCARD) @Produces(MediaType.APPLICATION_OCTET_STREAM)
        public byte[] echo(byte[] body) {
            return body;
        }

        /** Reads the request body as a stream and answers its length and SHA-256. */
        @POST @Path("digest") @Consumes(MediaType.WILDCARD) @Produces(MediaType.TEXT_PLAIN)
        public String digest(InputStream body) throws Exception {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[8192];
            long n = 0;
            for (int r; (r = body.read(buf)) >= 0; n += r) sha.update(buf, 0, r);
            return n + " " + HexFormat.of().formatHex(sha.digest());
        }

        /** {@code size} bytes of a repeating pattern, written in pieces as they are made. */
        @GET @Path("large/{size}") @Produces(MediaType.APPLICATION_OCTET_STREAM)
        public StreamingOutput large(@PathParam("size") int size) {
            return out -> {
                byte[] piece = new byte[1000];
                for (int sent = 0; sent < size; sent += piece.length) {
                    for (int i = 0; i < piece.length; i++) piece[i] = (byte) (sent + i);
                    out.write(piece, 0, Math.min(piece.length, size - sent));
                }
            };
        }

        /** What Jersey made of the request: its URIs, parameters and headers. */
        @GET @Path("echo/{segment}") @Produces(MediaType.TEXT_PLAIN)
        public String request(@PathParam("segment") String segment, @QueryParam("q") List<String> q,
                              @jakarta.ws.rs.core.Context jakarta.ws.rs.core.UriInfo uri,
                              @jakarta.ws.rs.core.Context jakarta.ws.rs.core.HttpHeaders headers) {
            return "segment=" + segment + "\nq=" + q + "\nrequestUri=" + uri.getRequestUri()
                    + "\nbaseUri=" + uri.getBaseUri() + "\nmulti=" + headers.getRequestHeader("X-Multi")
                    + "\nnames=" + new java.util.TreeSet<>(headers.getRequestHeaders().keySet());
        }

        @GET @Path("cookies") @Produces(MediaType.TEXT_PLAIN)
        public Response cookies() {
            return Response.ok("two cookies").header("Set-Cookie", "a=1").header("Set-Cookie", "b=2; Path=/")
                    .header("Cache-Control", "no-store").build();
        }

        @POST @Path("ignore") @Produces(MediaType.TEXT_PLAIN)
        public String ignore() {
            return "ignored";
        }

        @GET @Path("unmapped")
        public String unmapped() {
            throw new UnsupportedOperationException("no mapper for this one");
        }

        @DELETE @Path("things/{id}")
        public void delete(@PathParam("id") String id) { }

        @GET @Path("conflict")
        public String conflict() {
            throw new IllegalStateException("already there");
        }

        @GET @Path("created") @Produces(MediaType.APPLICATION_JSON)
        public Response created() {
            return Response.status(201).header("Location", "/api/things/1").entity("{\"id\":1}").build();
        }
    }

    /** Maps the resource's IllegalStateException to 409 with a text body. */
    public static class ConflictMapper implements ExceptionMapper<IllegalStateException> {
        @Override
        public Response toResponse(IllegalStateException e) {
            return Response.status(409).type(MediaType.TEXT_PLAIN).entity("conflict: " + e.getMessage()).build();
        }
    }

    private int jersey() throws IOException {
        return jersey(null);
    }

    /** Jersey's container on a server from the provider under test; {@code handled} (if given) counts its returns. */
    private int jersey(java.util.concurrent.Semaphore handled) throws IOException {
        JdkHttpHandlerContainer container = ContainerFactory.createContainer(JdkHttpHandlerContainer.class,
                new ResourceConfig(Resource.class, ConflictMapper.class, EncodingFilter.class, GZipEncoder.class)
                        // WADL needs a JAXB implementation; without one Jersey warns that it is disabled
                        .property(ServerProperties.WADL_FEATURE_DISABLE, true));
        HttpServer s = server();
        s.createContext("/", handled == null ? container : exchange -> {
            try {
                container.handle(exchange);
            } finally {
                handled.release();
            }
        });
        s.start();
        container.getApplicationHandler().onStartup(container);
        cleanup.add(() -> container.getApplicationHandler().onShutdown(container));
        return s.getAddress().getPort();
    }

    @Test
    void jerseyGetWithQueryAndHeader() throws Exception {
        int port = jersey();
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/api/hello?name=bobbin", "X-Greeting: hi")).read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("text/plain", r.header("content-type"));
            assertEquals("length 9", r.framing());
            assertEquals("hi bobbin", r.text());
            Wire.Response h = w.send(head("HEAD", "/api/hello")).read(true);
            assertEquals(200, h.status(), h.toString());
            assertEquals("text/plain", h.header("content-type"));
            assertEquals("none", h.framing(), "Jersey gives HEAD no length");
            assertEquals(provider.name().equals("jdk"), logs.records().stream().anyMatch(
                    rec -> JDK_WARNS_HEAD_WITH_LENGTH.equals(rec.getMessage())), JDK_WARNS_HEAD_WITH_LENGTH);
            Wire.Response missing = w.send(head("GET", "/api/missing")).read(false);
            assertEquals(404, missing.status(), missing.toString());
            Wire.Response after = w.send(head("GET", "/api/hello")).read(false);
            assertEquals("hello world", after.text(), "the connection stays usable: " + after);
        }
    }

    @Test
    void jerseyRequestUrisParametersAndHeaders() throws Exception {
        int port = jersey();
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/api/echo/a%20b%C3%A9?q=1&q=x%2By&q=%E2%82%AC",
                    "X-Multi: one", "x-multi: two", "x-lower: v")).read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("segment=a b\u00e9\nq=[1, x+y, \u20ac]\n"
                    + "requestUri=http://localhost/api/echo/a%20b%C3%A9?q=1&q=x%2By&q=%E2%82%AC\n"
                    + "baseUri=http://localhost/\nmulti=[one, two]\nnames=[Host, X-lower, X-multi]", r.text());
            Wire.Response c = w.send(head("GET", "/api/cookies")).read(false);
            List<String> cookies = c.headers().stream().filter(h -> h[0].equals("set-cookie")).map(h -> h[1]).toList();
            assertEquals(List.of("a=1", "b=2; Path=/"), cookies, c.toString());
            assertEquals("no-store", c.header("cache-control"));
        }
        try (Wire w = new Wire(port)) {   // HTTP/1.0 without Host: Jersey takes the base URI from the local address
            Wire.Response r = w.send("GET /api/echo/x HTTP/1.0").read(false);
            assertEquals(200, r.status(), r.toString());
            assertTrue(r.text().contains("\nbaseUri=http://localhost:" + port + "/\n"), r.text());
        }
    }

    @Test
    void jerseyPostBodies() throws Exception {
        int port = jersey();
        byte[] body = new byte[300_000];
        new java.util.Random(7).nextBytes(body);
        String digest = body.length + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        try (Wire w = new Wire(port)) {
            Wire.Response echo = w.send(head("POST", "/api/echo", "Content-Type: application/octet-stream",
                    "Content-Length: " + body.length), body).read(false);
            assertEquals(200, echo.status(), echo.toString());
            assertEquals("application/octet-stream", echo.header("content-type"));
            assertArrayEquals(body, echo.body());
            Wire.Response chunked = w.send(head("POST", "/api/digest", "Content-Type: application/octet-stream",
                    "Transfer-Encoding: chunked"), Wire.chunked(body, 7_000)).read(false);
            assertEquals(200, chunked.status(), chunked.toString());
            assertEquals(digest, chunked.text());
            Wire.Response empty = w.send(head("POST", "/api/digest", "Content-Type: application/octet-stream",
                    "Content-Length: 0")).read(false);
            assertEquals(0 + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest()),
                    empty.text(), empty.toString());
            // a body the resource does not read is drained by the server (both drain up to 64 KiB and
            // close the connection past that), and the connection serves the next request
            byte[] unread = new byte[60_000];
            Wire.Response ignored = w.send(head("POST", "/api/ignore", "Content-Type: application/octet-stream",
                    "Content-Length: " + unread.length), unread).read(false);
            assertEquals("ignored", ignored.text(), ignored.toString());
            Wire.Response ignoredChunks = w.send(head("POST", "/api/ignore", "Content-Type: application/octet-stream",
                    "Transfer-Encoding: chunked"), Wire.chunked(unread, 8192)).read(false);
            assertEquals("ignored", ignoredChunks.text(), ignoredChunks.toString());
            assertEquals("hello world", w.send(head("GET", "/api/hello")).read(false).text());
        }
    }

    @Test
    void jerseyLargeStreamedResponse() throws Exception {
        int port = jersey();
        int size = 5_000_000;
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/api/large/" + size)).read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("chunked", r.framing(), "a streamed entity of unknown length");
            assertEquals(size, r.body().length);
            for (int i = 0; i < size; i++) {
                if (r.body()[i] != (byte) i) fail("byte " + i + " is " + r.body()[i]);
            }
            Wire.Response small = w.send(head("GET", "/api/large/10")).read(false);
            assertEquals(10, small.body().length, small.toString());
        }
    }

    @Test
    void jerseyNoContentCreatedAndMappedException() throws Exception {
        int port = jersey();
        try (Wire w = new Wire(port)) {
            Wire.Response deleted = w.send(head("DELETE", "/api/things/1")).read(false);
            assertEquals(204, deleted.status(), deleted.toString());
            assertEquals("none", deleted.framing());
            Wire.Response created = w.send(head("GET", "/api/created")).read(false);
            assertEquals(201, created.status(), created.toString());
            assertEquals("http://localhost/api/things/1", created.header("location"), "Jersey makes it absolute");
            assertEquals("application/json", created.header("content-type"));
            assertEquals("{\"id\":1}", created.text());
            Wire.Response conflict = w.send(head("GET", "/api/conflict")).read(false);
            assertEquals(409, conflict.status(), conflict.toString());
            assertEquals("text/plain", conflict.header("content-type"));
            assertEquals("conflict: already there", conflict.text());
            Wire.Response wrongMethod = w.send(head("PUT", "/api/hello", "Content-Length: 0")).read(false);
            assertEquals(405, wrongMethod.status(), wrongMethod.toString());
            Wire.Response after = w.send(head("GET", "/api/hello")).read(false);
            assertEquals("hello world", after.text(), "the connection stays usable: " + after);
        }
    }

    @Test
    void jerseyExpectContinue() throws Exception {
        int port = jersey();
        byte[] body = "a body sent after 100 Continue".getBytes(UTF_8);
        try (Wire w = new Wire(port)) {
            w.send(head("POST", "/api/echo", "Content-Type: text/plain", "Expect: 100-continue",
                    "Content-Length: " + body.length));
            Wire.Response interim = w.read(false);
            assertEquals(100, interim.status(), interim.toString());
            Wire.Response r = w.sendRaw(body).read(false);
            assertEquals(200, r.status(), r.toString());
            assertArrayEquals(body, r.body());
        }
    }

    @Test
    void jerseyGzipEncoding() throws Exception {
        int port = jersey();
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/api/large/200000", "Accept-Encoding: gzip")).read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("gzip", r.header("content-encoding"));
            assertEquals("application/octet-stream", r.header("content-type"));
            assertEquals("length " + r.body().length, r.framing(), "Jersey buffers the compressed entity");
            byte[] plain = r.decoded();
            assertEquals(200_000, plain.length);
            for (int i = 0; i < plain.length; i++) {
                if (plain[i] != (byte) i) fail("byte " + i + " is " + plain[i]);
            }
            Wire.Response small = w.send(head("GET", "/api/hello", "Accept-Encoding: gzip")).read(false);
            assertEquals("gzip", small.header("content-encoding"), small.toString());
            assertEquals("hello world", small.text());
        }
    }

    @Test
    void jerseyHttp10() throws Exception {
        int port = jersey();
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send("GET /api/large/100000 HTTP/1.0\r\nHost: localhost").read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("close", r.framing(), "HTTP/1.0 has no chunked coding: the body runs to the close");
            assertEquals(100_000, r.body().length);
        }
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send("GET /api/hello HTTP/1.0\r\nHost: localhost").read(false);
            assertEquals(200, r.status(), r.toString());
            assertEquals("length 11", r.framing());
            assertEquals("hello world", r.text());
            assertTrue(w.closedByServer(), "HTTP/1.0 without keep-alive closes after the response");
        }
    }

    @Test
    void jerseyUnmappedException() throws Exception {
        int port = jersey();
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/api/unmapped")).read(false);
            assertEquals("500 length 0", r.status() + " " + r.framing(), r.toString());
            Wire.Response after = w.send(head("GET", "/api/hello")).read(false);
            assertEquals("hello world", after.text(), "the response was complete: the connection stays: " + after);
        }
        // Jersey's default mapper answers 500, then rethrows to the container (it tries a second response,
        // which fails, and logs both); Bobbin logs the handler's failure too (HANDLER_FAILURE_LOGGED)
        List<String> expected = new ArrayList<>(List.of(
                "WARNING org.glassfish.jersey.jdkhttp.JdkHttpHandlerContainer: Unable to send a failure response. (IOException)",
                "WARNING org.glassfish.jersey.server.ServerRuntime$Responder: An exception mapping did not successfully"
                        + " produce and processed a response. Logging the exception propagated to the default exception"
                        + " mapper. (UnsupportedOperationException)"));
        if (provider.name().equals("bobbin")) {
            expected.add("WARNING dev.bobbin.http: handler of / threw: java.lang.UnsupportedOperationException: no mapper for this one");
        }
        expected.sort(null);
        assertEquals(expected, awaitWarnings(expected.size()), HANDLER_FAILURE_LOGGED);
    }

    /**
     * A client that goes away in the middle of a large streamed response: Jersey logs its write failure
     * (its own records, not checked), the server logs nothing at WARNING (a client leaving is routine for
     * a server), and serves the next client.
     */
    @Test
    void jerseyClientGoesAwayMidResponse() throws Exception {
        java.util.concurrent.Semaphore handled = new java.util.concurrent.Semaphore(0);
        int port = jersey(handled);
        try (Wire w = new Wire(port)) {
            Wire.Response r = w.send(head("GET", "/api/large/10")).read(false);
            assertEquals(10, r.body().length, r.toString());
            w.send(head("GET", "/api/large/200000000"));   // far more than the socket buffers hold
            handled.acquire();
        }   // closed unread: the server's writes fail
        handled.acquire();   // the handler has returned
        try (Wire w = new Wire(port)) {
            assertEquals("hello world", w.send(head("GET", "/api/hello")).read(false).text());
        }
        libraryRecordsExpected = true;
    }

    @Test
    void jerseyConcurrentPosts() throws Exception {
        int port = jersey();
        try (ExecutorService clients = Executors.newFixedThreadPool(16)) {
            List<CompletableFuture<String>> posts = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                byte[] body = ("request " + i + " ").repeat(1 + i * 50).getBytes(UTF_8);
                posts.add(CompletableFuture.supplyAsync(() -> {
                    try (Wire w = new Wire(port)) {
                        StringBuilder b = new StringBuilder();
                        for (int k = 0; k < 3; k++) {
                            Wire.Response r = w.send(head("POST", "/api/echo", "Content-Type: text/plain",
                                    "Content-Length: " + body.length), body).read(false);
                            b.append(r.status()).append(java.util.Arrays.equals(body, r.body()) ? " same " : " different ");
                        }
                        return b.toString();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, clients));
            }
            for (int i = 0; i < posts.size(); i++) assertEquals("200 same ".repeat(3), posts.get(i).get(), "post " + i);
        }
    }
}
