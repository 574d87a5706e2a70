package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The socket test suite every transport runs: a subclass per transport, as Netty's own transport tests.
 * Each test gets a fresh 2-carrier scheduler on the transport; after each test every fiber must have
 * ended and no socket descriptor may be left open; after the class, Netty's leak detector (PARANOID)
 * must have reported nothing.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
public abstract class FiberSocketContract {
    static { LeakGuard.install(); }

    static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);

    FiberIo io;
    FiberScheduler scheduler;
    private java.util.Set<String> socketsBefore;

    abstract IoTransport transport();

    private static final java.util.Set<IoTransport> WARMED = java.util.EnumSet.noneOf(IoTransport.class);

    @BeforeEach
    void start() throws Exception {
        io = FiberIo.of(transport());
        scheduler = io.newScheduler("test-" + transport().id(), 2);
        if (WARMED.add(transport())) warmUp();
        socketsBefore = openSockets();
    }

    /**
     * Exercises the transport once before the first descriptor count: the JDK and Netty open a few
     * descriptors lazily, once per JVM (e.g. the JDK's pre-close socket pair on the first close of a
     * socket registered with a selector), which are not leaks of the test.
     */
    private void warmUp() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            server.getOption(StandardSocketOptions.SO_REUSEADDR);
            FiberSocket c = get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5))));
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.setOption(StandardSocketOptions.SO_SNDBUF, 65536);
            c.getOption(StandardSocketOptions.SO_KEEPALIVE);
            CompletableFuture<Integer> blocked = fiber(() -> {
                try {
                    return c.read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    return -2;
                }
            });
            Thread.sleep(50);
            c.close();
            get(blocked);
            try (java.net.Socket jdk = new java.net.Socket()) { // the JDK socket's own lazy descriptors
                jdk.connect(server.localAddress(), 5_000);
                jdk.setSoTimeout(1);
                try {
                    jdk.getInputStream().read();
                } catch (SocketTimeoutException expected) {
                    // nothing was sent
                }
            }
        }
        Thread.sleep(100);
    }

    @AfterEach
    void stop() throws Exception {
        scheduler.shutdown();
        assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)),
                () -> "fibers still alive after the test: " + scheduler.stats().liveFibers() + " " + scheduler + "\n"
                        + scheduler.dumpFibers().toText() + "\n" + scheduler.stats() + "\n" + carrierStacks());
        assertNoSocketsSince(socketsBefore, () -> "socket descriptors leaked by the test");
    }

    /**
     * Waits (5 s at most) until every socket descriptor opened since {@code before} is closed, else fails
     * with {@code what}, the descriptors and the runtime's open sockets.
     */
    void assertNoSocketsSince(java.util.Set<String> before, java.util.function.Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        java.util.Set<String> added;
        while (!(added = newSince(before)).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
        java.util.Set<String> leaked = added;
        assertEquals(java.util.Set.of(), leaked, () -> what.get() + ": " + describeSockets()
                + " open per runtime: " + io.describeOpen());
    }

    /** The stacks of this scheduler's carrier threads, for a failure message. */
    String carrierStacks() {
        StringBuilder sb = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, st) -> {
            if (!t.getName().startsWith(scheduler.name() + "-carrier-")) return;
            sb.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
            for (StackTraceElement e : st) sb.append("    at ").append(e).append('\n');
        });
        return sb.toString();
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    /** The local and remote ports of this process's TCP sockets, for leak messages. */
    static String describeSockets() {
        try {
            java.util.Set<String> inodes = new java.util.HashSet<>();
            try (var s = Files.list(Path.of("/proc/self/fd"))) {
                s.forEach(p -> {
                    try {
                        String l = Files.readSymbolicLink(p).toString();
                        if (l.startsWith("socket:[")) inodes.add(l.substring(8, l.length() - 1));
                    } catch (IOException ignored) { }
                });
            }
            StringBuilder out = new StringBuilder();
            out.append("sockets ").append(inodes).append("; ");
            for (String line : Files.readAllLines(Path.of("/proc/self/net/unix"))) {
                String[] c = line.trim().split("\\s+");
                if (c.length > 6 && inodes.contains(c[6])) out.append("unix ").append(line.trim()).append("; ");
            }
            for (String f : new String[] {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
                for (String line : Files.readAllLines(Path.of(f))) {
                    String[] c = line.trim().split("\\s+");
                    if (c.length > 9 && inodes.contains(c[9])) out.append(c[1]).append("->").append(c[2]).append(" st=").append(c[3]).append("; ");
                }
            }
            return out.toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** This process's open io_uring ring descriptors (/proc/self/fd). */
    static long openRings() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().contains("io_uring");
                } catch (IOException closedMeanwhile) {
                    return false;
                }
            }).count();
        }
    }

    /** This process's socket descriptors, as "fd:inode" (a number reused for another socket counts as new). */
    static java.util.Set<String> openSockets() throws IOException {
        java.util.Set<String> out = new java.util.HashSet<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> {
                try {
                    String l = Files.readSymbolicLink(p).toString();
                    if (l.startsWith("socket:")) out.add(p.getFileName() + ":" + l);
                } catch (IOException e) {
                    // closed meanwhile
                }
            });
        }
        return out;
    }

    // ---- helpers ------------------------------------------------------------------------------------

    interface Body<T> { T run() throws Exception; }

    /** Runs {@code body} in a fiber of the test scheduler; the future completes with its outcome. */
    <T> CompletableFuture<T> fiber(Body<T> body) {
        return in(scheduler, body);
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            throw e;
        }
    }

    /** A server bound on a carrier, with a fiber per connection running {@code handler}. */
    FiberServerSocket server(Handler handler) throws Exception {
        FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK, 1024)));
        fiber(() -> {
            for (;;) {
                FiberSocket c;
                try {
                    c = server.accept();
                } catch (ClosedChannelException e) {
                    return null;
                }
                try {
                    fiber(() -> {
                        try (c) {
                            handler.handle(c);
                        }
                        return null;
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    c.close();                           // the test is over and the scheduler shut down
                    return null;
                }
            }
        });
        return server;
    }

    interface Handler { void handle(FiberSocket s) throws Exception; }

    static void echo(FiberSocket s) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8192);
        while (s.read(b.clear()) > 0) s.write(b.flip());
    }

    static void awaitBlocked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < deadline, "thread never blocked: " + t);
            Thread.sleep(5);
        }
        Thread.sleep(20);                               // let it settle in the operation
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    // ---- data transfer ------------------------------------------------------------------------------

    @Test
    void echoesMessagesOfManySizesWithConcurrentReaderAndWriter() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            for (int size : new int[] {1, 100, 65_536, 1 << 20}) {
                byte[] data = random(size, size);
                byte[] back = get(fiber(() -> {
                    try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                        CompletableFuture<Void> writer = fiber(() -> {
                            c.writeAll(ByteBuffer.wrap(data));
                            c.flush();
                            return null;
                        });
                        ByteBuffer in = ByteBuffer.allocate(size);
                        c.readFully(in);
                        get(writer);
                        return in.array();
                    }
                }));
                assertEquals(crc(data), crc(back), "echo of " + size + " bytes");
            }
        }
    }

    /**
     * A read into a ByteBuf with no room returns 0 at once, without waiting for data, whether the buffer
     * is full or read-only (whose writable bytes a read-only view still reports); the bytes stay for the
     * next read.
     */
    @Test
    void aReadIntoAByteBufWithoutRoomReturnsZeroAtOnce() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            byte[] back = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.setReadTimeout(Duration.ofSeconds(5));
                    ByteBuf full = Unpooled.buffer(4, 4).writeInt(7);
                    ByteBuf readOnly = Unpooled.buffer(16).asReadOnly();
                    try {
                        long t0 = System.nanoTime();
                        assertEquals(0, c.read(full));
                        assertEquals(0, c.read(readOnly));
                        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(4).toNanos(), "did not wait for data");
                        c.writeAll(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                        c.flush();
                        assertEquals(0, c.read(readOnly), "with data waiting too");
                        ByteBuffer in = ByteBuffer.allocate(3);
                        c.readFully(in);
                        return in.array();
                    } finally {
                        full.release();
                        readOnly.release();
                    }
                }
            }));
            assertArrayEquals(new byte[] {1, 2, 3}, back);
        }
    }

    /**
     * Two fibers, each bound to its own carrier, take turns writing sequence numbers to one socket, so
     * each write comes from the socket's home carrier or from the other one, alternately. The peer (a
     * JDK socket on a platform thread) must read every number in order: a write handed to the home loop
     * from the other carrier must not be overtaken by the next write made on the home carrier.
     */
    @Test
    @org.junit.jupiter.api.Tag("reliability")
    void writesFromBothCarriersReachThePeerInTurn() throws Exception {
        long outOfTurn = writeInTurnFromBothCarriers(scheduler, io, 20_000);
        assertEquals(-1L, outOfTurn, () -> "the peer read " + outOfTurn / 1_000_000L + " where it expected "
                + outOfTurn % 1_000_000L);
    }

    /**
     * One socket, two fibers bound to carriers 0 and 1 writing the numbers 0 to n-1 as longs, taking turns
     * (so each write of one is ordered after the other's previous one); a JDK socket reads them. Returns -1
     * if the peer read them in order, else the first number out of turn * 1e6 + the one expected.
     */
    public static long writeInTurnFromBothCarriers(FiberScheduler scheduler, FiberIo io, int n) throws Exception {
        try (java.net.ServerSocket peer = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                try (java.net.Socket s = peer.accept();
                     DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()))) {
                    long firstOutOfTurn = -1;                        // encoded: number read * 1e6 + expected
                    for (long i = 0; i < n; i++) {
                        long got = in.readLong();
                        if (got != i && firstOutOfTurn < 0) firstOutOfTurn = got * 1_000_000L + i;
                    }
                    return firstOutOfTurn;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            FiberSocket c = get(in(scheduler, () -> io.connect(peer.getLocalSocketAddress(), Duration.ofSeconds(5))));
            try (c) {
                java.util.concurrent.Semaphore[] turn = {new java.util.concurrent.Semaphore(1), new java.util.concurrent.Semaphore(0)};
                List<CompletableFuture<Void>> writers = new ArrayList<>();
                List<Thread> writerFibers = new ArrayList<>();
                try {
                    for (int w = 0; w < 2; w++) {
                        int me = w;
                        CompletableFuture<Void> done = new CompletableFuture<>();
                        writers.add(done);
                        writerFibers.add(scheduler.startOn(me, () -> {
                            try {
                                ByteBuffer b = ByteBuffer.allocate(8);
                                for (long i = me; i < n; i += 2) {
                                    turn[me].acquire();
                                    c.write(b.clear().putLong(i).flip());
                                    turn[1 - me].release();
                                }
                                done.complete(null);
                            } catch (Throwable t) {
                                done.completeExceptionally(t);
                            }
                        }));
                    }
                    for (CompletableFuture<Void> w : writers) get(w);
                    get(in(scheduler, () -> {
                        c.flush();
                        return null;
                    }));
                } finally {
                    writerFibers.forEach(Thread::interrupt);        // one failed: the other must not wait for its turn forever
                }
            }
            return read.get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void requestResponseManyTimesOverOneConnection() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            int n = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    ByteBuffer out = ByteBuffer.allocate(8), in = ByteBuffer.allocate(8);
                    for (long i = 0; i < 2000; i++) {
                        c.write(out.clear().putLong(i).flip());
                        c.readFully(in.clear());
                        assertEquals(i, in.flip().getLong());
                    }
                    return 2000;
                }
            }));
            assertEquals(2000, n);
        }
    }

    @Test
    void streamViewsRunStreamCodeUnchanged() throws Exception {
        try (FiberServerSocket server = server(s -> {
            DataInputStream in = new DataInputStream(s.inputStream());
            DataOutputStream out = new DataOutputStream(s.outputStream());
            String line = in.readUTF();
            long v = in.readLong();
            out.writeUTF(line.toUpperCase());
            out.writeLong(v + 1);
            out.flush();
            assertEquals(-1, in.read(), "end of stream after the client's shutdownOutput");
        })) {
            String reply = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    DataOutputStream out = new DataOutputStream(c.outputStream());
                    out.writeUTF("bobbin");
                    out.writeLong(41);
                    out.flush();
                    c.shutdownOutput();
                    DataInputStream in = new DataInputStream(c.inputStream());
                    return in.readUTF() + in.readLong();
                }
            }));
            assertEquals("BOBBIN42", reply);
        }
    }

    @Test
    void byteBufPathHandsOverReceivedBuffersWithoutCopy() throws Exception {
        try (FiberServerSocket server = server(s -> {
            ByteBuf b;
            while ((b = s.receive()) != null) s.write(b);   // echo: ownership passes from read to write
        })) {
            byte[] data = random(200_000, 7);
            byte[] back = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    CompletableFuture<Void> w = fiber(() -> {
                        c.write(Unpooled.wrappedBuffer(data));
                        c.shutdownOutput();
                        return null;
                    });
                    ByteBuf all = Unpooled.buffer(data.length);
                    try {
                        while (all.writableBytes() > 0) {
                            if (c.read(all) < 0) break;
                        }
                        get(w);
                        assertEquals(-1, c.read(ByteBuffer.allocate(1)), "server closes after EOF");
                        byte[] r = new byte[all.readableBytes()];
                        all.readBytes(r);
                        return r;
                    } finally {
                        all.release();
                    }
                }
            }));
            assertEquals(crc(data), crc(back));
        }
    }

    @Test
    void halfCloseLetsThePeerAnswerAfterEndOfStream() throws Exception {
        try (FiberServerSocket server = server(s -> {
            InputStream in = s.inputStream();
            byte[] all = in.readAllBytes();
            s.write(ByteBuffer.wrap(("got " + all.length).getBytes(StandardCharsets.US_ASCII)));
            s.shutdownOutput();
        })) {
            String reply = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.write(ByteBuffer.wrap(new byte[12345]));
                    c.shutdownOutput();
                    assertThrows(ClosedChannelException.class, () -> c.write(ByteBuffer.wrap(new byte[1])));
                    return new String(c.inputStream().readAllBytes(), StandardCharsets.US_ASCII);
                }
            }));
            assertEquals("got 12345", reply);
        }
    }

    /**
     * writeAndClose: the bytes arrive after those written before them, then end of stream; on a closed
     * socket the buffer is released (the leak detector checks) and nothing is thrown.
     */
    @Test
    void writeAndCloseSendsItsBytesLastThenEndOfStream() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        try (FiberServerSocket server = server(s -> received.complete(s.inputStream().readAllBytes()))) {
            byte[] first = random(100_000, 7), last = random(5_000, 8);
            get(fiber(() -> {
                FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                c.write(ByteBuffer.wrap(first));
                c.writeAndClose(Unpooled.directBuffer(last.length).writeBytes(last));
                assertTrue(c.isClosed());
                ByteBuf late = Unpooled.directBuffer(4).writeInt(42);
                c.writeAndClose(late);                   // closed already: released, nothing thrown
                assertEquals(0, late.refCnt());
                assertThrows(NullPointerException.class, () -> c.writeAndClose(null));
                return null;
            }));
            byte[] all = received.get(10, TimeUnit.SECONDS);
            byte[] expected = new byte[first.length + last.length];
            System.arraycopy(first, 0, expected, 0, first.length);
            System.arraycopy(last, 0, expected, first.length, last.length);
            assertArrayEquals(expected, all);
        }
    }

    /**
     * A fiber that writes small chunks to a fast reader in a loop, flushed or not, never waits for its peer,
     * yet it does not keep the other fibers of its carrier out: its writes go through the carrier's loop,
     * so it parks for it (a flush until the bytes reach the kernel, unflushed writes at the high-water
     * mark), and a fiber started behind it on a one-carrier scheduler runs while it goes on writing.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "flush each write: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aWriterThatNeverWaitsLetsTheOtherFibersOfItsCarrierRun(boolean flushEach) throws Exception {
        FiberScheduler one = io.newScheduler("test-one-" + transport().id(), 1);
        java.net.ServerSocket listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        try (listener) {
            java.util.concurrent.atomic.AtomicBoolean otherRan = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
            CompletableFuture<Long> writerDone = new CompletableFuture<>();
            CountDownLatch writing = new CountDownLatch(1);
            one.start(() -> {
                try (FiberSocket c = io.connect(new InetSocketAddress("127.0.0.1", listener.getLocalPort()), Duration.ofSeconds(5))) {
                    ByteBuffer chunk = ByteBuffer.allocate(100);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (!otherRan.get() && System.nanoTime() < deadline) {
                        c.write(chunk.clear());
                        if (flushEach) c.flush();
                        if (writes.incrementAndGet() == 1000) writing.countDown();
                    }
                    writerDone.complete(writes.get());
                } catch (Throwable t) {
                    writerDone.completeExceptionally(t);
                }
            });
            Thread reader = Thread.ofPlatform().start(() -> {
                try (java.net.Socket peer = listener.accept()) {
                    peer.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // the test is over
                }
            });
            assertTrue(writing.await(10, TimeUnit.SECONDS), "the writer got going");
            long before = writes.get();
            one.start(() -> otherRan.set(true));           // queued behind the writer on the one carrier
            writerDone.get(10, TimeUnit.SECONDS);
            assertTrue(otherRan.get(), "the fiber behind the writer never ran while it wrote ("
                    + (writes.get() - before) + " writes after it was started)");
            reader.join(5_000);
        } finally {
            one.shutdown();
            assertTrue(one.awaitTermination(Duration.ofSeconds(10)));
        }
    }

    /**
     * A peer that ends its stream and then never reads: the writer this side starts after reading the end
     * stalls, and close() gives up on it at its drain limit. The descriptor must still be released (the
     * after-test check), whatever state the transport's wait for room was left in.
     */
    @Test
    void closingAWriterStalledAfterThePeersEndOfStreamReleasesTheDescriptor() throws Exception {
        try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            FiberSocket c = get(fiber(() -> io.connect(new InetSocketAddress("127.0.0.1", listener.getLocalPort()), Duration.ofSeconds(5))));
            try (java.net.Socket p = listener.accept()) {
                c.setOption(StandardSocketOptions.SO_SNDBUF, 8192);
                c.setCloseDrainTimeout(Duration.ofMillis(200));
                p.shutdownOutput();                              // the peer's end of stream; it never reads
                assertEquals(-1, (int) get(fiber(() -> c.read(ByteBuffer.allocate(16)))));
                java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
                CompletableFuture<Object> writer = fiber(() -> {
                    ByteBuffer chunk = ByteBuffer.allocate(16 * 1024);
                    try {
                        for (int i = 0; i < 1024; i++) {
                            c.write(chunk.clear());
                            written.addAndGet(chunk.capacity());
                        }
                        return "wrote everything";
                    } catch (IOException e) {
                        return e;
                    }
                });
                awaitWriterStalled(written);
                c.close();
                Object outcome = writer.get(10, TimeUnit.SECONDS);
                assertInstanceOf(IOException.class, outcome, "the stalled writer fails once the socket is closed");
            }
        }
    }

    @Test
    void shutdownInputMakesReadsReturnEndOfStream() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            int r = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.shutdownInput();
                    return c.read(ByteBuffer.allocate(4));
                }
            }));
            assertEquals(-1, r);
        }
    }

    /** The scheduler's stats name the transport and carry the driver's counters. */
    @Test
    void schedulerStatsNameTheTransportAndCountDriverWork() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    for (int i = 0; i < 10; i++) {
                        c.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                        c.readFully(ByteBuffer.allocate(3));
                    }
                }
                return null;
            }));
            dev.bobbin.SchedulerStats stats = scheduler.stats();
            assertEquals(transport().id(), stats.transport());
            long completions = 0, operations = 0;
            for (var c : stats.carriers()) {
                assertEquals(java.util.Set.of("operations", "completions", "parks", "wakeups", "rescues", "rescued.completions"),
                        c.driverCounters().keySet());
                completions += c.driverCounters().get("completions");
                operations += c.driverCounters().get("operations");
            }
            assertTrue(completions >= 20, "the loops processed the echo's events: " + completions);
            assertTrue(operations >= 20, "the carriers submitted the echo's operations: " + operations);
        }
    }

    // ---- lifecycle ----------------------------------------------------------------------------------

    /** A server fiber blocked reading an idle connection: close() returns once the closer is interrupted. */
    @Test
    void closeTurnsIntoShutdownNowWhenInterruptedWithAnIdleConnectionHeld() throws Exception {
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        FiberServerSocket server = server(c -> {
            reading.countDown();
            c.read(ByteBuffer.allocate(16));                  // the client never sends
        });
        try (java.net.Socket client = new java.net.Socket()) {
            client.connect(server.localAddress(), 5_000);
            assertTrue(reading.await(10, TimeUnit.SECONDS));
            boolean[] interruptedAfterClose = new boolean[1];
            Thread closer = Thread.ofPlatform().start(() -> {
                scheduler.close();
                interruptedAfterClose[0] = Thread.currentThread().isInterrupted();
            });
            awaitBlocked(closer);
            assertFalse(scheduler.isTerminated(), "close() waits while a fiber is blocked");
            closer.interrupt();
            closer.join(TimeUnit.SECONDS.toMillis(20));
            assertFalse(closer.isAlive(), "close() did not return after an interrupt: " + scheduler.dumpFibers().toText());
            assertTrue(interruptedAfterClose[0], "close() restores the interrupt status");
            assertTrue(scheduler.isTerminated());
            client.setSoTimeout(10_000);
            int r;
            try {
                r = client.getInputStream().read();
            } catch (java.net.SocketException e) {
                r = -1;                                       // reset by the closing server: also a close
            }
            assertEquals(-1, r, "the server side of the connection was closed");
        }
    }

    /** shutdownNow() interrupts fibers and closes the sockets the scheduler's carriers own. */
    @Test
    void shutdownNowClosesSocketsAndEndsBlockedFibers() throws Exception {
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Throwable> readOutcome = new CompletableFuture<>();
        FiberServerSocket server = server(c -> {
            reading.countDown();
            try {
                c.read(ByteBuffer.allocate(16));
                readOutcome.complete(null);
            } catch (Throwable t) {
                readOutcome.complete(t);
                throw t;
            }
        });
        try (java.net.Socket client = new java.net.Socket()) {
            client.connect(server.localAddress(), 5_000);
            assertTrue(reading.await(10, TimeUnit.SECONDS));
            List<Thread> interrupted = scheduler.shutdownNow();
            assertTrue(interrupted.size() >= 2, "the acceptor and the reader were alive: " + interrupted);
            assertTrue(scheduler.awaitTermination(20, TimeUnit.SECONDS), () -> scheduler.dumpFibers().toText());
            Throwable t = readOutcome.get(10, TimeUnit.SECONDS);
            // FiberScheduler.shutdownNow()'s javadoc (which once promised a SocketException): the interrupt or the
            // close, whichever comes first, as on a SocketChannel
            assertInstanceOf(java.nio.channels.ClosedChannelException.class, t, "the blocked read's failure, as FiberScheduler.shutdownNow() says");
            assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> scheduler.start(() -> { }));
        }
    }

    // ---- errors -------------------------------------------------------------------------------------

    @Test
    void connectionRefusedIsAConnectException() throws Exception {
        FiberServerSocket s = get(fiber(() -> io.openServer().bind(LOOPBACK)));
        InetSocketAddress addr = s.localAddress();
        s.close();
        Thread.sleep(50);
        ConnectException e = assertThrows(ConnectException.class,
                () -> get(fiber(() -> io.connect(addr, Duration.ofSeconds(5)))));
        assertTrue(String.valueOf(e.getMessage()).toLowerCase().contains("refused"), e.getMessage());
    }

    @Test
    void addressInUseIsABindException() throws Exception {
        try (FiberServerSocket s = get(fiber(() -> io.openServer().bind(LOOPBACK)))) {
            BindException e = assertThrows(BindException.class,
                    () -> get(fiber(() -> io.openServer().bind(s.localAddress()))));
            assertTrue(String.valueOf(e.getMessage()).toLowerCase().contains("in use"), e.getMessage());
        }
    }

    @Test
    void peerResetIsASocketException() throws Exception {
        try (FiberServerSocket server = server(s -> {
            s.setOption(StandardSocketOptions.SO_LINGER, 0);   // close sends RST
            s.read(ByteBuffer.allocate(1));
        })) {
            IOException e = assertThrows(IOException.class, () -> get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.write(ByteBuffer.wrap(new byte[] {1}));
                    ByteBuffer b = ByteBuffer.allocate(10);
                    for (int i = 0; i < 100; i++) {
                        if (c.read(b.clear()) < 0) fail("orderly EOF instead of a reset");
                    }
                    return null;
                }
            })));
            assertInstanceOf(SocketException.class, e);
            assertTrue(String.valueOf(e.getMessage()).toLowerCase().contains("reset"), e.getMessage());
        }
    }

    /**
     * Writes racing a close() from another thread: each write either returns, and then its bytes reach the
     * peer before the end of stream, or throws (the socket was closed). A write that returned normally
     * while its bytes were dropped behind a clean end of stream would show as the peer receiving fewer
     * bytes than the writer counted. The window that lost bytes before (a write counted just as close()
     * found every earlier write done) is a few hundred nanoseconds wide: this stress did not meet it in
     * 3,000 rounds of the code before, so it guards the outcome rather than proving the fix.
     */
    @Test
    void aWriteRacingCloseEitherReachesThePeerOrThrows() throws Exception {
        java.util.concurrent.BlockingQueue<Long> received = new java.util.concurrent.LinkedBlockingQueue<>();
        try (FiberServerSocket server = server(s -> {
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            long n = 0;
            for (int r; (r = s.read(b.clear())) >= 0; ) n += r;
            received.add(n);
        })) {
            java.util.SplittableRandom random = new java.util.SplittableRandom(11);
            for (int round = 0; round < 150; round++) {
                FiberSocket c = get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5))));
                long delayNanos = random.nextLong(0, 300_000);
                CompletableFuture<Long> written = fiber(() -> {
                    ByteBuffer chunk = ByteBuffer.allocate(1024);
                    long n = 0;
                    try {
                        for (;;) {
                            c.write(chunk.clear());
                            n += 1024;
                        }
                    } catch (ClosedChannelException closed) {   // AsynchronousCloseException included
                        return n;
                    }
                });
                long until = System.nanoTime() + delayNanos;
                while (System.nanoTime() < until) Thread.onSpinWait();
                c.close();
                long wrote = get(written);
                Long got = received.poll(20, TimeUnit.SECONDS);
                assertNotNull(got, "round " + round + ": the peer never saw the end of stream");
                assertTrue(got >= wrote, "round " + round + ": writes returned for " + wrote + " bytes, the peer got " + got);
            }
        }
    }

    /**
     * A chunk partly read stays buffered in the socket; when an interrupted write, not a read, closes the
     * socket, the later close() (which finds it closed) still releases the chunk.
     */
    @Test
    void aPartlyReadChunkIsReleasedWhenAnInterruptedWriteClosedTheSocket() throws Exception {
        try (FiberServerSocket server = server(s -> {
            s.write(ByteBuffer.wrap(new byte[1000]));
            s.read(ByteBuffer.allocate(1));              // until the client closes
        })) {
            String outcome = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    Thread.sleep(100);                   // the whole write arrives, most likely as one chunk
                    assertEquals(1, c.read(ByteBuffer.allocate(1)));
                    Thread.currentThread().interrupt();
                    try {
                        c.write(ByteBuffer.wrap(new byte[] {1}));
                        return "written";
                    } catch (ClosedByInterruptException e) {
                        Thread.interrupted();
                        return "interrupted";
                    }
                }
            }));
            assertEquals("interrupted", outcome);
        }
        LeakGuard.assertNoLeaks();
    }

    @Test
    void readTimeoutThrowsAndLeavesTheSocketUsable() throws Exception {
        try (FiberServerSocket server = server(s -> {
            ByteBuffer b = ByteBuffer.allocate(1);
            s.read(b);                                   // wait for the client's go
            s.write(ByteBuffer.wrap(new byte[] {42}));
            s.read(b.clear());
        })) {
            int v = get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.setReadTimeout(Duration.ofMillis(100));
                    long t0 = System.nanoTime();
                    assertThrows(SocketTimeoutException.class, () -> c.read(ByteBuffer.allocate(1)));
                    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(90), "returned before the timeout");
                    assertFalse(c.isClosed());
                    c.write(ByteBuffer.wrap(new byte[] {1}));
                    c.setReadTimeout(Duration.ofSeconds(5));
                    ByteBuffer b = ByteBuffer.allocate(1);
                    assertEquals(1, c.read(b));
                    return (int) b.get(0);
                }
            }));
            assertEquals(42, v);
        }
    }

    /** A listener with backlog 1 that never accepts: once its queue is full, further SYNs are dropped. */
    List<FiberSocket> fillBacklog(FiberServerSocket full, List<FiberSocket> opened) throws Exception {
        for (int i = 0; i < 8; i++) {
            FiberSocket c = io.openSocket();
            opened.add(c);
            try {
                get(fiber(() -> {
                    c.connect(full.localAddress(), Duration.ofMillis(300));
                    return null;
                }));
            } catch (SocketTimeoutException e) {
                return opened;                           // this one hung: the backlog is full
            }
        }
        fail("backlog never filled");
        return opened;
    }

    @Test
    void connectTimeoutIsASocketTimeoutException() throws Exception {
        List<FiberSocket> opened = new ArrayList<>();
        try (FiberServerSocket full = get(fiber(() -> io.openServer().bind(LOOPBACK, 1)))) {
            fillBacklog(full, opened);
            FiberSocket last = opened.get(opened.size() - 1);
            assertTrue(last.isClosed(), "a failed connect closes the socket");
        } finally {
            opened.forEach(FiberSocket::close);
        }
    }

    @Test
    void useAfterCloseIsAClosedChannelException() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            get(fiber(() -> {
                FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                c.close();
                c.close();                               // idempotent
                assertThrows(ClosedChannelException.class, () -> c.read(ByteBuffer.allocate(1)));
                assertThrows(ClosedChannelException.class, () -> c.write(ByteBuffer.wrap(new byte[1])));
                return null;
            }));
        }
    }

    // ---- cancellation -------------------------------------------------------------------------------

    @Test
    void interruptingABlockedReadClosesTheSocket() throws Exception {
        AtomicReference<FiberSocket> peer = new AtomicReference<>();
        CompletableFuture<Integer> peerRead = new CompletableFuture<>();
        try (FiberServerSocket server = server(s -> {
            peer.set(s);
            peerRead.complete(s.read(ByteBuffer.allocate(1)));
        })) {
            AtomicReference<Thread> reader = new AtomicReference<>();
            AtomicReference<FiberSocket> sock = new AtomicReference<>();
            CompletableFuture<Boolean> f = fiber(() -> {
                reader.set(Thread.currentThread());
                FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                sock.set(c);
                try {
                    c.read(ByteBuffer.allocate(10));
                    return false;
                } catch (ClosedByInterruptException e) {
                    return Thread.currentThread().isInterrupted();
                }
            });
            while (sock.get() == null) Thread.sleep(5);
            awaitBlocked(reader.get());
            reader.get().interrupt();
            assertTrue(get(f), "ClosedByInterruptException with the interrupt status kept");
            assertTrue(sock.get().isClosed());
            assertEquals(-1, get(peerRead), "the peer sees the connection closed");
        }
    }

    /** One way of calling accept: untimed, with a timeout argument, or under an accept timeout. */
    interface AcceptCall { FiberSocket accept(FiberServerSocket s) throws IOException; }

    @Test
    void interruptingABlockedAcceptClosesTheServer() throws Exception {
        interruptingAnAcceptClosesTheServer(FiberServerSocket::accept);
    }

    @Test
    void interruptingATimedAcceptClosesTheServer() throws Exception {
        interruptingAnAcceptClosesTheServer(s -> s.accept(Duration.ofSeconds(20)));
    }

    private void interruptingAnAcceptClosesTheServer(AcceptCall call) throws Exception {
        FiberServerSocket s = get(fiber(() -> io.openServer().bind(LOOPBACK)));
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<Boolean> f = fiber(() -> {
            t.set(Thread.currentThread());
            assertThrows(ClosedByInterruptException.class, () -> call.accept(s));
            return Thread.currentThread().isInterrupted();
        });
        while (t.get() == null) Thread.sleep(5);
        awaitBlocked(t.get());
        t.get().interrupt();
        assertTrue(get(f));
        assertTrue(s.isClosed());
    }

    @Test
    void interruptingABlockedWriteClosesTheSocket() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        try (FiberServerSocket server = server(s -> release.get())) {  // never reads
            AtomicReference<Thread> t = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            CompletableFuture<Long> f = fiber(() -> {
                t.set(Thread.currentThread());
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.setOption(StandardSocketOptions.SO_SNDBUF, 65536);
                    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
                    try {
                        for (;;) written.addAndGet(c.write(chunk.clear()));
                    } catch (ClosedByInterruptException e) {
                        assertTrue(c.isClosed());
                        return written.get();
                    }
                }
            });
            awaitWriterStalled(written);
            t.get().interrupt();
            assertTrue(get(f) > 0);
            release.complete(null);
        }
    }

    @Test
    void interruptingABlockedConnectClosesTheSocket() throws Exception {
        List<FiberSocket> opened = new ArrayList<>();
        try (FiberServerSocket full = get(fiber(() -> io.openServer().bind(LOOPBACK, 1)))) {
            fillBacklog(full, opened);
            FiberSocket c = io.openSocket();
            opened.add(c);
            AtomicReference<Thread> t = new AtomicReference<>();
            CompletableFuture<Boolean> f = fiber(() -> {
                t.set(Thread.currentThread());
                assertThrows(ClosedByInterruptException.class, () -> c.connect(full.localAddress(), Duration.ZERO));
                return Thread.currentThread().isInterrupted();
            });
            while (t.get() == null) Thread.sleep(5);
            awaitBlocked(t.get());
            t.get().interrupt();
            assertTrue(get(f));
            assertTrue(c.isClosed());
        } finally {
            opened.forEach(FiberSocket::close);
        }
    }

    @Test
    void closingFromAnotherFiberWakesABlockedReader() throws Exception {
        try (FiberServerSocket server = server(s -> s.read(ByteBuffer.allocate(1)))) {
            FiberSocket c = get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5))));
            AtomicReference<Thread> t = new AtomicReference<>();
            CompletableFuture<Class<?>> f = fiber(() -> {
                t.set(Thread.currentThread());
                try {
                    c.read(ByteBuffer.allocate(1));
                    return null;
                } catch (IOException e) {
                    return e.getClass();
                }
            });
            while (t.get() == null) Thread.sleep(5);
            awaitBlocked(t.get());
            get(fiber(() -> {
                c.close();
                return null;
            }));
            assertEquals(AsynchronousCloseException.class, get(f));
        }
    }

    @Test
    void closingFromAnotherFiberWakesABlockedWriter() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        try (FiberServerSocket server = server(s -> release.get())) {
            FiberSocket c = get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5))));
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            CompletableFuture<Class<?>> f = writeUntilFailure(scheduler, c, written);
            awaitWriterStalled(written);
            get(fiber(() -> {
                c.close();
                return null;
            }));
            assertEquals(AsynchronousCloseException.class, get(f));
            release.complete(null);
        }
    }

    /**
     * A scheduler shut down right after its sockets were closed must leave no descriptor open: here a
     * client closed while its writes are stuck in the kernel (its peer never reads), then the peer closed,
     * whose reset fails the stuck write while the carriers stop. On io_uring that completion could be
     * reaped while the ring was being torn down, after the channel had queued its descriptor's close on
     * a ring never submitted again. Several rounds, each with its own scheduler, because the moment the
     * reset arrives varies.
     */
    @Test
    @SuppressWarnings("try")   // a resource held open for the test, not read
    void shuttingDownRightAfterClosingAStalledWriterLeavesNoDescriptor() throws Exception {
        for (int r = 0; r < 6; r++) {
            int round = r;
            java.util.Set<String> before = openSockets();
            FiberScheduler own = io.newScheduler("stalled-" + transport().id() + "-" + round, 2);
            try {
                CompletableFuture<Void> release = new CompletableFuture<>();
                FiberServerSocket server = get(in(own, () -> io.openServer().bind(LOOPBACK, 16)));
                int serverPort = server.localAddress().getPort();
                in(own, () -> {
                    try (FiberSocket s = server.accept()) {
                        release.get();                 // never reads
                    }
                    return null;
                });
                FiberSocket c = get(in(own, () -> io.connect(server.localAddress(), Duration.ofSeconds(5))));
                int clientPort = c.localAddress().getPort();
                java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
                CompletableFuture<Class<?>> writer = writeUntilFailure(own, c, written);
                awaitWriterStalled(written);
                get(in(own, () -> {
                    c.close();                         // writes still queued: the socket stays open to drain them
                    return null;
                }));
                assertEquals(AsynchronousCloseException.class, get(writer));
                release.complete(null);                // the peer closes with unread data: a reset
                server.close();
                own.shutdown();
                assertTrue(own.awaitTermination(Duration.ofSeconds(10)), "scheduler did not terminate");
                assertNoSocketsSince(before, () -> "round " + round + ": descriptors still open after the scheduler"
                        + " terminated (client port " + clientPort + ", server port " + serverPort + ")");
            } finally {
                own.shutdown();
            }
        }
    }

    /** The socket descriptors opened since {@code before} (see {@link #openSockets()}). */
    static java.util.Set<String> newSince(java.util.Set<String> before) throws IOException {
        java.util.Set<String> now = openSockets();
        now.removeAll(before);
        return now;
    }

    /** Runs {@code body} in a fiber of {@code s}. */
    static <T> CompletableFuture<T> in(FiberScheduler s, Body<T> body) {
        return started(s::start, body);
    }

    /** Runs {@code body} in a fiber that {@code start} starts; the future completes with its outcome. */
    static <T> CompletableFuture<T> started(java.util.function.Consumer<Runnable> start, Body<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        start.accept(() -> {
            try {
                f.complete(body.run());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** A fiber of {@code on} writing to {@code c} until a write fails; completes with the exception's class. */
    static CompletableFuture<Class<?>> writeUntilFailure(FiberScheduler on, FiberSocket c,
                                                         java.util.concurrent.atomic.AtomicLong written) {
        return in(on, () -> {
            ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
            try {
                for (;;) written.addAndGet(c.write(chunk.clear()));
            } catch (IOException e) {
                return e.getClass();
            }
        });
    }

    static void awaitWriterStalled(java.util.concurrent.atomic.AtomicLong written) throws InterruptedException {
        long last = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (written.get() != last || written.get() == 0) {
            assertTrue(System.nanoTime() < deadline, "writer never stalled");
            last = written.get();
            Thread.sleep(200);
        }
    }

    @Test
    void closingTheServerWakesABlockedAccept() throws Exception {
        closingTheServerWakesAnAccept(FiberServerSocket::accept);
    }

    @Test
    void closingTheServerWakesATimedAccept() throws Exception {
        closingTheServerWakesAnAccept(s -> s.setAcceptTimeout(Duration.ofSeconds(20)).accept());
    }

    private void closingTheServerWakesAnAccept(AcceptCall call) throws Exception {
        FiberServerSocket s = get(fiber(() -> io.openServer().bind(LOOPBACK)));
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<Class<?>> f = fiber(() -> {
            t.set(Thread.currentThread());
            try {
                call.accept(s);
                return null;
            } catch (IOException e) {
                return e.getClass();
            }
        });
        while (t.get() == null) Thread.sleep(5);
        awaitBlocked(t.get());
        s.close();
        assertEquals(AsynchronousCloseException.class, get(f));
    }

    // ---- accept timeout and concurrent accepts -----------------------------------------------------

    @Test
    void acceptTimeoutThrowsAndLeavesTheServerUsable() throws Exception {
        try (FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK)))) {
            assertEquals(Duration.ZERO, server.acceptTimeout());
            assertSame(server, server.setAcceptTimeout(Duration.ofMillis(100)));
            assertEquals(Duration.ofMillis(100), server.acceptTimeout());
            byte got = get(fiber(() -> {
                assertTimesOut(server::accept, 100);                                   // the option
                assertTimesOut(() -> server.accept(Duration.ofMillis(50)), 50);        // the argument wins
                assertFalse(server.isClosed(), "a timed-out accept leaves the server open");
                CompletableFuture<FiberSocket> client = fiber(() -> {
                    FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                    c.write(ByteBuffer.wrap(new byte[] {7}));
                    return c;
                });
                server.setAcceptTimeout(Duration.ofSeconds(10));
                try (FiberSocket s = server.accept(); FiberSocket c = get(client)) {
                    ByteBuffer b = ByteBuffer.allocate(1);
                    s.readFully(b);
                    assertEquals(c.localAddress(), s.remoteAddress());
                    return b.get(0);
                }
            }));
            assertEquals(7, got);
        }
    }

    /**
     * The loop accepts a batch per read and keeps it for the accepts to come, and an accept takes a
     * connection kept ahead without parking for the loop's answer: an acceptor that parked once per
     * connection would wait, for each one, behind every runnable fiber of its carrier. On one carrier,
     * the first accept's read takes every pending connection (the acceptor runs only after that loop
     * pass), and beside a fiber that yields in a loop the acceptor then takes them all while the yielding
     * fiber does not run once.
     */
    @Test
    void acceptsAheadInBatchesAndTakesThemWithoutParking() throws Exception {
        int kept = 8;
        FiberScheduler one = io.newScheduler("test-" + transport().id() + "-ahead", 1);
        List<java.net.Socket> clients = new ArrayList<>();
        List<FiberSocket> accepted = new ArrayList<>();
        java.util.concurrent.atomic.AtomicLong yields = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        try (FiberServerSocket server = get(in(one, () -> io.openServer().bind(LOOPBACK, 64)))) {
            for (int i = 0; i <= kept; i++) clients.add(new java.net.Socket(server.localAddress().getAddress(), server.localAddress().getPort()));
            CompletableFuture<Void> yielder = in(one, () -> {
                while (!done.get()) {
                    yields.incrementAndGet();
                    Thread.yield();
                }
                return null;
            });
            long[] keptThenRan = get(in(one, () -> {
                accepted.add(server.accept());           // asks the loop, whose read takes the rest too
                long keptAfterFirst = server.keptAhead();
                long before = yields.get();
                for (int i = 0; i < kept; i++) accepted.add(server.accept());
                return new long[] {keptAfterFirst, yields.get() - before};
            }));
            done.set(true);
            get(yielder);
            assertEquals(kept + 1, accepted.size());
            assertEquals(kept, keptThenRan[0], "connections the first accept's read kept ahead");
            long ranDuringAccepts = keptThenRan[1];
            assertEquals(0, ranDuringAccepts, "the yielding fiber ran while the acceptor took connections kept ahead");
            assertEquals(0, server.keptAhead());
            for (FiberSocket s : accepted) assertNotNull(s.remoteAddress());
        } finally {
            done.set(true);
            for (FiberSocket s : accepted) s.close();
            for (java.net.Socket c : clients) c.close();
            one.shutdown();
            assertTrue(one.awaitTermination(Duration.ofSeconds(10)), "the one-carrier scheduler's fibers ended");
        }
    }

    /** Asserts that {@code call} throws SocketTimeoutException after about {@code millis}, and not hours later. */
    static void assertTimesOut(org.junit.jupiter.api.function.Executable call, long millis) {
        long t0 = System.nanoTime();
        SocketTimeoutException e = assertThrows(SocketTimeoutException.class, call);
        long waited = System.nanoTime() - t0;
        assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(millis) * 9 / 10, "returned before the timeout: " + waited + " ns");
        assertTrue(waited < TimeUnit.SECONDS.toNanos(5), "the timeout fired long after it was due: " + waited + " ns");
        assertTrue(String.valueOf(e.getMessage()).contains("timed out"), e.getMessage());
    }

    /**
     * Addresses a TCP socket cannot use are refused before any attempt, as {@code SocketChannel} and
     * {@code ServerSocketChannel} refuse them (UnsupportedAddressTypeException for another family,
     * UnresolvedAddressException for an unresolved one), and the socket stays open and usable.
     */
    @Test
    void addressesATcpSocketCannotUseAreRefusedBeforeAnyAttempt() throws Exception {
        java.net.SocketAddress unix = java.net.UnixDomainSocketAddress.of("/tmp/bobbin-no-such-socket");
        java.net.SocketAddress unresolved = InetSocketAddress.createUnresolved("no-such-host.invalid", 80);
        get(fiber(() -> {
            try (FiberServerSocket server = io.openServer(); FiberSocket c = io.openSocket()) {
                assertThrows(java.nio.channels.UnsupportedAddressTypeException.class, () -> c.connect(unix, Duration.ofSeconds(1)));
                assertThrows(java.nio.channels.UnsupportedAddressTypeException.class, () -> server.bind(unix));
                assertThrows(java.nio.channels.UnresolvedAddressException.class, () -> server.bind(unresolved));
                assertFalse(c.isClosed(), "a refused address leaves the socket open");
                assertFalse(server.isClosed(), "a refused address leaves the server open");
                server.bind(LOOPBACK);                    // both still usable
                c.connect(server.localAddress(), Duration.ofSeconds(5));
                server.accept().close();
            }
            return null;
        }));
    }

    @Test
    void timeoutArgumentsAreValidated() throws Exception {
        Duration forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        try (FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK)))) {
            assertEquals("timeout", assertThrows(NullPointerException.class, () -> server.setAcceptTimeout(null)).getMessage());
            assertEquals("timeout", assertThrows(NullPointerException.class, () -> server.accept(null)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> server.setAcceptTimeout(Duration.ofMillis(-1)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> server.accept(Duration.ofNanos(-1)));
            assertTrue(e.getMessage().contains("negative"), e.getMessage());
            assertEquals(Duration.ZERO, server.acceptTimeout(), "a rejected value leaves the timeout as it was");
            // durations too long for a long of nanoseconds mean "practically forever", not an ArithmeticException
            server.setAcceptTimeout(forever);
            assertEquals(Duration.ofNanos(Long.MAX_VALUE), server.acceptTimeout());
            FiberSocket c = get(fiber(() -> io.connect(server.localAddress(), forever)));
            try (c; FiberSocket s = get(fiber(server::accept))) {
                c.setReadTimeout(forever);
                assertEquals(Duration.ofNanos(Long.MAX_VALUE), c.readTimeout());
                assertNotNull(s.remoteAddress());
            }
        }
    }

    /**
     * Stress: an acceptor with timeouts of 0.1 to 1 ms keeps timing out while clients connect with pauses
     * of 0 to 2 ms, so connections arrive just as accepts time out. Every connection must be accepted exactly
     * once: each client sends its number and waits for the server's acknowledgement (a lost connection
     * would leave its client waiting: read timeout), and the server counts every number it sees.
     */
    @Test
    void timedAcceptsRacingWithArrivingConnectionsLoseNone() throws Exception {
        int clients = 3, perClient = 80, n = clients * perClient;
        java.util.concurrent.ConcurrentHashMap<Integer, Integer> seen = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger timeouts = new java.util.concurrent.atomic.AtomicInteger();
        try (FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK, 1024)))) {
            CompletableFuture<Integer> acceptor = fiber(() -> {
                java.util.Random rnd = new java.util.Random(1);
                int accepted = 0;
                while (accepted < n) {
                    FiberSocket c;
                    try {
                        c = server.accept(Duration.ofNanos(100_000 + rnd.nextInt(900_000)));
                    } catch (SocketTimeoutException e) {
                        timeouts.incrementAndGet();
                        continue;
                    }
                    accepted++;
                    fiber(() -> {
                        try (c) {
                            ByteBuffer id = ByteBuffer.allocate(4);
                            c.readFully(id);
                            seen.merge(id.getInt(0), 1, Integer::sum);
                            c.write(ByteBuffer.wrap(new byte[] {1}));
                            c.flush();
                        }
                        return null;
                    });
                }
                return accepted;
            });
            List<CompletableFuture<Void>> connectors = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                int first = k * perClient;
                connectors.add(fiber(() -> {
                    java.util.Random rnd = new java.util.Random(first);
                    for (int i = first; i < first + perClient; i++) {
                        try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                            c.setReadTimeout(Duration.ofSeconds(10));
                            c.write(ByteBuffer.allocate(4).putInt(0, i));
                            ByteBuffer ack = ByteBuffer.allocate(1);
                            try {
                                c.readFully(ack);
                            } catch (SocketTimeoutException e) {
                                throw new AssertionError("connection " + i + " was never accepted", e);
                            }
                        }
                        Thread.sleep(Duration.ofNanos(rnd.nextLong(2_000_000)));   // pauses around the 1 ms timeout
                    }
                    return null;
                }));
            }
            for (CompletableFuture<Void> f : connectors) get(f);
            assertEquals(n, get(acceptor));
            assertEquals(n, seen.size(), "every connection was accepted");
            assertEquals(java.util.Set.of(1), java.util.Set.copyOf(seen.values()), "no connection was accepted twice");
            assertTrue(timeouts.get() > 0, "no accept timed out: the test raced nothing");
            System.out.println(transport().id() + " timed accepts: " + n + " connections, " + timeouts.get() + " timeouts");
        }
    }

    /**
     * Several fibers wait in accept on one server at once (timed and untimed): each connection goes to
     * exactly one of them, and each of them gets one.
     */
    @Test
    void concurrentAcceptsEachGetOneConnection() throws Exception {
        int waiters = 3;
        try (FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK)))) {
            List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<CompletableFuture<FiberSocket>> accepts = new ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                boolean timed = i % 2 == 0;
                accepts.add(fiber(() -> {
                    threads.add(Thread.currentThread());
                    return timed ? server.accept(Duration.ofSeconds(20)) : server.accept();
                }));
            }
            while (threads.size() < waiters) Thread.sleep(5);
            for (Thread t : threads) awaitBlocked(t);
            List<FiberSocket> clients = new ArrayList<>();
            List<FiberSocket> accepted = new ArrayList<>();
            try {
                for (int i = 0; i < waiters; i++) {
                    clients.add(get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5)))));
                }
                for (CompletableFuture<FiberSocket> f : accepts) accepted.add(get(f));
                java.util.Set<InetSocketAddress> clientEnds = new java.util.HashSet<>(), acceptedEnds = new java.util.HashSet<>();
                for (FiberSocket c : clients) clientEnds.add(c.localAddress());
                for (FiberSocket s : accepted) acceptedEnds.add(s.remoteAddress());
                assertEquals(clientEnds, acceptedEnds, "each accept got a different one of the connections");
            } finally {
                clients.forEach(FiberSocket::close);
                accepted.forEach(FiberSocket::close);
            }
        }
    }

    /**
     * As with {@code java.net.ServerSocket}: once {@code close()} has returned, the address is free again,
     * so a new server binds it at once, even though an accept was pending on the old one (and has already
     * failed). Rounds alternate where the server lives (a carrier's loop, the fallback loop) and who closes
     * it (a platform thread, a fiber).
     */
    @Test
    void closingTheServerFreesItsAddressAtOnce() throws Exception {
        InetSocketAddress addr = LOOPBACK;
        for (int round = 0; round < 30; round++) {
            FiberServerSocket s = io.openServer();
            InetSocketAddress at = addr;
            try {
                if (round % 3 == 2) s.bind(at);                     // the fallback loop
                else get(fiber(() -> s.bind(at)));                  // a carrier's loop
            } catch (BindException e) {
                s.close();
                fail("round " + round + ": the address of the server closed just before is still in use: " + e.getMessage());
            }
            addr = s.localAddress();
            CompletableFuture<Object> pending = fiber(() -> {
                try {
                    return s.accept();
                } catch (IOException e) {
                    return e;
                }
            });
            Thread.sleep(20);                                      // the accept waits in the transport
            if (round % 3 == 1) {
                get(fiber(() -> {
                    s.close();
                    return null;
                }));
            } else {
                s.close();
            }
            assertInstanceOf(AsynchronousCloseException.class, get(pending));
        }
    }

    /**
     * A bind racing a close() on another thread ends bound (then closed) or fails as a closed channel, as
     * {@code ServerSocketChannel.bind} does; never with a BindException, which says the address is
     * unusable (a caller would try another one). Stress: the window is a few microseconds wide.
     */
    @Test
    void aBindRacingCloseFailsAsClosedNotAsABindException() throws Exception {
        for (int i = 0; i < 3000; i++) {
            FiberServerSocket s = io.openServer();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread binder = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    s.bind(LOOPBACK);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            go.countDown();
            for (int k = 0; k < (i % 50) * 20; k++) Thread.onSpinWait();
            s.close();
            Throwable t = outcome.get(10, TimeUnit.SECONDS);
            binder.join();
            int round = i;
            if (t != null) {
                assertInstanceOf(ClosedChannelException.class, t, () -> "round " + round + ": a bind racing close failed with " + t);
            }
        }
    }

    /** A listening channel closed by the transport itself (not by close()) fails accept instead of leaving it waiting. */
    @Test
    void acceptOnAListenerClosedUnderneathFailsInsteadOfWaiting() throws Exception {
        try (FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK)))) {
            server.ch.close().sync();
            IOException e = assertThrows(IOException.class, () -> get(fiber(server::accept)));
            assertInstanceOf(ClosedChannelException.class, e);
        }
    }

    // ---- sockets never used, at shutdown ------------------------------------------------------------

    /**
     * A scheduler's shutdown closes the sockets created on it that were never used: accepted ones nobody
     * read, ones opened and never connected, a server never bound. Counted as socket descriptors of this
     * process (/proc/self/fd) before and after; later operations on them throw ClosedChannelException.
     */
    @Test
    void closingTheSchedulerClosesSocketsNeverUsed() throws Exception {
        int k = 3;
        java.util.Set<String> before = openSockets();
        int openBefore = io.stats().openSockets();
        FiberScheduler own = io.newScheduler("unused-" + transport().id(), 2);
        List<FiberSocket> accepted, opened;
        FiberServerSocket unbound;
        try {
            FiberServerSocket server = get(in(own, () -> io.openServer().bind(LOOPBACK)));
            for (int i = 0; i < k; i++) {
                // clients from the test's scheduler, closed at once: their ends are not the point
                get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5)))).close();
            }
            accepted = get(in(own, () -> {
                List<FiberSocket> l = new ArrayList<>();
                for (int i = 0; i < k; i++) l.add(server.accept());
                return l;
            }));
            opened = get(in(own, () -> {
                List<FiberSocket> l = new ArrayList<>();
                for (int i = 0; i < k; i++) l.add(io.openSocket());
                return l;
            }));
            unbound = get(in(own, io::openServer));
            server.close();
            int unused = 2 * k + 1;
            awaitOpenSockets(openBefore + unused, "the unused sockets, once the server and the clients closed");
            java.util.Set<String> held = newSince(before);
            assertTrue(held.size() >= unused, () -> "the unused sockets hold descriptors: " + held);
        } finally {
            own.close();
        }
        assertNoSocketsSince(before, () -> "descriptors still open after the scheduler closed");
        assertEquals(openBefore, io.stats().openSockets(), () -> "open per runtime: " + io.describeOpen());
        for (FiberSocket s : accepted) {
            assertTrue(s.isClosed());
            assertThrows(ClosedChannelException.class, () -> s.read(ByteBuffer.allocate(1)));
            assertThrows(ClosedChannelException.class, () -> s.write(ByteBuffer.allocate(1)));
        }
        for (FiberSocket s : opened) {
            assertTrue(s.isClosed());
            assertThrows(ClosedChannelException.class, () -> s.connect(LOOPBACK, Duration.ofSeconds(1)));
            assertThrows(ClosedChannelException.class, () -> s.setOption(StandardSocketOptions.TCP_NODELAY, true));
        }
        assertTrue(unbound.isClosed());
        assertThrows(ClosedChannelException.class, () -> unbound.bind(LOOPBACK));
    }

    /**
     * Stress: a platform thread uses sockets that fibers of a scheduler opened and never used, while that
     * scheduler shuts down. Each use either comes first (the socket then lives on the runtime's fallback
     * loop and works) or finds the socket closed; none hangs, and no descriptor is left once the
     * connected ones are closed.
     */
    @Test
    void usingUnusedSocketsWhileTheirSchedulerStopsNeitherHangsNorLeaks() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            for (int round = 0; round < 4; round++) {
                java.util.Set<String> before = openSockets();
                FiberScheduler own = io.newScheduler("race-" + transport().id() + "-" + round, 2);
                List<FiberSocket> sockets = get(in(own, () -> {
                    List<FiberSocket> l = new ArrayList<>();
                    for (int i = 0; i < 16; i++) l.add(io.openSocket());
                    return l;
                }));
                CompletableFuture<List<FiberSocket>> user = CompletableFuture.supplyAsync(() -> {
                    List<FiberSocket> connected = new ArrayList<>();
                    for (FiberSocket s : sockets) {
                        try {
                            s.connect(server.localAddress(), Duration.ofSeconds(5));
                            connected.add(s);
                        } catch (ClosedChannelException closedFirst) {
                            // the scheduler's shutdown closed it first
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                    return connected;
                }, r -> new Thread(r, "unused-socket-user").start());
                own.close();
                List<FiberSocket> connected = user.get(20, TimeUnit.SECONDS);
                for (FiberSocket s : connected) {
                    ByteBuffer b = ByteBuffer.allocate(1);
                    s.write(ByteBuffer.wrap(new byte[] {5}));
                    s.readFully(b);
                    assertEquals(5, b.get(0), "a socket the user won works");
                    s.close();
                }
                for (FiberSocket s : sockets) assertTrue(s.isClosed());
                int r = round;
                assertNoSocketsSince(before, () -> "round " + r + ": descriptors still open");
            }
        }
    }

    /**
     * An operation routed to the loop of a scheduler that has terminated fails with
     * ClosedChannelException: Netty's loops accept tasks after they terminated and never run them, which
     * would leave the caller waiting forever.
     */
    @Test
    void anOperationRoutedToATerminatedLoopFailsInsteadOfWaiting() throws Exception {
        FiberScheduler own = io.newScheduler("gone-" + transport().id(), 1);
        FiberServerSocket s;
        try {
            s = get(in(own, () -> io.openServer().bind(LOOPBACK)));     // lives on own's only loop
        } finally {
            own.close();
        }
        assertTrue(s.isClosed(), "the scheduler's shutdown closed the server");
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        assertThrows(ClosedChannelException.class, () -> s.run(() -> ran.set(true)));
        Thread.sleep(50);
        assertFalse(ran.get());
    }

    /**
     * Connections the server took off the kernel's queue ahead of {@code accept()} and never handed out
     * are closed with the server, and the runtime stops counting them as open (their channels were never
     * registered, so no loop reports their close).
     */
    @Test
    void closingTheServerForgetsConnectionsAcceptedAhead() throws Exception {
        int ahead = 5;
        int openBefore = io.stats().openSockets();
        List<FiberSocket> clients = new ArrayList<>();
        FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK)));
        try {
            clients.add(get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5)))));
            FiberSocket first = get(fiber(server::accept));    // starts the server reading ahead
            first.close();
            for (int i = 0; i < ahead; i++) {
                clients.add(get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5)))));
            }
            int expected = openBefore + 1 + clients.size() + ahead;    // server, clients, connections taken ahead
            awaitOpenSockets(expected, "connections taken ahead of accept");
            server.close();
            awaitOpenSockets(openBefore + clients.size(), "after the server closed");
        } finally {
            server.close();
            clients.forEach(FiberSocket::close);
        }
        awaitOpenSockets(openBefore, "after the clients closed");
    }

    /** Waits until the runtime counts {@code n} open sockets; fails with {@code what} if it never does. */
    void awaitOpenSockets(int n, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (io.stats().openSockets() != n && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(n, io.stats().openSockets(), () -> what + ": " + io.describeOpen());
    }

    /**
     * Stress: readers of streaming connections are interrupted or closed at random moments, racing with
     * completions that carry data. Every reader must end with data or the documented exception, and
     * nothing may leak (buffers: leak detector after the class; descriptors and fibers: after the test).
     */
    @Test
    void interruptsAndClosesRacingWithCompletionsLeakNothing() throws Exception {
        try (FiberServerSocket server = server(s -> {
            ByteBuffer chunk = ByteBuffer.allocate(1024);
            try {
                for (;;) s.write(chunk.clear());
            } catch (IOException peerGone) {
                // expected: the reader closed
            }
        })) {
            java.util.Random rnd = new java.util.Random(42);
            List<CompletableFuture<String>> outcomes = new ArrayList<>();
            List<Thread> readers = new ArrayList<>();
            List<AtomicReference<FiberSocket>> sockets = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                AtomicReference<Thread> self = new AtomicReference<>();
                AtomicReference<FiberSocket> mine = new AtomicReference<>();
                CompletableFuture<String> f = fiber(() -> {
                    self.set(Thread.currentThread());
                    FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5));
                    mine.set(c);
                    try (c) {
                        ByteBuffer b = ByteBuffer.allocate(700);
                        for (;;) {
                            if (c.read(b.clear()) < 0) return "eof";
                        }
                    } catch (ClosedByInterruptException e) {
                        return "interrupted";
                    } catch (AsynchronousCloseException e) {
                        return "closed";
                    } catch (ClosedChannelException e) {
                        return "closed-before";
                    }
                });
                outcomes.add(f);
                while (self.get() == null) Thread.onSpinWait();
                readers.add(self.get());
                sockets.add(mine);
            }
            for (AtomicReference<FiberSocket> r : sockets) {
                while (r.get() == null) Thread.sleep(5);
            }
            for (int i = 0; i < 40; i++) {
                Thread.sleep(rnd.nextInt(3));
                if (rnd.nextBoolean()) readers.get(i).interrupt();
                else sockets.get(i).get().close();
            }
            for (CompletableFuture<String> f : outcomes) {
                String o = get(f);
                assertTrue(List.of("interrupted", "closed", "closed-before").contains(o), o);
            }
        }
    }

    // ---- options ------------------------------------------------------------------------------------

    @Test
    void socketOptionsAreApplied() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            assertTrue(server.getOption(StandardSocketOptions.SO_REUSEADDR) != null);
            get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    assertTrue(c.getOption(StandardSocketOptions.TCP_NODELAY));
                    c.setOption(StandardSocketOptions.TCP_NODELAY, false);
                    assertFalse(c.getOption(StandardSocketOptions.TCP_NODELAY));
                    c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                    assertTrue(c.getOption(StandardSocketOptions.SO_KEEPALIVE));
                    c.setOption(StandardSocketOptions.SO_RCVBUF, 128 * 1024);
                    assertTrue(c.getOption(StandardSocketOptions.SO_RCVBUF) >= 128 * 1024);
                    c.setOption(StandardSocketOptions.SO_SNDBUF, 128 * 1024);
                    assertTrue(c.getOption(StandardSocketOptions.SO_SNDBUF) >= 128 * 1024);
                    assertThrows(NullPointerException.class, () -> c.setOption(null, 1));
                    assertThrows(IllegalArgumentException.class, () -> c.setReadTimeout(Duration.ofSeconds(-1)));
                }
                return null;
            }));
        }
    }

    @Test
    void reusePortLetsTwoServersShareAPort() throws Exception {
        try (FiberServerSocket a = get(fiber(() -> io.openServer()
                     .setOption(StandardSocketOptions.SO_REUSEPORT, true).bind(LOOPBACK)));
             FiberServerSocket b = get(fiber(() -> io.openServer()
                     .setOption(StandardSocketOptions.SO_REUSEPORT, true).bind(a.localAddress())))) {
            assertEquals(a.localAddress(), b.localAddress());
            assertTrue(b.getOption(StandardSocketOptions.SO_REUSEPORT));
        }
    }

    // ---- scale --------------------------------------------------------------------------------------

    /**
     * 10,000 connections open at once to one server, each served by its own fiber blocked in a read. The
     * clients run in a child JVM: both ends in one process would need 20,000 descriptors, which is the
     * hard {@code ulimit -n} of many machines (and of CI here).
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tenThousandConcurrentConnectionsToOneServer() throws Exception {
        int n = 10_000;
        java.util.concurrent.atomic.AtomicInteger live = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger peak = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
        FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK, 4096)));
        // A burst like this once overflowed io_uring's completion queue, which Netty reports as a warning:
        // the transport must take it without complaint.
        List<String> nettyWarnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger netty = java.util.logging.Logger.getLogger("io.netty");
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    nettyWarnings.add(r.getLoggerName() + ": " + r.getMessage());
                }
            }
            @Override public void flush() { }
            @Override public void close() { }
        };
        netty.addHandler(capture);
        try (server) {
            fiber(() -> {
                for (;;) {
                    FiberSocket c;
                    try {
                        c = server.accept();
                    } catch (ClosedChannelException e) {
                        return null;
                    }
                    fiber(() -> {
                        try (c) {
                            peak.accumulateAndGet(live.incrementAndGet(), Math::max);
                            ByteBuffer b = ByteBuffer.allocate(1);
                            c.readFully(b);
                            c.write(b.flip());
                            assertEquals(-1, c.read(b.clear()));      // the client closes after all echoes
                            served.incrementAndGet();
                        } finally {
                            live.decrementAndGet();
                        }
                        return null;
                    });
                }
            });
            long t0 = System.nanoTime();
            // a client stuck on a server that stopped answering is killed and fails the test (ChildJvm)
            String out = ChildJvm.run(java.util.List.of("-Xmx256m"), ManyConnectionsClient.class,
                    "127.0.0.1", String.valueOf(server.localAddress().getPort()), String.valueOf(n));
            assertTrue(out.contains("OK " + n), out);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (served.get() < n && System.nanoTime() < deadline) Thread.sleep(20);
            System.out.printf("%s: %d concurrent connections served in %d ms (peak %d live handler fibers)%n",
                    transport().id(), n, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), peak.get());
            assertEquals(n, served.get());
            assertEquals(n, peak.get(), "every connection was open and served by a blocked fiber at the same time");
            assertTrue(nettyWarnings.isEmpty(), () -> "the burst made Netty warn " + nettyWarnings.size()
                    + " times, first: " + nettyWarnings.getFirst());
        } finally {
            netty.removeHandler(capture);
        }
    }

    // ---- threads and carriers -----------------------------------------------------------------------

    @Test
    void platformThreadsUseSocketsThroughTheFallbackLoop() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            long routedBefore = io.stats().routedOperations();
            try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {   // test thread
                ByteBuffer in = ByteBuffer.allocate(5);
                for (int i = 0; i < 100; i++) {
                    c.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
                    c.readFully(in.clear());
                }
                assertEquals("hello", new String(in.array(), StandardCharsets.US_ASCII));
            }
            assertTrue(io.stats().routedOperations() >= routedBefore + 200, io.stats().toString());
        }
    }

    @Test
    void aSocketUsedFromAnotherCarrierStaysCorrect() throws Exception {
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            FiberSocket c = get(fiber(() -> io.connect(server.localAddress(), Duration.ofSeconds(5))));
            long routedBefore = io.stats().routedOperations();
            java.util.concurrent.locks.ReentrantLock turn = new java.util.concurrent.locks.ReentrantLock(true);
            try (c) {
                // two fibers take turns on one socket: they run on whichever carrier is free, so operations are
                // sometimes issued from the carrier that does not own the socket and are routed to its loop
                List<CompletableFuture<Integer>> users = new ArrayList<>();
                for (int u = 0; u < 2; u++) {
                    int base = u * 1_000_000;
                    users.add(fiber(() -> {
                        for (int i = 0; i < 300; i++) {
                            turn.lock();
                            try {
                                c.write(ByteBuffer.allocate(4).putInt(0, base + i));
                                ByteBuffer b = ByteBuffer.allocate(4);
                                c.readFully(b);
                                assertEquals(base + i, b.getInt(0));
                            } finally {
                                turn.unlock();
                            }
                            if (i % 10 == 0) Thread.yield();
                        }
                        return 300;
                    }));
                }
                for (CompletableFuture<Integer> f : users) assertEquals(300, get(f));
            }
            System.out.println(transport().id() + " cross-carrier: " + io.stats() + ", routed during test: "
                    + (io.stats().routedOperations() - routedBefore));
        }
    }

    @Test
    void blockedFibersResumeOnTheCarrierThatCompletedTheirOperation() throws Exception {
        // Stall detection off: on a loaded machine a carrier the OS leaves waiting for a time slice looks
        // stalled, and the rescuer that then drives its loop (a platform thread) completes operations and
        // resumes their fibers through the injection queue, as it should (StalledCarrierIoTest). What is
        // asserted here is where the carriers' own completions resume their fibers.
        scheduler.close();
        scheduler = FiberScheduler.create(io.schedulerConfig().name("test-" + transport().id()).parallelism(2)
                .stallThreshold(Duration.ZERO).build());
        try (FiberServerSocket server = server(FiberSocketContract::echo)) {
            FiberIo.IoStats before = io.stats();
            long injectedBefore = scheduler.stats().outsideSubmissions();
            get(fiber(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    ByteBuffer out = ByteBuffer.allocate(64), in = ByteBuffer.allocate(64);
                    for (int i = 0; i < 3000; i++) {
                        c.write(out.clear());
                        c.readFully(in.clear());
                    }
                }
                return null;
            }));
            // The server's echo fiber may still be finishing its last read (the client's close): its
            // completion and its resumption are counted a moment apart, so read the counters once they agree.
            FiberIo.IoStats after = io.stats();
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline
                    && after.completedOnOwnLoop() - before.completedOnOwnLoop()
                    != after.resumedOnCompletingCarrier() + after.resumedElsewhere()
                    - before.resumedOnCompletingCarrier() - before.resumedElsewhere(); after = io.stats()) {
                Thread.sleep(10);
            }
            long waits = after.completedOnOwnLoop() - before.completedOnOwnLoop();
            long home = after.resumedOnCompletingCarrier() - before.resumedOnCompletingCarrier();
            long elsewhere = after.resumedElsewhere() - before.resumedElsewhere();
            System.out.println(transport().id() + " resumption: on completing carrier " + home + ", elsewhere " + elsewhere);
            // Every blocked operation is completed by its socket's own loop thread, a carrier: the unpark then
            // queues the fiber on that carrier (no injection queue, no poller thread). Whether it also runs
            // there depends on stealing, which varies with machine load: asserted only to happen.
            assertTrue(home + elsewhere >= 3000, "blocked operations: " + (home + elsewhere));
            assertEquals(home + elsewhere, waits, "blocked operations completed by another thread than the socket's loop");
            assertTrue(home > 0, "no fiber ever resumed on the carrier that completed its operation");
            long injected = scheduler.stats().outsideSubmissions() - injectedBefore;
            assertTrue(injected <= 2, "resumptions went through the injection queue: " + injected);
        }
    }

    // ---- placement ----------------------------------------------------------------------------------

    @Test
    void socketsOfMovableFibersSpreadOverTheCarriers() throws Exception {
        Placement p = servedCarriers(false);
        // Every connection fiber is started by the acceptor on the acceptor's carrier and first runs there;
        // its socket is placed on the less loaded carrier anyway, and the fiber follows its completions.
        // Placed evenly up to the slack of 128 the smaller share is 86 of 300; without placement it is 0.
        String where = "sockets per carrier's loop " + java.util.Arrays.toString(p.homes) + ", connections served per carrier "
                + java.util.Arrays.toString(p.perCarrier) + ", served on their socket's carrier " + p.onHome;
        assertTrue(Math.min(p.homes[0], p.homes[1]) >= PLACED / 20, where);
        // Where each connection is then served is not asserted: the larger loop holds more sockets than a
        // carrier keeps to itself (Tunables.OWN_COMPLETIONS_KEPT), so a burst of their completions opens its
        // ring to the other carrier, as it should (285-300 of 300 served on their socket's carrier seen, and
        // 197). OwnCompletionsTest asserts the rule itself, with a broken twin.
        System.out.println(transport().id() + " placement: " + where);
    }

    /** Runs {@code body} in a fiber of the test scheduler bound to carrier {@code carrier}. */
    <T> CompletableFuture<T> onCarrier(int carrier, Body<T> body) {
        return started(task -> scheduler.startOn(carrier, task), body);
    }

    /**
     * An accepted socket lives on the loop that accepted it when the fiber first using it may move, wherever
     * that fiber first runs (within the placement slack): a movable fiber that first uses it on the other
     * carrier finds it on the accepting carrier's loop, and follows it there. (Placed where its fiber first
     * ran, a burst of accepted connections whose fibers a peer carrier stole spread over both carriers.)
     */
    @Test
    @SuppressWarnings("try")   // the client only has to stay connected while the accepted socket is used
    void anAcceptedSocketLivesOnTheAcceptingLoopWhereverItsFiberFirstRuns() throws Exception {
        try (FiberServerSocket server = get(onCarrier(0, () -> io.openServer().bind(LOOPBACK)))) {
            assertTrue(server.livesOn(get(onCarrier(0, () -> dev.bobbin.uring.driver.IoCarrierDriver.current(io.drivers).loop()))),
                    "the listener lives on carrier 0's loop");
            int checked = 0;
            for (int attempt = 0; attempt < 20 && checked == 0; attempt++) {
                try (java.net.Socket client = new java.net.Socket(server.localAddress().getAddress(), server.localAddress().getPort());
                     FiberSocket c = get(onCarrier(0, server::accept))) {
                    // a movable fiber started from carrier 1 runs there first, unless carrier 0 happens to take it
                    Boolean onAcceptingLoop = get(onCarrier(1, () -> get(in(scheduler, () -> {
                        if (FiberScheduler.currentCarrierIndex() != 1) return null;      // taken by carrier 0: try again
                        c.write(ByteBuffer.wrap(new byte[] {1}));                     // the first use places the socket
                        return c.livesOn(server.home());
                    }))));
                    if (onAcceptingLoop == null) continue;
                    assertTrue(onAcceptingLoop, "an accepted socket first used on carrier 1 lives on the accepting loop");
                    checked++;
                }
            }
            assertEquals(1, checked, "a fiber started from carrier 1 ran there first in one of 20 attempts");
        }
    }

    @Test
    void socketsOfBoundFibersStayOnTheirCarrier() throws Exception {
        Placement p = servedCarriers(true);
        assertEquals(0, p.away, "bound fibers served away from their carrier; per carrier: "
                + java.util.Arrays.toString(p.perCarrier));
    }

    /** More connections than the placement slack (128), so that spreading them pays. */
    static final int PLACED = 300;

    /** Where the connections were served, how many away from their acceptor's carrier, where their sockets
     *  live (per carrier's loop), and how many were served on the carrier whose loop holds their socket. */
    record Placement(int[] perCarrier, int away, int[] homes, int onHome) { }

    /**
     * Accepts PLACED connections from clients on this platform thread (the fallback loop, no carrier's); each is served
     * by a fiber the acceptor starts, bound to the acceptor's carrier ({@code startLocal}) or movable,
     * which reads one message, notes its carrier, waits until every connection has been read (so all
     * sockets are open at once) and echoes it.
     */
    private Placement servedCarriers(boolean bound) throws Exception {
        java.util.concurrent.atomic.AtomicIntegerArray served = new java.util.concurrent.atomic.AtomicIntegerArray(2);
        java.util.concurrent.atomic.AtomicInteger away = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicIntegerArray homes = new java.util.concurrent.atomic.AtomicIntegerArray(2);
        java.util.concurrent.atomic.AtomicInteger onHome = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch allRead = new java.util.concurrent.CountDownLatch(PLACED);
        try (FiberServerSocket server = get(fiber(() -> io.openServer().bind(LOOPBACK, 1024)))) {
            CompletableFuture<Void> acceptor = fiber(() -> {
                for (int i = 0; i < PLACED; i++) {
                    FiberSocket c = server.accept();
                    int startedOn = FiberScheduler.currentCarrierIndex();
                    Runnable serve = () -> {
                        try (c) {
                            ByteBuffer b = ByteBuffer.allocate(8);
                            c.readFully(b);
                            int carrier = FiberScheduler.currentCarrierIndex();
                            served.incrementAndGet(carrier);
                            // two carriers: a socket not on this carrier's loop lives on the other one's
                            boolean here = c.livesOn(dev.bobbin.uring.driver.IoCarrierDriver.current(io.drivers).loop());
                            homes.incrementAndGet(here ? carrier : 1 - carrier);
                            if (here) onHome.incrementAndGet();
                            if (carrier != startedOn) away.incrementAndGet();
                            allRead.countDown();
                            assertTrue(allRead.await(20, TimeUnit.SECONDS));   // every socket stays open meanwhile
                            c.write(b.flip());
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    };
                    if (bound) scheduler.startLocal(serve);
                    else scheduler.start(serve);
                }
                return null;
            });
            List<FiberSocket> clients = new ArrayList<>();   // on this platform thread: the fallback loop
            try {
                for (int i = 0; i < PLACED; i++) clients.add(io.connect(server.localAddress(), Duration.ofSeconds(5)));
                for (FiberSocket c : clients) c.write(ByteBuffer.allocate(8));
                for (FiberSocket c : clients) c.readFully(ByteBuffer.allocate(8));
            } finally {
                for (FiberSocket c : clients) c.close();
            }
            get(acceptor);
        }
        return new Placement(new int[] {served.get(0), served.get(1)}, away.get(),
                new int[] {homes.get(0), homes.get(1)}, onHome.get());
    }
}
