package dev.bobbin.http;

import io.netty.handler.codec.DateFormatter;

import java.util.Date;

/**
 * The {@code Date} header value (RFC 9110 IMF-fixdate, formatted by Netty's {@link DateFormatter}),
 * formatted at most once per second: every response of one second shares one string.
 */
final class DateHeader {
    private record Stamp(long second, String value) { }

    private static volatile Stamp current = new Stamp(-1, "");   // a new Stamp is published whole (final fields)

    private DateHeader() { }

    /** The value for now. Any thread; racing refreshers format the same second, and any of them wins. */
    static String now() {
        long millis = System.currentTimeMillis();
        long second = millis / 1000;
        Stamp s = current;
        if (s.second == second) return s.value;
        String v = DateFormatter.format(new Date(second * 1000));
        current = new Stamp(second, v);
        return v;
    }
}
