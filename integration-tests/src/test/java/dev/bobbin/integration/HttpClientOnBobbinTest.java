package dev.bobbin.integration;

import com.sun.net.httpserver.HttpServer;
import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JDK's HttpClient on Bobbin: its executor is a FiberExecutor and requests are sent from fibers,
 * which block in {@code send} as they would on JDK virtual threads. The recipe is the line marked below.
 */
class HttpClientOnBobbinTest {

    @Test
    void requestsFromFibersAndCallbacksOnBobbin() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("hello " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        try (FiberExecutor fibers = FiberExecutor.create();
             HttpClient client = HttpClient.newBuilder().executor(fibers).build()) {   // recipe
            int port = server.getAddress().getPort();
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String path = "/r" + i;
                results.add(fibers.submit(() -> {
                    assertTrue(FiberScheduler.current().isPresent(), "sending from a Bobbin fiber");
                    HttpResponse<String> r = client.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    return r.statusCode() + " " + r.body();
                }));
            }
            for (int i = 0; i < results.size(); i++) assertEquals("200 hello /r" + i, results.get(i).get());

            boolean callbackOnBobbin = client.sendAsync(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/async")).build(),
                            HttpResponse.BodyHandlers.ofString())
                    .thenApplyAsync(r -> FiberScheduler.current().isPresent(), fibers).get();
            assertTrue(callbackOnBobbin, "dependent actions run on the client's Bobbin executor");
        } finally {
            server.stop(0);
        }
    }
}
