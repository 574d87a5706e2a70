package dev.bobbin.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A connection's head parser keeps its array between requests; a head larger than usual (a big cookie)
 * must not leave the connection holding an array of that size for the rest of its life, idle or not.
 */
class HeadBufferRetentionTest {
    @Test
    void aLargeHeadLeavesNoLargeArrayBehind() throws Exception {
        HeadParser p = new HeadParser(HttpTunables.DEFAULT_MAX_REQUEST_LINE_BYTES, HttpTunables.DEFAULT_MAX_HEADER_BYTES);
        String big = "GET / HTTP/1.1\r\nHost: x\r\nCookie: " + "c".repeat(60_000) + "\r\n\r\n";
        ByteBuf in = Unpooled.copiedBuffer(big, ISO_8859_1);
        try {
            int length = p.findEnd(in);
            assertEquals(big.length(), length);
            RequestHead h = p.parse(in, length);
            assertEquals(60_000, h.first("Cookie").length());
        } finally {
            in.release();
        }
        assertTrue(p.retainedBytes() <= HttpTunables.HEAD_BUFFER_INITIAL_BYTES,
                "the parser keeps a " + p.retainedBytes() + "-byte array after one large head");
        ByteBuf small = Unpooled.copiedBuffer("GET /next HTTP/1.1\r\nHost: x\r\n\r\n", ISO_8859_1);
        try {
            assertEquals("/next", p.parse(small, p.findEnd(small)).uri().getPath());
        } finally {
            small.release();
        }
    }
}
