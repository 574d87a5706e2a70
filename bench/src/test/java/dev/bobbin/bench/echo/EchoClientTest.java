package dev.bobbin.bench.echo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The closed-loop client against a correct server and against deliberately broken twins of it, which
 * its byte-for-byte check must catch.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EchoClientTest {
    private static final long SELF = ProcessHandle.current().pid();

    private static EchoClient.Config config(int port, int connections, int threads) {
        return new EchoClient.Config(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), connections, 64,
                threads, Duration.ofMillis(100), Duration.ofMillis(400), SELF, 100);
    }

    @Test
    void measuresRoundTripsLatencyAndCpuAgainstACorrectServer() throws Exception {
        try (EchoServer server = ServerKind.PLATFORM.start(ServerOptions.defaults())) {
            long t0 = System.nanoTime();
            EchoClient.Result r = EchoClient.run(config(server.port(), 8, 2));
            double ranMillis = (System.nanoTime() - t0) / 1e6;
            assertEquals(0, r.errors(), r.firstError());
            assertTrue(r.allServedMillis() >= 0 && r.allServedMillis() <= ranMillis,
                    "every connection's first echo came during the run: " + r.allServedMillis() + " of " + ranMillis + " ms");
            assertTrue(r.roundTrips() > 100, "round trips: " + r.roundTrips());
            assertEquals(r.roundTrips(), r.latencyNanos().getTotalCount(), "one latency sample per counted round trip");
            assertTrue(r.seconds() >= 0.39 && r.seconds() < 5, "window: " + r.seconds());
            assertTrue(r.latencyMicros(50) > 0 && r.latencyMicros(99) >= r.latencyMicros(50), "p50 <= p99");
            assertTrue(r.serverCpuTicks() >= 0 && r.clientCpuTicks() >= 0, "CPU ticks sampled");
            assertTrue(r.machineTotalTicks() > 0, "machine ticks sampled");
            String line = EchoClientMain.format(r);
            assertEquals(Long.toString(r.roundTrips()), EchoBench.keyValues(line).get("round_trips"), line);
            assertEquals(r.allServedMillis(), Double.parseDouble(EchoBench.keyValues(line).get("all_served_ms")), 0.1, line);
        }
    }

    @Test
    void catchesAServerThatCorruptsAByte() throws Exception {
        EchoClient.Result r = runAgainstBroken(bytes -> {
            bytes[bytes.length - 1] ^= 1;
            return bytes;
        });
        assertTrue(r.errors() > 0, "corruption must be reported");
        assertTrue(r.firstError().contains("differs"), r.firstError());
    }

    @Test
    void catchesAServerThatEchoesTwice() throws Exception {
        EchoClient.Result r = runAgainstBroken(bytes -> {
            byte[] twice = new byte[bytes.length * 2];
            System.arraycopy(bytes, 0, twice, 0, bytes.length);
            System.arraycopy(bytes, 0, twice, bytes.length, bytes.length);
            return twice;
        });
        assertTrue(r.errors() > 0, "duplication must be reported");
        assertTrue(r.firstError().contains("bytes echoed"), r.firstError());
    }

    @Test
    void catchesAServerThatClosesTheConnection() throws Exception {
        EchoClient.Result r = runAgainstBroken(bytes -> null);
        assertTrue(r.errors() > 0, "an early close must be reported");
        assertTrue(r.firstError().contains("closed"), r.firstError());
    }

    @Test
    void rejectsBadConfigurations() {
        InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
        Duration s = Duration.ofSeconds(1);
        assertThrows(IllegalArgumentException.class, () -> new EchoClient.Config(a, 0, 64, 1, s, s, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> new EchoClient.Config(a, 1, 7, 1, s, s, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> new EchoClient.Config(a, 1, 64, 2, s, s, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> new EchoClient.Config(a, 1, 64, 1, s, Duration.ZERO, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> new EchoClient.Config(a, 1, 64, 1, s.negated(), s, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> new EchoClient.Config(a, 1, 64, 1, s, s, -1, 100));
        assertThrows(NullPointerException.class, () -> new EchoClient.Config(null, 1, 64, 1, s, s, 0, 100));
    }

    /**
     * Runs the client against a thread-per-connection server whose connections echo the first three
     * writes correctly and pass every later one through {@code breakIt} (null: close the connection).
     */
    private static EchoClient.Result runAgainstBroken(UnaryOperator<byte[]> breakIt) throws Exception {
        BlockingEchoServer.Listener good = BlockingEchoServer.jdkListener(ServerOptions.defaults());
        BlockingEchoServer.Listener broken = new BlockingEchoServer.Listener() {
            @Override public BlockingEchoServer.Connection accept() throws IOException {
                BlockingEchoServer.Connection c = good.accept();
                return new BlockingEchoServer.Connection() {
                    int writes;
                    @Override public int read(byte[] b, int off, int len) throws IOException { return c.read(b, off, len); }
                    @Override public void write(byte[] b, int off, int len) throws IOException {
                        byte[] bytes = java.util.Arrays.copyOfRange(b, off, off + len);
                        if (++writes > 3) bytes = breakIt.apply(bytes);
                        if (bytes == null) c.close();
                        else c.write(bytes, 0, bytes.length);
                    }
                    @Override public void close() throws IOException { c.close(); }
                };
            }
            @Override public int port() { return good.port(); }
            @Override public void close() throws IOException { good.close(); }
        };
        try (EchoServer server = BlockingEchoServer.start(broken, Thread.ofPlatform().daemon().factory(),
                Thread.ofVirtual().factory(), 0, null)) {
            return EchoClient.run(config(server.port(), 2, 1));
        }
    }
}
