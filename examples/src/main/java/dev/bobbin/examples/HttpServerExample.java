package dev.bobbin.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bobbin.http.BobbinHttpServer;
import dev.bobbin.http.HttpServerMetrics;
import dev.bobbin.metrics.BobbinMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * An ordinary {@code com.sun.net.httpserver} program: with Bobbin's http-server jar on the class path,
 * {@code HttpServer.create} returns a Bobbin server, and every handler runs on a fiber.
 *
 * <pre>
 *   ./bobbin example http              serves on http://127.0.0.1:8080/ until killed
 *   ./bobbin example http 9090         another port (0: any free port)
 *   ./bobbin example http 0 --check    starts, requests every context once, prints the answers, stops
 * </pre>
 * Contexts: {@code /} (hello), {@code /json} (a JSON document), {@code /stream} (a chunked response
 * written in pieces) and {@code /metrics} (the server's and the scheduler's meters, Prometheus text).
 */
public final class HttpServerExample {
    private HttpServerExample() { }

    private static final String USAGE = "usage: ./bobbin example http [port] [--check]";

    public static void main(String[] args) throws Exception {
        Usage.helpIfAsked(args, USAGE);
        int port = 8080;
        boolean check = false, portGiven = false;
        for (String a : args) {
            if (a.equals("--check")) check = true;
            else {
                try {
                    if (portGiven) throw new NumberFormatException();
                    port = Integer.parseInt(a);
                    portGiven = true;
                    if (port < 0 || port > 0xFFFF) throw new NumberFormatException();
                } catch (NumberFormatException e) {
                    Usage.refuse(USAGE, "not a port: " + a);
                }
            }
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        } catch (BindException e) {
            System.err.println("http: cannot listen on port " + port + ": " + e.getMessage());
            System.exit(1);
            return;
        } catch (IllegalStateException e) {            // -Dbobbin.io.transport names an unknown or unavailable one
            System.err.println("http: " + e.getMessage());
            System.exit(2);
            return;
        }

        server.createContext("/", x -> reply(x, 200, "text/plain", "Hello from a fiber: " + Thread.currentThread() + "\n"));
        server.createContext("/json", x -> reply(x, 200, "application/json",
                "{\"runtime\":\"bobbin\",\"virtual\":" + Thread.currentThread().isVirtual() + ",\"path\":\""
                + x.getRequestURI().getPath() + "\"}\n"));
        server.createContext("/stream", x -> {
            x.getResponseHeaders().set("Content-Type", "text/plain");
            x.sendResponseHeaders(200, 0);                       // 0: chunked
            try (OutputStream out = x.getResponseBody()) {
                for (int i = 1; i <= 5; i++) {
                    out.write(("piece " + i + " of 5\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();                                // each piece goes out as it is written
                    sleep(50);                                  // blocks the fiber, not a thread
                }
            }
        });
        server.createContext("/metrics", x -> reply(x, 200, "text/plain; version=0.0.4", registry.scrape()));

        HttpServerMetrics.of(server).bindTo(registry);
        server.start();
        if (server instanceof BobbinHttpServer b) BobbinMetrics.of(b.scheduler()).bindTo(registry);
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        System.out.println("serving " + url + " (also " + url + "json, " + url + "stream, " + url + "metrics) on "
                + server.getClass().getSimpleName());
        if (!check) {
            Thread.currentThread().join();                      // until the process is killed
            return;
        }
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            for (String path : new String[] {"", "json", "stream", "metrics"}) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                String body = r.body();
                if (path.equals("metrics")) {
                    body = body.lines().filter(l -> l.startsWith("http_server_requests_seconds_count")).sorted()
                            .reduce("", (a, b) -> a + b + "\n");
                }
                System.out.print("GET /" + path + " -> " + r.statusCode() + "\n" + body);
            }
        } finally {
            server.stop(0);
        }
    }

    private static void reply(HttpExchange x, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", type);
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }
}
