package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.ChildJvm;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberSocket;
import dev.bobbin.uring.IoTransport;
import dev.bobbin.uring.LeakGuard;
import dev.bobbin.uring.SocketHomes;
import dev.bobbin.uring.TransportSelectionTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rescue leaves nothing of a socket on its rescuer's thread. The kernel finishes every completion of an
 * io_uring request on the thread that submitted it, and a rescuer submits for a stalled carrier's ring.
 * Here a rescuer arms a socket's first read: the socket lives on carrier 0's loop (a fiber bound to
 * carrier 0 connects it), a bound fiber hogs carrier 0, and an echo fiber, running on carrier 1, reads
 * it while the rescuer serves that loop (one round trip proves it). After the hog, {@link #ROUND_TRIPS}
 * echo round trips run on the socket and the rescuer thread's context switches are counted (from
 * {@code /proc}): Bobbin's single-shot read polls are re-armed by the carrier, so the rescuer sleeps
 * through them. The broken twin runs the same in a child JVM with Netty's multishot read polls, where
 * the poll the rescuer armed stays armed and wakes the rescuer for every round trip.
 */
@Tag("reliability")
class RescuedPollTest {
    static { LeakGuard.install(); }

    private static final int ROUND_TRIPS = 400;
    private static final String SCHEDULER = "rp";                       // rescuer's name: rp-carrier-0-io-rescuer
    private static final String RESCUER_COMM = "rp-carrier-0-io";       // the kernel keeps 15 characters of a name
    private static final String MULTISHOT_POLLS = "io.netty.iouring.pollAddMultishotEnabled";

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSocketWhoseReadARescuerArmedIsServedWithoutTheRescuerAfterTheStall() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        assertEquals("false", System.getProperty(MULTISHOT_POLLS), "Bobbin's default: single-shot read polls");
        long[] switches = new long[1];
        StalledCarrierIoTest.withRescue(io, () -> switches[0] = rescuerSwitchesOverRoundTrips(io));
        assertTrue(switches[0] < ROUND_TRIPS / 4, "the rescuer woke " + switches[0] + " times in " + ROUND_TRIPS
                + " round trips on a socket whose read it armed, after the stall was over");
    }

    /** The broken twin: multishot read polls, Netty's default (a child JVM: Netty reads the property once). */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void withMultishotPollsTheRescuerWakesForEveryRoundTripOfASocketItArmed() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        String out = ChildJvm.run(List.of("-D" + MULTISHOT_POLLS + "=true"), Child.class);
        Matcher m = Pattern.compile("rescuer switches=(\\d+)").matcher(out);
        assertTrue(m.find(), out);
        long switches = Long.parseLong(m.group(1));
        assertTrue(switches >= ROUND_TRIPS / 2, "with multishot polls the rescuer should wake for the round trips of"
                + " a socket whose read it armed; it woke " + switches + " times in " + ROUND_TRIPS + ": " + out);
    }

    /** The twin's JVM: prints the rescuer's context switches over the round trips. */
    public static final class Child {
        private Child() { }

        public static void main(String[] args) throws Exception {
            FiberIo io = FiberIo.of(IoTransport.IO_URING);
            if (!RuntimeDrivers.of(io).rescue) throw new IllegalStateException("rescue is off in the child JVM");
            System.out.println("rescuer switches=" + rescuerSwitchesOverRoundTrips(io));
        }
    }

    /**
     * The scenario: a rescuer arms the first read of a socket living on carrier 0's loop; after the stall,
     * the context switches of the rescuer thread over {@link #ROUND_TRIPS} echo round trips on that socket.
     */
    static long rescuerSwitchesOverRoundTrips(FiberIo io) throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name(SCHEDULER).parallelism(2).build());
             ServerSocket peers = new ServerSocket(0, 1, loopback)) {
            IoCarrierDriver driver0 = StalledCarrierIoTest.driversOf(scheduler, io, 1)[0];
            CompletableFuture<FiberSocket> connected = new CompletableFuture<>();
            scheduler.startOn(0, () -> {                 // a bound fiber's socket lives on its carrier's loop
                try {
                    connected.complete(io.connect(new InetSocketAddress(loopback, peers.getLocalPort()), Duration.ofSeconds(10)));
                } catch (Throwable t) {
                    connected.completeExceptionally(t);
                }
            });
            try (FiberSocket socket = connected.get(10, TimeUnit.SECONDS); Socket peer = peers.accept()) {
                peer.setSoTimeout(30_000);
                peer.setTcpNoDelay(true);
                if (!SocketHomes.livesOn(socket, driver0.loop)) throw new AssertionError("the socket does not live on carrier 0");
                AtomicBoolean hogging = new AtomicBoolean(true);
                CountDownLatch hogDone = new CountDownLatch(1);
                long rescuesBefore = StalledCarrierIoTest.counter(driver0.stats(), "rescues");
                scheduler.startOn(0, () -> {
                    long x = 0;
                    while (hogging.get()) x = x * 6364136223846793005L + 1442695040888963407L;  // no blocking point
                    if (x == 42) System.out.print("");
                    hogDone.countDown();
                });
                AtomicReference<Throwable> echoFailure = new AtomicReference<>();
                try {
                    waitUntil("a rescuer took carrier 0's loop",
                            () -> StalledCarrierIoTest.counter(driver0.stats(), "rescues") > rescuesBefore);
                    scheduler.start(() -> echo(socket, echoFailure));    // on carrier 1: carrier 0 is hogged
                    roundTrip(peer, 1);                                  // served by the rescuer
                } finally {
                    hogging.set(false);
                }
                if (!hogDone.await(10, TimeUnit.SECONDS)) throw new AssertionError("the hog did not end");
                waitUntil("carrier 0 took its loop back", () -> driver0.loop.inEventLoop(driver0.carrier.carrierThread()));
                for (int i = 0; i < 10; i++) roundTrip(peer, 2);         // a poll armed during the rescue fires once
                Path rescuer = rescuerTask();
                long before = contextSwitches(rescuer);
                for (int i = 0; i < ROUND_TRIPS; i++) roundTrip(peer, 3);
                long switches = contextSwitches(rescuer) - before;
                assertNull(echoFailure.get(), () -> "the echo fiber failed: " + echoFailure.get());
                return switches;
            }
        }
    }

    private static void echo(FiberSocket s, AtomicReference<Throwable> failure) {
        ByteBuffer b = ByteBuffer.allocate(16);
        try {
            for (;;) {
                b.clear();
                if (s.read(b) < 0) return;
                b.flip();
                s.writeAll(b);
            }
        } catch (Throwable t) {
            if (!s.isClosed()) failure.compareAndSet(null, t);
        }
    }

    private static void roundTrip(Socket peer, int value) throws IOException {
        OutputStream out = peer.getOutputStream();
        out.write(value);
        out.flush();
        int back = peer.getInputStream().read();
        if (back != value) throw new AssertionError("echoed " + back + " for " + value);
    }

    /** The rescuer thread's entry under /proc/self/task, found by its name. */
    private static Path rescuerTask() throws IOException {
        List<Path> found = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(t.resolve("comm")).strip().equals(RESCUER_COMM)) found.add(t);
                } catch (IOException gone) {
                    // a thread that ended meanwhile
                }
            }
        }
        if (found.size() != 1) throw new AssertionError("threads named " + RESCUER_COMM + ": " + found);
        return found.get(0);
    }

    private static long contextSwitches(Path task) throws IOException {
        long sum = 0;
        for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                sum += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        return sum;
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError("timed out: " + what);
            Thread.sleep(5);
        }
    }
}
