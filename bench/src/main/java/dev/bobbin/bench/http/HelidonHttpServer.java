package dev.bobbin.bench.http;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerResponse;

import java.net.InetAddress;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The benchmark's routes ({@link HttpWorkloads}) on Helidon SE 4's web server, which reads each
 * connection on its own virtual thread and runs the handlers there; its defaults otherwise.
 */
final class HelidonHttpServer implements HttpBenchServer {
    /** Helidon announces its start and stop at INFO through java.util.logging; a benchmark run stays quiet. */
    private static final Logger HELIDON_LOGS = Logger.getLogger("io.helidon");

    static {
        HELIDON_LOGS.setLevel(Level.WARNING);
    }

    private final WebServer server;

    private HelidonHttpServer(WebServer server) {
        this.server = server;
    }

    static HelidonHttpServer start(int port) {
        WebServer server = WebServer.builder()
                .address(InetAddress.getLoopbackAddress())
                .port(port)
                .backlog(JdkApiHttpServer.BACKLOG)
                .shutdownHook(false)
                .routing(r -> r
                        .get(HttpWorkloads.HELLO_PATH, (req, res) -> send(res, HttpWorkloads.TEXT_PLAIN, HttpWorkloads.hello()))
                        .get(HttpWorkloads.JSON_PATH, (req, res) -> send(res, HttpWorkloads.APPLICATION_JSON, HttpWorkloads.json()))
                        .get(HttpWorkloads.SLEEP_PATH, (req, res) -> {
                            HttpWorkloads.simulatedDatabaseCall();
                            send(res, HttpWorkloads.TEXT_PLAIN, HttpWorkloads.hello());
                        }))
                .build()
                .start();
        return new HelidonHttpServer(server);
    }

    private static void send(ServerResponse res, String contentType, byte[] body) {
        res.header("Content-Type", contentType);
        res.send(body);
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public String implementation() {
        return server.getClass().getName();
    }

    @Override
    public void close() {
        server.stop();
    }
}
