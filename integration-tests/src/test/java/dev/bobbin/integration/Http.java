package dev.bobbin.integration;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain JDK client for the server tests (on platform threads, so only the server side is Bobbin's). */
final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Http() { }

    /** Sends {@code n} GETs of {@code path} at once, from platform threads; returns the responses in order. */
    static java.util.List<HttpResponse<String>> getConcurrently(int port, String path, int n) {
        java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> responses = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            responses.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return get(port, path);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        return responses.stream().map(java.util.concurrent.CompletableFuture::join).toList();
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).build();
        return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
