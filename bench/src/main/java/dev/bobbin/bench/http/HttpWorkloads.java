package dev.bobbin.bench.http;

import java.nio.charset.StandardCharsets;

/**
 * What every server of the HTTP benchmark serves, byte for byte the same: three GET routes.
 *
 * <ul>
 *   <li>{@value #HELLO_PATH}: {@code Hello, World!} as {@code text/plain};</li>
 *   <li>{@value #JSON_PATH}: a {@value #JSON_SIZE}-byte JSON document as {@code application/json}, built
 *       once at start-up (the benchmark measures the server, not a JSON encoder);</li>
 *   <li>{@value #SLEEP_PATH}: the hello body after the handler blocks for {@value #SLEEP_MILLIS} ms in
 *       {@link Thread#sleep(long)}, standing in for a database call.</li>
 * </ul>
 */
final class HttpWorkloads {
    static final String HELLO_PATH = "/hello";
    static final String JSON_PATH = "/json";
    static final String SLEEP_PATH = "/sleep";
    static final String TEXT_PLAIN = "text/plain";
    static final String APPLICATION_JSON = "application/json";
    /** Size of the JSON body, in bytes. */
    static final int JSON_SIZE = 4096;
    /** How long the {@value #SLEEP_PATH} handler blocks: a short database call. */
    static final long SLEEP_MILLIS = 1;

    private static final byte[] HELLO = "Hello, World!".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] JSON = json(JSON_SIZE);

    private HttpWorkloads() { }

    /** The hello body; callers must not modify it. */
    static byte[] hello() {
        return HELLO;
    }

    /** The JSON body; callers must not modify it. */
    static byte[] json() {
        return JSON;
    }

    /** Blocks the calling thread for {@value #SLEEP_MILLIS} ms, as a handler waiting for a database would. */
    static void simulatedDatabaseCall() {
        try {
            Thread.sleep(SLEEP_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A JSON document of exactly {@code size} bytes: an array of small records, then a padding string that
     * brings it to the size.
     */
    static byte[] json(int size) {
        if (size < 64) throw new IllegalArgumentException("size must be at least 64: " + size);
        StringBuilder sb = new StringBuilder("{\"items\":[");
        String tail = "],\"pad\":\"\"}";
        for (int i = 0; ; i++) {
            String item = (i == 0 ? "" : ",") + "{\"id\":" + i + ",\"name\":\"item-" + i + "\",\"price\":" + (i * 7 % 100)
                    + "." + (10 + i % 90) + ",\"inStock\":" + (i % 3 != 0) + ",\"tags\":[\"bench\",\"bobbin\"]}";
            if (sb.length() + item.length() + tail.length() > size) break;
            sb.append(item);
        }
        sb.append("],\"pad\":\"");
        while (sb.length() + 2 < size) sb.append('x');
        sb.append("\"}");
        byte[] b = sb.toString().getBytes(StandardCharsets.US_ASCII);
        if (b.length != size) throw new AssertionError("JSON body is " + b.length + " bytes, not " + size);
        return b;
    }
}
