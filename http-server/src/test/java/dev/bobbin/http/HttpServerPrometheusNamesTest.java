package dev.bobbin.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a Prometheus server scrapes from a Bobbin HTTP server's meters: exactly the names of the table
 * under "For the HTTP server" in metrics/README.md (a timer's {@code _count}, {@code _sum} and {@code _max}
 * included), none of them repeating a word.
 */
class HttpServerPrometheusNamesTest {

    /** The Prometheus column of the README's HTTP table, each timer row standing for its three series. */
    private static Set<String> documented() throws Exception {
        String readme = Files.readString(Path.of("..", "metrics", "README.md"));
        int section = readme.indexOf("## For the HTTP server");
        assertTrue(section >= 0, "metrics/README.md has the HTTP server's table");
        int end = readme.indexOf("\n## ", section + 1);
        Matcher m = Pattern.compile("^\\| `([a-z.]+)` \\| `([a-z_]+)` \\| ([a-z]+)", Pattern.MULTILINE)
                .matcher(readme.substring(section, end < 0 ? readme.length() : end));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            if (m.group(3).equals("timer")) {
                for (String suffix : new String[] {"_count", "_sum", "_max"}) names.add(m.group(2) + suffix);
            } else {
                names.add(m.group(2));
            }
        }
        assertTrue(names.size() >= 6, "rows found: " + names);
        return names;
    }

    @Test
    void scrapedNamesAreExactlyTheDocumentedOnes() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BobbinHttpServer server = BobbinHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String scrape;
        try {
            server.createContext("/", x -> {
                x.sendResponseHeaders(200, 2);
                try (OutputStream out = x.getResponseBody()) {
                    out.write("ok".getBytes());
                }
            });
            HttpServerMetrics.of(server).bindTo(registry);
            server.start();
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals("ok", r.body());
            }
            // the exchange is timed once the response is complete, which the client may see a moment earlier
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (registry.find("http.server.requests").timer() == null) {
                assertTrue(System.nanoTime() < deadline, "the request was timed");
                Thread.sleep(5);
            }
            scrape = registry.scrape();                  // before stop(), which removes the server's meters
        } finally {
            server.stop(0);
        }
        Set<String> samples = new TreeSet<>();
        Matcher s = Pattern.compile("^([a-z_]+)[{ ]", Pattern.MULTILINE).matcher(scrape);
        while (s.find()) samples.add(s.group(1));
        assertEquals(documented(), samples, scrape);
        for (String sample : samples) {
            String[] words = sample.replaceAll("_(total|max|count|sum)$", "").split("_");
            assertEquals(words.length, new TreeSet<>(Set.of(words)).size(), "a word repeats in " + sample);
        }
    }
}
