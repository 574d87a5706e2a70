package dev.bobbin.bench.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests every route from every server of the HTTP benchmark in-process, so that the servers compared
 * cannot silently serve different bytes or rot.
 */
class HttpServersSmokeTest {

    @ParameterizedTest
    @EnumSource(value = HttpServerKind.class, names = "BOBBIN", mode = EnumSource.Mode.EXCLUDE)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void servesTheSameBytesOnEveryRoute(HttpServerKind kind) throws Exception {
        assertTrue(kind.unavailableReason().isEmpty(), () -> kind.id() + " must run here: " + kind.unavailableReason().orElse(""));
        try (HttpBenchServer server = kind.start(0);
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            assertTrue(server.port() > 0, "bound port");
            String base = "http://127.0.0.1:" + server.port();
            check(client, base + "/hello", "text/plain", HttpWorkloads.hello());
            check(client, base + "/json", "application/json", HttpWorkloads.json());
            check(client, base + "/sleep", "text/plain", HttpWorkloads.hello());
            // several at once on several connections, the blocking route included
            List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String path = List.of("/hello", "/json", "/sleep").get(i % 3);
                all.add(client.sendAsync(get(base + path), HttpResponse.BodyHandlers.ofByteArray()));
            }
            for (int i = 0; i < all.size(); i++) {
                HttpResponse<byte[]> r = all.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertArrayEquals(i % 3 == 1 ? HttpWorkloads.json() : HttpWorkloads.hello(), r.body(), kind.id() + " request " + i);
            }
        }
    }

    @Test
    void bobbinRunsWhenItsProviderIsOnTheClassPathAndOtherwiseSaysWhatIsMissing() throws Exception {
        boolean present;
        try {
            Class.forName(HttpServerKind.JdkProviders.BOBBIN);
            present = true;
        } catch (ClassNotFoundException e) {
            present = false;
        }
        if (present) {
            assertTrue(HttpServerKind.BOBBIN.unavailableReason().isEmpty());
        } else {
            assertTrue(HttpServerKind.BOBBIN.unavailableReason().orElseThrow().contains("http-server"));
            assertThrows(IllegalStateException.class, () -> HttpServerKind.BOBBIN.start(0));
        }
        assertEquals(List.of("-Dcom.sun.net.httpserver.HttpServerProvider=dev.bobbin.http.BobbinHttpServerProvider"),
                HttpServerKind.BOBBIN.jvmOptions());
    }

    @Test
    void theJsonBodyIsValidJsonOfTheStatedSize() {
        byte[] json = HttpWorkloads.json();
        assertEquals(HttpWorkloads.JSON_SIZE, json.length);
        String s = new String(json, StandardCharsets.US_ASCII);
        assertTrue(s.startsWith("{\"items\":[{\"id\":0,") && s.endsWith("\"}"), s);
        assertEquals(count(s, '{'), count(s, '}'));
        assertEquals(count(s, '['), count(s, ']'));
        assertEquals(100, HttpWorkloads.json(100).length);
        assertThrows(IllegalArgumentException.class, () -> HttpWorkloads.json(10));
    }

    private static long count(String s, char c) {
        return s.chars().filter(x -> x == c).count();
    }

    private static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build();
    }

    private static void check(HttpClient client, String url, String contentType, byte[] body) throws Exception {
        HttpResponse<byte[]> r = client.send(get(url), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), url);
        assertEquals(contentType, r.headers().firstValue("content-type").orElse(""), url);
        assertEquals(body.length, r.headers().firstValueAsLong("content-length").orElse(-1), url);
        assertArrayEquals(body, r.body(), url);
    }
}
