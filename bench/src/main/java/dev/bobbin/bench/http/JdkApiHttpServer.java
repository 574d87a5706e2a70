package dev.bobbin.bench.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;

/**
 * The benchmark's routes ({@link HttpWorkloads}) on the plain {@code com.sun.net.httpserver} API, as an
 * application written against the JDK would have them: {@link HttpServer#create} (so whichever
 * {@link HttpServerProvider} the JVM selects serves them: the JDK's own, or Bobbin's when its jar is on
 * the class path and {@code -Dcom.sun.net.httpserver.HttpServerProvider} names it), one context per
 * route, and the executor given (null: the provider's default).
 */
final class JdkApiHttpServer implements HttpBenchServer {
    /** Accept backlog: room for the benchmark's 1,000 connections arriving at once. */
    static final int BACKLOG = 1024;

    private final HttpServer server;
    private final ExecutorService executor;

    private JdkApiHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Starts the routes on the loopback address.
     *
     * @param port     0 for an ephemeral port
     * @param executor the exchanges' executor, or null for the provider's default; closed with the server
     * @param expectedProvider the {@link HttpServerProvider} class the JVM must have selected
     * @throws IllegalStateException if the JVM selected another provider
     */
    static JdkApiHttpServer start(int port, ExecutorService executor, String expectedProvider) throws IOException {
        String provider = HttpServerProvider.provider().getClass().getName();
        if (!provider.equals(expectedProvider)) {
            throw new IllegalStateException("the JVM selected HttpServerProvider " + provider + ", not " + expectedProvider
                    + " (check -Dcom.sun.net.httpserver.HttpServerProvider and the class path)");
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), BACKLOG);
        server.createContext(HttpWorkloads.HELLO_PATH, ex -> respond(ex, HttpWorkloads.TEXT_PLAIN, HttpWorkloads.hello()));
        server.createContext(HttpWorkloads.JSON_PATH, ex -> respond(ex, HttpWorkloads.APPLICATION_JSON, HttpWorkloads.json()));
        server.createContext(HttpWorkloads.SLEEP_PATH, ex -> {
            HttpWorkloads.simulatedDatabaseCall();
            respond(ex, HttpWorkloads.TEXT_PLAIN, HttpWorkloads.hello());
        });
        server.setExecutor(executor);
        server.start();
        return new JdkApiHttpServer(server, executor);
    }

    private static void respond(HttpExchange exchange, String contentType, byte[] body) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            in.transferTo(OutputStream.nullOutputStream());
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public String implementation() {
        return server.getClass().getName() + (executor == null ? ", default executor" : ", " + executor.getClass().getSimpleName());
    }

    @Override
    public void close() {
        server.stop(0);
        if (executor != null) executor.close();
    }
}
