package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.spi.DriverStats;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import dev.bobbin.uring.IoTransport;
import dev.bobbin.uring.LeakGuard;
import dev.bobbin.uring.SocketHomes;
import dev.bobbin.uring.TransportSelectionTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #13, finding 1: a fiber that burns CPU on one carrier must not freeze the sockets living on that
 * carrier's loop (ring rescue, on by default on every transport; on io_uring its broken twin switches it
 * off, leaving single-issuer rings that no other thread can enter). Fifty echo connections live on carrier 0's loop (a fiber bound to carrier 0 makes
 * each one's first read, so placement cannot put them elsewhere) and are served by unbound fibers;
 * while they do paced, byte-exact round trips, a bound fiber hogs carrier 0 for three seconds without a
 * blocking point. Every byte must come back intact (sizes and contents checked per round trip, CRC32
 * per connection, totals against the server's count), every connection must keep completing round
 * trips during the hog, and the worst round trip that overlapped it must stay within
 * {@link #WORST_ROUND_TRIP_MILLIS}. The target is 100 ms; the bound is half the hog because on a
 * loaded two-core machine that other builds share, whole-process pauses hit every connection at once,
 * with or without a hog (young collections of up to 0.9 s and CPU starvation of 100-350 ms were seen
 * here at a load average of 11), while a frozen loop takes the whole three seconds. The
 * stalled carrier's driver must report that a rescuer served its loop. Right after its stall the hog
 * does a large round trip on a socket of its own on carrier 0's loop, whose operations it queues while a
 * rescuer may still hold the loop.
 *
 * <p>{@code -Dbobbin.test.verbose=true} prints the measured round trips.
 */
@Tag("reliability")
class StalledCarrierIoTest {
    static { LeakGuard.install(); }

    private static final int CONNECTIONS = 50;
    private static final long HOG_MILLIS = 3_000;
    private static final long PACE_MILLIS = 5;                 // pause between a connection's round trips
    private static final long WORST_ROUND_TRIP_MILLIS = 1_500;  // a frozen loop: the whole hog, 3,000
    private static final int HOG_ECHO_BYTES = 100_000;       // the hog's own round trip after the stall
    private static final int MIN_ROUND_TRIPS_DURING_HOG = 20;   // per connection; ~400 expected at the pace

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger("dev.bobbin");
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { records.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    };
    private boolean previousUseParent;

    @BeforeEach
    void capture() {
        previousUseParent = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);        // the hog's stall WARNING is expected: keep the run quiet
        logger.addHandler(capture);
    }

    @AfterEach
    void release() {
        logger.removeHandler(capture);
        logger.setUseParentHandlers(previousUseParent);
    }

    /** One client connection: its socket and what it measured. */
    private static final class Client {
        final Socket socket;
        final long[] starts = new long[1 << 16], ends = new long[1 << 16];
        int roundTrips;
        long bytes;
        final CRC32 sent = new CRC32(), received = new CRC32();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Client(Socket socket) {
            this.socket = socket;
        }
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)     // io_uring: cooperative rings without the single-issuer mode
    void aCarrierHoggedByOneFiberDoesNotFreezeTheSocketsLivingOnItsLoop(IoTransport transport) throws Exception {
        TransportSelectionTest.assumeOrRequire(transport);
        FiberIo io = FiberIo.of(transport);
        withRescue(io, () -> run(io, transport, true));
    }

    /**
     * The broken twin: io_uring with rescue off ({@code -Dbobbin.io.rescue=false}: single-issuer rings,
     * which no other thread can enter). The same run must then show what the test above guards against: the connections living on
     * the hogged carrier stop for the hog, and no rescuer ran; no byte is lost either way.
     */
    @org.junit.jupiter.api.Test
    void withoutRescueTheSocketsOfAHoggedIoUringCarrierWaitForIt() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        boolean before = RuntimeDrivers.of(io).rescue;
        RuntimeDrivers.of(io).rescue = false;
        try {
            run(io, IoTransport.IO_URING, false);
        } finally {
            RuntimeDrivers.of(io).rescue = before;
        }
    }

    interface Body { void run() throws Exception; }

    /** Runs {@code body} with ring rescue on for {@code io} (the default, unless
     *  {@code -Dbobbin.io.rescue=false}), and restores the setting. */
    static void withRescue(FiberIo io, Body body) throws Exception {
        boolean before = RuntimeDrivers.of(io).rescue;
        RuntimeDrivers.of(io).rescue = true;
        try {
            body.run();
        } finally {
            RuntimeDrivers.of(io).rescue = before;
        }
    }

    /** The hog and the paced round trips; {@code rescueOn}: whether the loop is rescued, and so which outcome
     *  is asserted (served through the hog, or frozen for it). */
    private void run(FiberIo io, IoTransport transport, boolean rescueOn) throws Exception {
        LongAdder echoed = new LongAdder();
        List<FiberSocket> accepted = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> serverFailure = new AtomicReference<>();
        CompletableFuture<IoCarrierDriver> carrier0 = new CompletableFuture<>();
        try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("stall-io-" + transport.id())
                .parallelism(2).build());
             FiberServerSocket server = io.openServer().bind(new InetSocketAddress("127.0.0.1", 0), 1024)) {
            // the acceptor is bound to carrier 0: its first read of each connection homes the socket there
            scheduler.startOn(0, () -> {
                carrier0.complete(IoCarrierDriver.current(RuntimeDrivers.of(io)));
                try {
                    for (;;) {
                        FiberSocket s = server.accept();
                        s.readFully(ByteBuffer.allocate(1));   // the hello byte
                        accepted.add(s);
                        scheduler.start(() -> echo(s, echoed, serverFailure));
                    }
                } catch (ClosedChannelException closed) {
                    // the test is over
                } catch (Throwable t) {
                    serverFailure.compareAndSet(null, t);
                }
            });
            IoCarrierDriver driver0 = carrier0.get(10, TimeUnit.SECONDS);
            int port = server.localAddress().getPort();

            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.setTcpNoDelay(true);
                s.setSoTimeout(30_000);
                s.getOutputStream().write(1);
                clients.add(new Client(s));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (accepted.size() < CONNECTIONS && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(CONNECTIONS, accepted.size(), "connections accepted");
            for (FiberSocket s : accepted) assertTrue(SocketHomes.livesOn(s, driver0.loop), () -> s + " does not live on carrier 0");

            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                Client c = clients.get(i);
                long seed = 0x5eed + i;
                threads.add(Thread.ofPlatform().name("stall-client-" + i).daemon().start(() -> roundTrips(c, seed, stop)));
            }
            Thread.sleep(300);                              // round trips are flowing
            AtomicLong hogStart = new AtomicLong(), hogEnd = new AtomicLong();
            AtomicReference<Integer> hogCarrier = new AtomicReference<>();
            AtomicReference<Throwable> hogFailure = new AtomicReference<>();
            CountDownLatch hogDone = new CountDownLatch(1);
            byte[] hogMessage = new byte[HOG_ECHO_BYTES];
            new SplittableRandom(13).nextBytes(hogMessage);
            scheduler.startOn(0, () -> {
                try {
                    hogCarrier.set(FiberScheduler.currentCarrierIndex());
                    // a socket of its own, on carrier 0's loop (a bound fiber's socket lives on its carrier)
                    FiberSocket own = io.connect(new InetSocketAddress("127.0.0.1", port), java.time.Duration.ofSeconds(10));
                    own.writeAll(ByteBuffer.wrap(new byte[] {1}));  // the hello byte
                    long start = System.nanoTime();
                    hogStart.set(start);
                    long x = 0;
                    while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(HOG_MILLIS)) {
                        for (int k = 0; k < 1_000; k++) x = x * 6364136223846793005L + 1442695040888963407L; // no blocking point
                    }
                    hogEnd.set(System.nanoTime());
                    if (x == 42) System.out.print("");     // keep the loop
                    // its own I/O right after the stall: queued on carrier 0 while a rescuer may hold the loop
                    own.writeAll(ByteBuffer.wrap(hogMessage));
                    ByteBuffer back = ByteBuffer.allocate(hogMessage.length);
                    own.readFully(back);
                    assertArrayEquals(hogMessage, back.array(), "the hog's own round trip");
                    own.shutdownOutput();
                    assertEquals(-1, own.read(ByteBuffer.allocate(1)), "the server closes after the hog's EOF");
                    own.close();
                } catch (Throwable t) {
                    hogFailure.set(t);
                } finally {
                    hogDone.countDown();
                }
            });
            assertTrue(hogDone.await(30, TimeUnit.SECONDS), "the hog finished");
            assertNull(hogFailure.get(), () -> "the hog failed: " + hogFailure.get());
            Thread.sleep(300);
            stop.set(true);
            for (Thread t : threads) t.join(30_000);
            for (Client c : clients) {
                c.socket.shutdownOutput();
                assertEquals(-1, c.socket.getInputStream().read(), "the server closes after the client's EOF");
                c.socket.close();
            }

            assertEquals(0, hogCarrier.get(), "the hog ran on carrier 0");
            long totalBytes = 0, worstDuringHog = 0, worstOutside = 0;
            int fewest = Integer.MAX_VALUE;
            for (Client c : clients) {
                assertNull(c.failure.get(), () -> "client failed: " + c.failure.get());
                assertEquals(c.sent.getValue(), c.received.getValue(), "CRC32 of what a connection sent and got back");
                totalBytes += c.bytes;
                int during = 0;
                for (int k = 0; k < c.roundTrips; k++) {
                    long rtt = c.ends[k] - c.starts[k];
                    boolean overlaps = c.ends[k] > hogStart.get() && c.starts[k] < hogEnd.get();
                    if (overlaps) worstDuringHog = Math.max(worstDuringHog, rtt);
                    else worstOutside = Math.max(worstOutside, rtt);
                    if (c.starts[k] >= hogStart.get() && c.ends[k] <= hogEnd.get()) during++;
                }
                fewest = Math.min(fewest, during);
            }
            totalBytes += hogMessage.length;
            long deadlineEcho = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (echoed.sum() < totalBytes && System.nanoTime() < deadlineEcho) Thread.sleep(5);
            assertNull(serverFailure.get(), () -> "server failed: " + serverFailure.get());
            assertEquals(totalBytes, echoed.sum(), "bytes the server echoed");
            DriverStats stats = driver0.stats();
            long rescues = counter(stats, "rescues"), rescued = counter(stats, "rescued.completions");
            if (Boolean.getBoolean("bobbin.test.verbose")) {
                long[] during = clients.stream().flatMapToLong(c -> java.util.stream.IntStream.range(0, c.roundTrips)
                        .filter(k -> c.ends[k] > hogStart.get() && c.starts[k] < hogEnd.get())
                        .mapToLong(k -> c.ends[k] - c.starts[k])).sorted().toArray();
                System.out.printf("%s: round trips during the hog: %d, p50 %.1f ms, p99 %.1f ms, worst %.1f ms;"
                                + " worst outside %.1f ms; fewest per connection %d; carrier 0 rescues %d,"
                                + " events rescued %d%n", transport.id(), during.length, during[during.length / 2] / 1e6,
                        during[(int) (during.length * 0.99)] / 1e6, worstDuringHog / 1e6, worstOutside / 1e6, fewest,
                        rescues, rescued);
                for (LogRecord r : records) {
                    if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                        System.out.println(r.getLevel() + " " + r.getMessage());
                        if (r.getThrown() != null) r.getThrown().printStackTrace(System.out);
                    }
                }
            }
            if (!rescueOn) {
                assertEquals(0, rescues, "no rescuer without rescue");
                // the stall held no runnable fiber up for long, but the sockets: that is the WARNING's subject
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (records.stream().noneMatch(StalledCarrierIoTest::namesHeldSockets) && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                LogRecord warning = records.stream().filter(StalledCarrierIoTest::namesHeldSockets).findFirst().orElseThrow(
                        () -> new AssertionError("no stall WARNING about the held sockets: " + records.stream().map(LogRecord::getMessage).toList()));
                assertEquals(Level.WARNING, warning.getLevel());
                assertTrue(warning.getMessage().contains("on its io_uring event loop wait for it")
                        && warning.getMessage().contains("-Dbobbin.io.rescue=true"), warning.getMessage());
                assertNull(driver0.ringEnteredByRegisteredIndex(), "a single-issuer ring: no entry switch");
                assertNoErrorLogged();
                assertTrue(fewest < MIN_ROUND_TRIPS_DURING_HOG && worstDuringHog > TimeUnit.MILLISECONDS.toNanos(WORST_ROUND_TRIP_MILLIS),
                        "a hogged carrier whose loop nobody rescues holds its sockets: fewest round trips " + fewest
                                + ", worst " + worstDuringHog / 1_000_000 + " ms");
                return;
            }
            assertTrue(fewest >= MIN_ROUND_TRIPS_DURING_HOG,
                    "every connection keeps doing round trips while carrier 0 is hogged; the fewest did " + fewest);
            assertTrue(records.stream().noneMatch(StalledCarrierIoTest::namesHeldSockets),
                    "a rescued loop holds no socket up, so no stall message says so");
            assertTrue(worstDuringHog <= TimeUnit.MILLISECONDS.toNanos(WORST_ROUND_TRIP_MILLIS),
                    "worst round trip during the hog: " + worstDuringHog / 1_000_000 + " ms");
            assertTrue(rescues >= 1, "a rescuer took carrier 0's loop: " + rescues);
            assertTrue(driver0.loop.inEventLoop(driver0.carrier.carrierThread()), "carrier 0 took its loop back");
            assertTrue(rescued > 0, "the rescuer processed carrier 0's completions: " + rescued);
            if (transport == IoTransport.IO_URING) {
                assertEquals(Boolean.TRUE, driver0.ringEnteredByRegisteredIndex(),
                        "after its give-back the rescuer put the carrier's registered ring index back");
            }
        }
        assertNoErrorLogged();
    }

    private void assertNoErrorLogged() {
        for (LogRecord r : records) {
            assertTrue(r.getLevel().intValue() < Level.SEVERE.intValue(), () -> "error logged: " + r.getMessage());
        }
    }

    private static boolean namesHeldSockets(LogRecord r) {
        return r.getMessage() != null && r.getMessage().contains("event loop wait for it");
    }

    @org.junit.jupiter.api.Test
    void rescueIsOnByDefaultOnEveryTransportIoUringIncludedWhoseRescuableRingsAreCooperative() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty(IoTunables.RESCUE_PROPERTY) == null);
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);   // io_uring runs here (kernel 5.19+)
        for (IoTransport t : IoTransport.values()) {
            if (!t.isAvailable()) continue;
            assertTrue(RuntimeDrivers.of(FiberIo.of(t)).rescue, t.id());
        }
    }

    @org.junit.jupiter.api.Test
    void theRescuePropertyIsTrueOrFalseOnEveryTransportAndAnythingElseIsRefusedNamingIt() {
        // first argument: whether rescuable loops cost CPU (io_uring rings that cannot be made cooperative)
        assertTrue(IoDrivers.rescueSetting(true, "true"));
        assertFalse(IoDrivers.rescueSetting(true, null));
        assertFalse(IoDrivers.rescueSetting(true, "false"));
        assertTrue(IoDrivers.rescueSetting(false, null));
        assertTrue(IoDrivers.rescueSetting(false, " TRUE "));
        assertTrue(IoDrivers.rescueSetting(false, ""));
        assertFalse(IoDrivers.rescueSetting(false, "false"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> IoDrivers.rescueSetting(false, "maybe"));
        assertTrue(e.getMessage().contains("-Dbobbin.io.rescue") && e.getMessage().contains("maybe"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> IoDrivers.rescueSetting(true, "yes"));
    }

    /** The drivers of carriers 0 to {@code n - 1} of {@code scheduler}, each read on its own carrier. */
    static IoCarrierDriver[] driversOf(FiberScheduler scheduler, FiberIo io, int n) throws Exception {
        IoCarrierDriver[] drivers = new IoCarrierDriver[n];
        for (int i = 0; i < n; i++) {
            CompletableFuture<IoCarrierDriver> d = new CompletableFuture<>();
            scheduler.startOn(i, () -> d.complete(IoCarrierDriver.current(RuntimeDrivers.of(io))));
            drivers[i] = d.get(10, TimeUnit.SECONDS);
        }
        return drivers;
    }

    static long counter(DriverStats stats, String name) {
        int i = stats.counterNames().indexOf(name);
        return i < 0 ? -1 : stats.counter(i);
    }

    /** Server fiber: echoes until EOF, then closes. */
    static void echo(FiberSocket s, LongAdder echoed, AtomicReference<Throwable> failure) {
        try (s) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            for (;;) {
                buf.clear();
                int n = s.read(buf);
                if (n < 0) return;
                buf.flip();
                s.writeAll(buf);
                echoed.add(n);
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    /** Client thread: paced round trips of random sizes and contents, each checked byte for byte. */
    private static void roundTrips(Client c, long seed, AtomicBoolean stop) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] out = new byte[1024], in = new byte[1024];
        try {
            OutputStream os = c.socket.getOutputStream();
            DataInputStream is = new DataInputStream(c.socket.getInputStream());
            while (!stop.get() && c.roundTrips < c.starts.length) {
                int len = 1 + random.nextInt(out.length);
                for (int k = 0; k < len; k++) out[k] = (byte) random.nextInt();
                long start = System.nanoTime();
                os.write(out, 0, len);
                is.readFully(in, 0, len);
                long end = System.nanoTime();
                for (int k = 0; k < len; k++) {
                    if (in[k] != out[k]) throw new AssertionError("byte " + k + " of round trip " + c.roundTrips + " differs");
                }
                c.sent.update(out, 0, len);
                c.received.update(in, 0, len);
                c.bytes += len;
                c.starts[c.roundTrips] = start;
                c.ends[c.roundTrips] = end;
                c.roundTrips++;
                Thread.sleep(PACE_MILLIS);
            }
        } catch (Throwable t) {
            c.failure.set(t);
        }
    }
}
