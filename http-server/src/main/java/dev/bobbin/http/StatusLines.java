package dev.bobbin.http;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/**
 * The bytes of {@code HTTP/1.1 <code> <reason>\r\n} for every status code, with Netty's reason phrases
 * ({@link HttpResponseStatus}). Codes 100 to 599 are built once when the class initializes (safely
 * published by class initialization); others are built on each use.
 */
final class StatusLines {
    private static final int FIRST = 100;
    private static final int LAST = 599;
    private static final byte[][] LINES = new byte[LAST - FIRST + 1][];

    static {
        for (int code = FIRST; code <= LAST; code++) LINES[code - FIRST] = build(code);
    }

    private StatusLines() { }

    /** The status line of {@code code}, CRLF included. The array is shared: never modify it. */
    static byte[] of(int code) {
        return code >= FIRST && code <= LAST ? LINES[code - FIRST] : build(code);
    }

    /** The reason phrase Bobbin sends for {@code code}. */
    static String reason(int code) {
        return HttpResponseStatus.valueOf(code).reasonPhrase();
    }

    private static byte[] build(int code) {
        return ("HTTP/1.1 " + code + " " + reason(code) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }
}
