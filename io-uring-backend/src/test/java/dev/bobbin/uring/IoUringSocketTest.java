package dev.bobbin.uring;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.AfterEach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The socket suite on io_uring. Where io_uring is usable (Linux with kernel.io_uring_disabled = 0) the
 * transport must load: these tests fail rather than skip. Afterwards a marker file records how many
 * tests ran here, for CI to check ({@code target/bobbin-io_uring-tests.txt}).
 */
class IoUringSocketTest extends FiberSocketContract {
    private static final AtomicInteger RAN = new AtomicInteger();

    @Override IoTransport transport() { return IoTransport.IO_URING; }

    @BeforeAll
    static void requireIoUring() {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
    }

    @AfterEach
    void count(TestInfo info) {
        RAN.incrementAndGet();
    }

    @AfterAll
    static void writeMarker() throws IOException {
        // JUnit runs @AfterAll even when requireIoUring() aborted the class: where io_uring is not supported
        // (kernel.io_uring_disabled != 0, not x86_64, not Linux) the suite is skipped, not failed. Where it
        // should be supported but is not, requireIoUring() has already failed the class.
        if (RAN.get() == 0 && !IoTransport.IO_URING.isAvailable()) return;
        assertTrue(RAN.get() > 0);
        Files.writeString(Path.of("target", "bobbin-io_uring-tests.txt"), "io_uring socket tests run: " + RAN.get() + "\n");
    }
}
