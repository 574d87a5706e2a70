package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.driver.IoErrors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A server that runs out of descriptors keeps its accept loop: accepting pauses with a growing delay
 * instead of failing the waiting accept or spinning on the failing one, and resumes by itself once
 * descriptors are back. The test lowers this JVM's own descriptor limit (prlimit) for a moment while a
 * separate process opens connections. Not run on io_uring: lowering the limit of a running process did
 * not make its io_uring accepts fail here (the ring's accepts kept getting descriptors), so the condition
 * cannot be produced this way; the io_uring transport reports the same errors through the same handler.
 */
@Tag("reliability")
class AcceptExhaustionTest {
    static { LeakGuard.install(); }

    private static final int CONNECTIONS = 40;

    /**
     * {@code timedAccepts}: the acceptor waits 20 ms at a time and retries on {@code SocketTimeoutException},
     * as an accept loop that checks a stop flag does; each retry must not read again while the server backs off.
     */
    @ParameterizedTest(name = "{0}, timed accepts {1}")
    @CsvSource({"EPOLL, false", "NIO, false", "EPOLL, true", "NIO, true"})
    @SuppressWarnings("try")   // a resource held open for the test, not read
    void acceptBacksOffWhileDescriptorsRunOutAndResumesWhenTheyReturn(IoTransport transport, boolean timedAccepts) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        List<FiberSocket> held = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> acceptFailure = new AtomicReference<>();
        long pid = ProcessHandle.current().pid();
        String[] limits = nofileLimits();
        try (FiberScheduler scheduler = io.newScheduler("exhaust-" + transport.id(), 2)) {
            CompletableFuture<FiberServerSocket> bound = new CompletableFuture<>();
            scheduler.start(() -> {
                try {
                    FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 1024);
                    bound.complete(server);
                    for (;;) {
                        if (!timedAccepts) {
                            held.add(server.accept());
                            continue;
                        }
                        try {
                            held.add(server.accept(Duration.ofMillis(20)));
                        } catch (java.net.SocketTimeoutException retry) {
                            // nothing this time: wait again
                        }
                    }
                } catch (ClosedChannelException closed) {
                    // the test is over
                } catch (Throwable t) {
                    acceptFailure.set(t);
                    bound.completeExceptionally(t);
                }
            });
            FiberServerSocket server = bound.get(10, TimeUnit.SECONDS);
            int port = server.localAddress().getPort();
            // Load what the accept path uses while descriptors are plentiful: in a test run classes come
            // from directories, one file open per class, which would fail once descriptors are out.
            try (java.net.Socket warm = new java.net.Socket("127.0.0.1", port)) {
                waitUntil("the warm-up connection accepted", () -> held.size() == 1);
            }
            assertFalse(IoErrors.isResourceExhaustion(new IOException("warm-up")));
            Process clients = new ProcessBuilder("bash", "-c",
                    "sleep 0.5; for i in $(seq " + CONNECTIONS + "); do exec {fd}<>/dev/tcp/127.0.0.1/" + port
                            + " || exit 1; done; sleep 20")
                    .redirectInput(new File("/dev/null")).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                long open = openDescriptors();
                // one helper process lowers this JVM's limit, then restores it: while descriptors are out,
                // this process could not start the restoring process itself
                Process limiter = new ProcessBuilder("bash", "-c",
                        "prlimit --pid " + pid + " --nofile=" + (open + 6) + ":" + limits[1]
                                + " && sleep 1.5; prlimit --pid " + pid + " --nofile=" + limits[0] + ":" + limits[1])
                        .redirectInput(new File("/dev/null")).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                try {
                    waitUntil("the server ran out of descriptors", () -> server.exhaustionBackoffs() > 0);
                    Thread.sleep(300);
                    assertNull(acceptFailure.get(), "the waiting accept must not fail");
                    assertTrue(server.exhaustionBackoffs() < 50,
                            "accept retried " + server.exhaustionBackoffs() + " times in 300 ms: it spins instead of backing off");
                } finally {
                    assertEquals(0, limiter.waitFor(), "prlimit failed");
                    assertEquals(limits[0], nofileLimits()[0], "the limit is restored");
                }
                waitUntil("every connection accepted after descriptors returned", () -> held.size() == CONNECTIONS + 1);
                assertEquals(1, warnings.size(), "one WARNING line for the episode: " + warnings);
                assertNull(acceptFailure.get());
            } finally {
                clients.destroyForcibly().waitFor();
                for (FiberSocket s : held) s.close();
                server.close();
            }
        }
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out: " + what);
            Thread.sleep(10);
        }
    }

    private static long openDescriptors() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** This process's soft and hard RLIMIT_NOFILE. */
    private static String[] nofileLimits() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                return new String[] {f[0], f[1]};
            }
        }
        throw new IllegalStateException("no open-files limit in /proc/self/limits");
    }

    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.bobbin.uring");
    private final java.util.logging.Handler capture = new java.util.logging.Handler() {
        @Override public void publish(java.util.logging.LogRecord r) {
            if (r.getLevel() == java.util.logging.Level.WARNING) warnings.add(r.getMessage());
        }
        @Override public void flush() { }
        @Override public void close() { }
    };

    @org.junit.jupiter.api.BeforeEach
    void captureLog() {
        logger.setUseParentHandlers(false);              // observed here, not printed
        logger.addHandler(capture);
    }

    @org.junit.jupiter.api.AfterEach
    void releaseLog() {
        logger.removeHandler(capture);
        logger.setUseParentHandlers(true);
    }
}
