package dev.bobbin.bench.echo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The echo benchmark's touch probe still echoes, and its chain stops at the length asked for. */
class TouchingEchoHandlerTest {
    @Test
    void echoesEveryReadAndGrowsItsChainToTheGivenLength() {
        NettyEchoServer.TouchingEchoHandler handler = new NettyEchoServer.TouchingEchoHandler(3);
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        try {
            for (int i = 0; i < 5; i++) {
                String message = "message " + i;
                ch.writeInbound(Unpooled.copiedBuffer(message, StandardCharsets.US_ASCII));
                ByteBuf echoed = ch.readOutbound();
                try {
                    assertEquals(message, echoed.toString(StandardCharsets.US_ASCII), "read " + i);
                } finally {
                    echoed.release();
                }
                assertEquals(Math.min(i + 1, 3), handler.links(), "links after read " + i);
            }
            assertNull(ch.readOutbound(), "one echo per read");
        } finally {
            assertFalse(ch.finish(), "nothing left over");
        }
    }
}
