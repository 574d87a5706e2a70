package dev.bobbin.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The leak guard itself catches a leaked buffer: the suites' "no leak" checks can fail. */
class LeakGuardTest {
    static { LeakGuard.install(); }

    @Test
    void aDroppedBufferIsReported() throws Exception {
        LeakGuard.drain();
        leakOne();
        List<String> reports = List.of();
        for (int i = 0; i < 50 && reports.isEmpty(); i++) {
            try {
                LeakGuard.assertNoLeaks();
            } catch (AssertionError expected) {
                reports = LeakGuard.drain();
            }
        }
        assertFalse(reports.isEmpty(), "a leaked ByteBuf was not reported");
        LeakGuard.assertNoLeaks();                     // and nothing else leaked
    }

    private static void leakOne() {
        ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(64);
        b.writeLong(42);                                // dropped without release
    }
}
