package dev.bobbin.uring;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Transport selection, and the CI guard: on a machine where io_uring is usable the io_uring tests must
 * run on io_uring, never skip or silently fall back.
 */
public class TransportSelectionTest {
    static { LeakGuard.install(); }

    static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    }

    /** Whether the kernel allows io_uring: Linux, and kernel.io_uring_disabled absent or 0. */
    static boolean kernelAllowsIoUring() {
        if (!isLinux()) return false;
        Path p = Path.of("/proc/sys/kernel/io_uring_disabled");
        try {
            return !Files.exists(p) || Files.readString(p).trim().equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    /** Fails if the machine should support {@code t} but it did not load; skips if the machine cannot. */
    public static void assumeOrRequire(IoTransport t) {
        boolean expected = switch (t) {
            case IO_URING -> kernelAllowsIoUring() && System.getProperty("os.arch", "").matches("amd64|x86_64");
            case EPOLL -> isLinux() && System.getProperty("os.arch", "").matches("amd64|x86_64");
            case NIO -> true;
        };
        if (expected) {
            assertTrue(t.isAvailable(), () -> t.id() + " should be available on this machine but is not: "
                    + t.unavailabilityCause().map(Throwable::toString).orElse("?"));
        } else {
            Assumptions.assumeTrue(t.isAvailable(), t.id() + " is not supported on this machine");
        }
    }

    @Test
    void ioUringIsSelectedWhereverTheKernelAllowsIt() {
        FiberIo.Selection s = FiberIo.select(null);
        if (kernelAllowsIoUring()) {
            assertEquals(IoTransport.IO_URING, s.transport(), "io_uring is enabled here, yet: " + s.reason()
                    + "; cause: " + IoTransport.IO_URING.unavailabilityCause().orElse(null));
        } else {
            assertNotEquals(IoTransport.IO_URING, s.transport());
            assertTrue(s.reason().contains("io_uring unavailable"), s.reason());
        }
    }

    @Test
    void thePropertyForcesATransport() {
        assertEquals(IoTransport.NIO, FiberIo.select("nio").transport());
        assertTrue(FiberIo.select("nio").reason().contains(FiberIo.TRANSPORT_PROPERTY));
        if (IoTransport.EPOLL.isAvailable()) assertEquals(IoTransport.EPOLL, FiberIo.select(" EPOLL ").transport());
        if (IoTransport.IO_URING.isAvailable()) assertEquals(IoTransport.IO_URING, FiberIo.select("io_uring").transport());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FiberIo.select("carrier-pigeon"));
        assertTrue(e.getMessage().contains(FiberIo.TRANSPORT_PROPERTY), e.getMessage());
    }

    @Test
    void systemRuntimeReportsItsTransportAndReason() {
        FiberIo io = FiberIo.system();
        assertSame(io, FiberIo.system());
        assertNotNull(io.selectionReason());
        assertSame(io, FiberIo.of(io.transport()));
        assertThrows(NullPointerException.class, () -> FiberIo.of(null));
        assertThrows(IllegalArgumentException.class, () -> IoTransport.fromId("x"));
    }
}
