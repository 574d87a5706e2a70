package dev.bobbin.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The leak guard itself catches a leaked buffer: the suites' "no leak" checks can fail. */
class LeakGuardTest {
    static { LeakGuard.install(); }

    /** Netty also logs each leak it detects (SEVERE): this deliberate one is kept out of the build's output. */
    private static final java.util.logging.Logger DETECTOR_LOG =
            java.util.logging.Logger.getLogger("io.netty.util.ResourceLeakDetector");

    @Test
    void aDroppedBufferIsReported() throws Exception {
        // still enabled (Netty reports leaks only while its logger is), but no longer printed
        DETECTOR_LOG.setUseParentHandlers(false);
        try {
            detectsTheLeak();
        } finally {
            DETECTOR_LOG.setUseParentHandlers(true);
        }
    }

    private static void detectsTheLeak() throws Exception {
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
