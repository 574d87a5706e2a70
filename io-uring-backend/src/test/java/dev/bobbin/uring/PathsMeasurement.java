package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Not a test: measures a socket's two paths, for the package documentation. Round trips of 64 bytes over
 * one loopback connection whose both ends live on carrier A, issued (1) by a fiber on A (local path) and
 * (2) by a fiber of another scheduler B (every operation routed to A's loop, every completion handed back
 * to B). Run: {@code java ... dev.bobbin.uring.PathsMeasurement [roundTrips]}.
 */
public final class PathsMeasurement {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        FiberIo io = FiberIo.system();
        try (FiberScheduler a = io.newScheduler("a", 1); FiberScheduler b = io.newScheduler("b", 1)) {
            FiberServerSocket server = call(a, () -> io.openServer().bind(new InetSocketAddress("127.0.0.1", 0)));
            a.start(() -> {
                try {
                    for (;;) {
                        FiberSocket s = server.accept();
                        a.start(() -> {
                            try (s) {
                                ByteBuffer buf = ByteBuffer.allocate(64);
                                while (s.read(buf.clear()) > 0) s.write(buf.flip());
                            } catch (Exception ignored) { }
                        });
                    }
                } catch (Exception closed) { }
            });
            for (int rep = 0; rep < 3; rep++) {
                FiberSocket c = call(a, () -> {
                    FiberSocket s = io.connect(server.localAddress(), Duration.ofSeconds(5));
                    s.write(ByteBuffer.allocate(64));            // first use on A: registers the socket there
                    s.readFully(ByteBuffer.allocate(64));
                    return s;
                });
                double local = call(a, () -> pingPong(c, n));
                FiberIo.IoStats before = io.stats();
                double routed = call(b, () -> pingPong(c, n));
                FiberIo.IoStats after = io.stats();
                System.out.printf("%s rep %d: local path %.2f us/round trip, routed from another carrier %.2f us (%.2fx); routed ops %d%n",
                        io.transport().id(), rep, local, routed, routed / local,
                        after.routedOperations() - before.routedOperations());
                c.close();
            }
            server.close();
        }
    }

    private static double pingPong(FiberSocket c, int n) throws Exception {
        ByteBuffer out = ByteBuffer.allocate(64), in = ByteBuffer.allocate(64);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            c.write(out.clear());
            c.readFully(in.clear());
        }
        return (System.nanoTime() - t0) / 1e3 / n;
    }

    interface Body<T> { T run() throws Exception; }

    private static <T> T call(FiberScheduler s, Body<T> body) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        s.start(() -> {
            try {
                f.complete(body.run());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get();
    }
}
