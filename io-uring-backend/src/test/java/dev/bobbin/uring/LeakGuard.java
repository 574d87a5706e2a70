package dev.bobbin.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Makes Netty's leak detector (PARANOID in the test JVM) record every leak report, so a test can fail on
 * it. {@link #install()} must run before any buffer class is initialized: test classes call it from their
 * static initializer.
 */
public final class LeakGuard {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
                ResourceLeakDetector<T> d = new ResourceLeakDetector<>(resource, samplingInterval, maxActive);
                d.setLeakListener((type, records) -> LEAKS.add(type + ": " + records));
                return d;
            }
        });
    }

    private LeakGuard() { }

    public static void install() {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("tests must run with -Dio.netty.leakDetection.level=PARANOID");
        }
    }

    /** Collects garbage, lets the detector poll its queue, and fails on any leak reported so far. */
    static void assertNoLeaks() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            for (int j = 0; j < 16; j++) {                 // each allocation makes the detector poll its queue
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
                ByteBuf h = ByteBufAllocator.DEFAULT.heapBuffer(16);
                h.release();
            }
        }
        assertEquals(List.of(), List.copyOf(LEAKS), "Netty leak detector reported leaks");
    }

    /** For the guard's own test: forget reports already asserted. */
    static List<String> drain() {
        List<String> l = List.copyOf(LEAKS);
        LEAKS.clear();
        return l;
    }
}
