package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.Closeable;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * AcceptExhaustionTest lowers the descriptor limit, which io_uring's accepts do not heed; here the
 * process's descriptor table is really full (filled with /dev/null), which fails io_uring's accepts with
 * EMFILE too. The server must back off (a few retries per second), not spin on the failing accept, and
 * accept every connection once descriptors are back.
 */
@Tag("reliability")
class FullDescriptorTableAcceptTest {
    static { LeakGuard.install(); }

    private final java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.bobbin.uring");

    @org.junit.jupiter.api.BeforeEach
    void quiet() {
        logger.setUseParentHandlers(false);              // the back-off's WARNING is expected here, not printed
    }

    @org.junit.jupiter.api.AfterEach
    void loud() {
        logger.setUseParentHandlers(true);
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    @Timeout(60)
    void acceptBacksOffWhileTheDescriptorTableIsFull(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        preloadClasses();                                  // class files are opened on first use: not while full
        List<FiberSocket> held = new CopyOnWriteArrayList<>();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        try (FiberScheduler s = io.newScheduler("full-" + transport.id(), 1)) {
            FiberServerSocket server = io.openServer().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Process clients = null;
            try {
                try (Socket w = new Socket()) {            // warm the accept path
                    w.connect(server.localAddress(), 5000);
                    server.accept(Duration.ofSeconds(5)).close();
                }
                // the clients connect once the table is full (this process could not open their sockets then)
                clients = new ProcessBuilder("bash", "-c",
                        "sleep 0.7; for i in $(seq 5); do exec {fd}<>/dev/tcp/127.0.0.1/" + server.localAddress().getPort()
                                + " || exit 1; done; sleep 20")
                        .redirectInput(new File("/dev/null")).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                s.start(() -> {
                    try {
                        for (;;) held.add(server.accept());
                    } catch (Throwable t) {
                        failure.complete(t);
                    }
                });
                Thread.sleep(100);
                long backoffs;
                List<Closeable> filler = new ArrayList<>();
                try {
                    try {
                        for (;;) filler.add(new FileInputStream("/dev/null"));
                    } catch (IOException full) {
                        // EMFILE: the table is full
                    }
                    Thread.sleep(1500);
                    backoffs = server.exhaustionBackoffs();
                } finally {
                    for (Closeable c : filler) c.close();
                }
                assertTrue(backoffs > 0, "the accepts never failed for want of descriptors");
                assertTrue(backoffs < 100, "accept retried " + backoffs + " times in about a second: it spins instead of backing off");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (held.size() < 5 && System.nanoTime() < deadline) Thread.sleep(10);
                assertFalse(failure.isDone(), () -> "the waiting accept failed: " + failure.getNow(null));
                assertEquals(5, held.size(), "every connection accepted once descriptors returned");
            } finally {
                server.close();
                for (FiberSocket f : held) f.close();
                if (clients != null) clients.destroyForcibly().waitFor();
            }
        }
    }

    private void preloadClasses() throws IOException {
        java.time.ZonedDateTime.now();                     // the log formatter's time zone rules
        Path root = Path.of("target/classes");
        try (var w = Files.walk(root)) {
            for (Path f : (Iterable<Path>) w.filter(x -> x.toString().endsWith(".class"))::iterator) {
                String n = root.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                try {
                    Class.forName(n, true, getClass().getClassLoader());
                } catch (Throwable ignored) {
                    // not loadable here (another Netty's classes): not on these paths either
                }
            }
        }
    }
}
