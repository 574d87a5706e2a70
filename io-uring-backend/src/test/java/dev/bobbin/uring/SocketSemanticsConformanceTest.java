package dev.bobbin.uring;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where {@link FiberSocket} and {@code java.net.Socket} overlap, they behave alike: each test runs over
 * the JDK's socket (the control) and Bobbin's on every transport. Deliberate differences are named where
 * they apply.
 */
@Tag("reliability")
class SocketSemanticsConformanceTest {
    static { LeakGuard.install(); }

    /** The operations both sockets have. */
    interface Conn extends Closeable {
        int read(byte[] b) throws IOException;
        void write(byte[] b) throws IOException;
        void shutdownInput() throws IOException;
        void shutdownOutput() throws IOException;
        boolean isClosed();
        void setReadTimeout(int millis) throws IOException;
        <T> void setOption(SocketOption<T> option, T value) throws IOException;
        <T> T getOption(SocketOption<T> option) throws IOException;
    }

    enum Kind {
        JDK(null), IO_URING(IoTransport.IO_URING), EPOLL(IoTransport.EPOLL), NIO(IoTransport.NIO);

        final IoTransport transport;

        Kind(IoTransport transport) { this.transport = transport; }

        Conn unconnected() throws IOException {
            if (transport == null) return jdk(new Socket());
            return fiber(FiberIo.of(transport).openSocket());
        }

        Conn connect(InetSocketAddress to) throws IOException {
            if (transport == null) {
                Socket s = new Socket();
                s.connect(to, 5_000);
                return jdk(s);
            }
            return fiber(FiberIo.of(transport).connect(to, Duration.ofSeconds(5)));
        }

        private static Conn jdk(Socket s) {
            return new Conn() {
                private InputStream in;                        // taken once, as stream code does
                private java.io.OutputStream out;
                public int read(byte[] b) throws IOException {
                    if (in == null) in = s.getInputStream();
                    return in.read(b);
                }
                public void write(byte[] b) throws IOException {
                    if (out == null) out = s.getOutputStream();
                    out.write(b);
                }
                public void shutdownInput() throws IOException { s.shutdownInput(); }
                public void shutdownOutput() throws IOException { s.shutdownOutput(); }
                public boolean isClosed() { return s.isClosed(); }
                public void setReadTimeout(int millis) throws IOException { s.setSoTimeout(millis); }
                public <T> void setOption(SocketOption<T> o, T v) throws IOException { s.setOption(o, v); }
                public <T> T getOption(SocketOption<T> o) throws IOException { return s.getOption(o); }
                public void close() throws IOException { s.close(); }
            };
        }

        private static Conn fiber(FiberSocket s) {
            return new Conn() {
                public int read(byte[] b) throws IOException { return s.read(ByteBuffer.wrap(b)); }
                public void write(byte[] b) throws IOException { s.write(ByteBuffer.wrap(b)); s.flush(); }
                public void shutdownInput() throws IOException { s.shutdownInput(); }
                public void shutdownOutput() throws IOException { s.shutdownOutput(); }
                public boolean isClosed() { return s.isClosed(); }
                public void setReadTimeout(int millis) { s.setReadTimeout(Duration.ofMillis(millis)); }
                public <T> void setOption(SocketOption<T> o, T v) throws IOException { s.setOption(o, v); }
                public <T> T getOption(SocketOption<T> o) throws IOException { return s.getOption(o); }
                public void close() { s.close(); }
            };
        }
    }

    private ServerSocket server;
    private final CompletableFuture<Socket> accepted = new CompletableFuture<>();

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            try {
                accepted.complete(server.accept());
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        if (accepted.isDone() && !accepted.isCompletedExceptionally()) accepted.get().close();
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        LeakGuard.assertNoLeaks();
    }

    private InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private Socket peer() throws Exception {
        return accepted.get(10, TimeUnit.SECONDS);
    }

    private static void assume(Kind kind) {
        if (kind.transport != null) TransportSelectionTest.assumeOrRequire(kind.transport);
    }

    /** Waits until {@code t} blocks in a socket operation (a platform thread in a JDK read polls natively). */
    static void awaitInSocketOperation(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (java.util.Arrays.stream(t.getStackTrace()).noneMatch(
                e -> e.getMethodName().equals("park") || e.getMethodName().equals("poll"))) {
            assertTrue(System.nanoTime() < deadline, "thread never blocked: " + t);
            Thread.sleep(5);
        }
        Thread.sleep(20);                               // let it settle in the operation
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void afterShutdownInputReadsReturnEndOfStreamEvenWithDataBuffered(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            peer().getOutputStream().write(new byte[100]);
            byte[] one = new byte[1];
            assertEquals(1, c.read(one));                  // the rest of the 100 bytes is now buffered
            c.shutdownInput();
            assertEquals(-1, c.read(new byte[10]));
            assertEquals(-1, c.read(new byte[10]), "and stays at end of stream");
        }
    }

    /**
     * After the peer reset the connection, a read fails with "Connection reset", and writes fail with a
     * {@link SocketException} too (the JDK's says "Broken pipe" or "Connection reset"), not with the
     * "closed" exception of a socket the application closed itself.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void afterAResetReadsAndWritesFailWithASocketException(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            Socket p = peer();
            p.setSoLinger(true, 0);
            p.close();                                     // sends RST
            SocketException r = assertThrows(SocketException.class, () -> c.read(new byte[10]));
            assertTrue(String.valueOf(r.getMessage()).contains("reset"), r.getMessage());
            IOException w = writeUntilAWriteFails(c);
            assertNotNull(w, "writes to a reset connection kept succeeding");
            assertInstanceOf(SocketException.class, w, "a write after a reset: " + w);
        }
    }

    /** Writes 100 bytes at a time, up to 50 times 10 ms apart, until a write fails: that failure, or null. */
    private static IOException writeUntilAWriteFails(Conn c) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            try {
                c.write(new byte[100]);
            } catch (IOException e) {
                return e;
            }
            Thread.sleep(10);
        }
        return null;
    }

    /**
     * A peer that answers and closes without reading what it was sent (an HTTP server refusing an upload,
     * say) resets the connection: the next write fails, and the answer that arrived before the reset can
     * still be read, then the stream ends; the failed write must not throw the answer away or make the
     * stream look ended before it.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aReplyThatArrivedBeforeAResetIsReadAfterAFailedWrite(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            Socket p = peer();
            c.write("request".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));   // never read by the peer
            p.getOutputStream().write("reply".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            p.close();                                     // unread bytes: the close sends a reset
            IOException w = writeUntilAWriteFails(c);
            assertInstanceOf(SocketException.class, w, "a write after the reset fails: " + w);
            c.setReadTimeout(5_000);
            byte[] b = new byte[100];
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            Object end;
            try {
                int n;
                while ((n = c.read(b)) > 0) got.write(b, 0, n);
                end = n;
            } catch (IOException e) {
                end = e;
            }
            assertEquals("reply", got.toString(java.nio.charset.StandardCharsets.ISO_8859_1), "the reply is read, then the end (" + end + ")");
            assertTrue(end.equals(-1) || end instanceof SocketException && !(end instanceof java.net.SocketTimeoutException),
                    "then the stream ends or reports the reset: " + end);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void readingAnUnconnectedSocketIsASocketException(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.unconnected()) {
            SocketException e = assertThrows(SocketException.class, () -> c.read(new byte[1]));
            assertEquals("Socket is not connected", e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void writingAnUnconnectedSocketIsASocketException(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.unconnected()) {
            SocketException e = assertThrows(SocketException.class, () -> c.write(new byte[1]));
            assertEquals("Socket is not connected", e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void negativeBufferSizesAreIllegalArguments(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            assertThrows(IllegalArgumentException.class, () -> c.setOption(StandardSocketOptions.SO_RCVBUF, -1));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(StandardSocketOptions.SO_SNDBUF, -1));
            c.setOption(StandardSocketOptions.SO_RCVBUF, 65536);  // a valid size is taken
        }
    }

    /** A buffer size of 0 is not negative: the JDK takes it (the kernel rounds it up to its minimum). */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void zeroBufferSizesAreTakenAsTheJdkTakesThem(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            c.setOption(StandardSocketOptions.SO_RCVBUF, 0);
            c.setOption(StandardSocketOptions.SO_SNDBUF, 0);
        }
    }

    /** A linger time above 65535 s is taken as 65535, as the JDK's sockets take it (Socket.setSoLinger). */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aLingerAboveTheMaximumIsClampedAsByTheJdk(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            c.setOption(StandardSocketOptions.SO_LINGER, 70_000);
            assertEquals(65_535, c.getOption(StandardSocketOptions.SO_LINGER));
        }
    }

    /**
     * TCP_NODELAY: off on a new JDK socket, on on a new FiberSocket (Netty's default, kept on purpose: small
     * write-behind writes would otherwise wait for the peer's delayed ACK). A deliberate difference, which
     * FiberSocket's javadoc names.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void tcpNoDelayIsOffOnAJdkSocketAndOnOnAFiberSocket(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            assertEquals(kind != Kind.JDK, c.getOption(StandardSocketOptions.TCP_NODELAY));
        }
    }

    /** Reads one byte; returns what the read threw, or null if it returned. */
    private static Throwable readOne(Conn c) {
        try {
            c.read(new byte[1]);
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** A reader queued behind a blocked reader gives up at its read timeout. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    @SuppressWarnings("try")   // closes a resource inside its try on purpose
    void aQueuedReaderHonoursTheReadTimeout(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            peer();
            Thread first = Thread.ofPlatform().start(() -> readOne(c));  // no timeout yet: blocks until closed
            awaitInSocketOperation(first);
            c.setReadTimeout(200);
            CompletableFuture<Throwable> second = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> second.complete(readOne(c)));
            Throwable t = second.get(10, TimeUnit.SECONDS);
            assertInstanceOf(SocketTimeoutException.class, t, "the queued reader timed out while the first still blocks");
            assertTrue(first.isAlive());
            c.close();
            first.join(10_000);
            assertFalse(first.isAlive());
        }
    }

    /**
     * A reader queued behind a blocked reader gives up on an interrupt, closing the socket as an
     * interrupted blocked read does. Deliberately unlike the JDK control, whose queued reader waits for
     * the lock uninterruptibly: not run for it.
     */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void aQueuedReaderHonoursAnInterrupt(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            peer();
            Thread first = Thread.ofPlatform().start(() -> readOne(c));  // ends when the interrupt closes the socket
            awaitInSocketOperation(first);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread second = Thread.ofPlatform().start(() -> outcome.complete(readOne(c)));
            awaitInSocketOperation(second);
            second.interrupt();
            assertInstanceOf(ClosedByInterruptException.class, outcome.get(10, TimeUnit.SECONDS));
            first.join(10_000);
            assertFalse(first.isAlive(), "the socket closed under the first reader too");
        }
    }

    /**
     * close() never lets the peer take a truncated stream for a complete one: writes still queued when the
     * drain limit runs out end in a reset the peer sees. Bobbin only: a JDK socket's write returns once
     * the kernel has the bytes, so its close() never has bytes of its own queued.
     */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void bytesQueuedPastTheCloseDrainLimitEndInAResetNotACleanEnd(Kind kind) throws Exception {
        assume(kind);
        server.close();
        try (ServerSocket small = new ServerSocket()) {
            small.setReceiveBufferSize(4096);
            small.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            FiberSocket c = FiberIo.of(kind.transport).connect(small.getLocalSocketAddress(), Duration.ofSeconds(5));
            try (Socket p = small.accept()) {
                c.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                c.setCloseDrainTimeout(Duration.ofMillis(200));
                AtomicLong written = new AtomicLong();
                Thread writer = Thread.ofPlatform().start(() -> {
                    byte[] chunk = new byte[16 * 1024];
                    try {
                        for (;;) {
                            c.write(ByteBuffer.wrap(chunk));
                            written.addAndGet(chunk.length);
                        }
                    } catch (IOException expected) {
                        // closed under it: the writer hears of it
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (writer.getState() != Thread.State.WAITING) {   // parked: the kernel and the loop are full
                    assertTrue(System.nanoTime() < deadline, "the writer never filled the connection");
                    Thread.sleep(5);
                }
                c.close();
                writer.join(10_000);
                assertFalse(writer.isAlive(), "a writer blocked in a socket that closes fails");
                Thread.sleep(400);                                   // past the drain limit
                long read = 0;
                boolean reset = false;
                p.setSoTimeout(10_000);
                try (InputStream in = p.getInputStream()) {
                    byte[] buf = new byte[65536];
                    for (int n; (n = in.read(buf)) > 0; ) read += n;
                } catch (SocketException e) {
                    reset = true;                                    // "Connection reset"
                }
                assertTrue(reset || read >= written.get(),
                        "the peer saw a clean end of stream after " + read + " of " + written.get() + " written bytes");
                assertTrue(reset, "with the peer not reading, the queued bytes could not drain in 200 ms");
            }
        }
    }

    /** A large heap write arrives byte-exact; Bobbin copies it to direct memory in bounded chunks. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aLargeWriteArrivesWholeAndBobbinHoldsLittleDirectMemoryForIt(Kind kind) throws Exception {
        assume(kind);
        int size = 32 * 1024 * 1024;
        byte[] data = new byte[size];
        new java.util.Random(7).nextBytes(data);
        CRC32 sent = new CRC32();
        sent.update(data);
        try (Conn c = kind.connect(address())) {
            Socket p = peer();
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                CRC32 crc = new CRC32();
                byte[] buf = new byte[65536];
                long total = 0;
                try (InputStream in = p.getInputStream()) {
                    while (total < size) {
                        int n = in.read(buf);
                        if (n < 0) break;
                        crc.update(buf, 0, n);
                        total += n;
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                assertEquals(size, total);
                return crc.getValue();
            }, r -> Thread.ofPlatform().daemon().start(r));
            AtomicLong peak = new AtomicLong();
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (writing.get()) {
                    peak.accumulateAndGet(usedDirectMemory(), Math::max);
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
            });
            long before = usedDirectMemory();
            c.write(data);
            writing.set(false);
            sampler.join();
            assertEquals(sent.getValue(), received.get(30, TimeUnit.SECONDS));
            if (kind != Kind.JDK) {
                assertTrue(peak.get() - before < size / 2,
                        "direct memory grew by " + (peak.get() - before) + " bytes for a " + size + "-byte write");
            }
        }
    }

    private static long usedDirectMemory() {
        return ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider m ? m.metric().usedDirectMemory() : 0;
    }

    // ---- lifecycle: shutdowns and buffered bytes, connect after a failed write, accept racing bind ----

    private static Object outcome(java.util.concurrent.Callable<?> c) {
        try {
            return c.call();
        } catch (Throwable t) {
            return t;
        }
    }

    private FiberSocket connectFiber(Kind kind) throws IOException {
        return FiberIo.of(kind.transport).connect(address(), Duration.ofSeconds(5));
    }

    /** {@code available()} after {@code shutdownInput()} with bytes buffered is 0, as the next read is the end of stream. */
    @ParameterizedTest @EnumSource(Kind.class)
    void availableIsZeroAfterShutdownInput(Kind kind) throws Exception {
        assume(kind);
        int avail;
        if (kind == Kind.JDK) {
            try (Socket s = new Socket()) {
                s.connect(address(), 5000);
                peer().getOutputStream().write(new byte[100]);
                InputStream in = s.getInputStream();
                assertEquals(1, in.read(new byte[1]));
                Thread.sleep(50);
                s.shutdownInput();
                avail = in.available();
            }
        } else {
            try (FiberSocket s = connectFiber(kind)) {
                peer().getOutputStream().write(new byte[100]);
                InputStream in = s.inputStream();
                assertEquals(1, in.read(new byte[1]));
                s.shutdownInput();
                avail = in.available();
                assertEquals(-1, in.read(new byte[10]));
            }
        }
        assertEquals(0, avail);
    }

    /** A zero-length write after {@code shutdownOutput()} is refused like any other write. */
    @ParameterizedTest @EnumSource(Kind.class)
    void emptyWriteAfterShutdownOutputIsRefused(Kind kind) throws Exception {
        assume(kind);
        Object o, twice;
        if (kind == Kind.JDK) {
            try (SocketChannel s = SocketChannel.open(address())) {
                s.shutdownOutput();
                twice = outcome(() -> s.shutdownOutput());
                o = outcome(() -> s.write(ByteBuffer.allocate(0)));
            }
        } else {
            try (FiberSocket s = connectFiber(kind)) {
                s.shutdownOutput();
                twice = outcome(() -> { s.shutdownOutput(); return "ok"; });
                o = outcome(() -> s.write(ByteBuffer.allocate(0)));
            }
        }
        assertInstanceOf(ClosedChannelException.class, o);
    }

    /** A connected socket stays connected (for {@code connect} and {@code isConnected}) after a reset and a failed write, as the JDK's does. */
    @ParameterizedTest @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void secondConnectAfterAFailedWrite(Kind kind) throws Exception {
        assume(kind);
        try (FiberSocket s = connectFiber(kind)) {
            resetThenWriteUntilAWriteFails(peer(), s);
            assertTrue(s.isConnected(), "connected, as the JDK's socket stays");
            Object o = outcome(() -> { s.connect(address(), Duration.ofSeconds(1)); return "ok"; });
            assertInstanceOf(AlreadyConnectedException.class, o);
        }
    }

    /** Resets the connection from {@code peer}'s side, then writes on {@code s} until a write fails. */
    private static void resetThenWriteUntilAWriteFails(Socket peer, FiberSocket s) throws Exception {
        peer.setSoLinger(true, 0);
        peer.close();
        Object w = null;
        for (int i = 0; i < 50 && !(w instanceof Throwable); i++) {
            w = outcome(() -> { s.write(ByteBuffer.allocate(100)); s.flush(); return "ok"; });
        }
        Thread.sleep(50);                               // the failed channel's close reaches the socket
    }

    /** The same for an accepted socket: {@code connect} is refused, never attempted. */
    @ParameterizedTest @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void connectOnAnAcceptedSocketAfterAFailedWrite(Kind kind) throws Exception {
        assume(kind);
        try (FiberServerSocket srv = FiberIo.of(kind.transport).openServer().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Socket c = new Socket();
            c.connect(srv.localAddress(), 5000);
            try (FiberSocket s = srv.accept(Duration.ofSeconds(5))) {
                resetThenWriteUntilAWriteFails(c, s);
                Object o = outcome(() -> { s.connect(address(), Duration.ofSeconds(1)); return "ok"; });
                assertInstanceOf(AlreadyConnectedException.class, o);
            }
        }
    }

    /** A pending interrupt does not stop a half close: both shut down, the socket stays open and the status stays set. */
    @ParameterizedTest @EnumSource(Kind.class)
    void aPendingInterruptDoesNotCloseTheSocketOnAHalfClose(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            Socket p = peer();
            Object outcome;
            boolean stillInterrupted;
            Thread.currentThread().interrupt();
            try {
                outcome = outcome(() -> {
                    c.shutdownOutput();
                    c.shutdownInput();
                    return "ok";
                });
            } finally {
                stillInterrupted = Thread.interrupted();
            }
            assertEquals("ok", outcome);
            assertTrue(stillInterrupted, "the interrupt status stays set");
            assertEquals(-1, p.getInputStream().read(), "the peer reads the end of the output");
            assertFalse(c.isClosed(), "the socket stays open");
        }
    }

    /** A server bound to null listens on an ephemeral port of the wildcard address; an unresolved or non-IP address is refused before anything is bound. */
    @ParameterizedTest @EnumSource(Kind.class)
    void bindingToNullTakesAnEphemeralPortAndBadAddressesAreRefused(Kind kind) throws Exception {
        assume(kind);
        record Bound(InetSocketAddress local, Object unresolved, Object unixDomain) { }
        Bound b;
        var unresolved = InetSocketAddress.createUnresolved("localhost", 0);
        var unix = java.net.UnixDomainSocketAddress.of("/tmp/bobbin-conformance.sock");
        if (kind.transport == null) {
            try (var jdk = java.nio.channels.ServerSocketChannel.open();
                 var bad1 = java.nio.channels.ServerSocketChannel.open();
                 var bad2 = java.nio.channels.ServerSocketChannel.open()) {
                jdk.bind(null);
                b = new Bound((InetSocketAddress) jdk.getLocalAddress(),
                        outcome(() -> bad1.bind(unresolved)), outcome(() -> bad2.bind(unix)));
            }
        } else {
            try (FiberServerSocket srv = FiberIo.of(kind.transport).openServer();
                 FiberServerSocket bad1 = FiberIo.of(kind.transport).openServer();
                 FiberServerSocket bad2 = FiberIo.of(kind.transport).openServer()) {
                srv.bind(null);
                b = new Bound(srv.localAddress(), outcome(() -> bad1.bind(unresolved)), outcome(() -> bad2.bind(unix)));
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), b.local().getPort()), 5000);
                    try (FiberSocket s = srv.accept(Duration.ofSeconds(5))) {
                        assertNotNull(s, "the ephemeral listener accepts");
                    }
                }
            }
        }
        assertTrue(b.local().getPort() > 0, "an ephemeral port: " + b.local());
        assertTrue(b.local().getAddress().isAnyLocalAddress(), "the wildcard address: " + b.local());
        assertInstanceOf(java.nio.channels.UnresolvedAddressException.class, b.unresolved());
        assertInstanceOf(java.nio.channels.UnsupportedAddressTypeException.class, b.unixDomain());
    }

    /** An accept made while {@code bind} runs on another thread is refused as not yet bound or gets the connection, never a channel not yet listening (300 rounds). */
    @ParameterizedTest @EnumSource(value = Kind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void anAcceptRacingWithBindIsServed(Kind kind) throws Exception {
        assume(kind);
        int hung = 0;
        for (int i = 0; i < 300; i++) {
            try (FiberServerSocket srv = FiberIo.of(kind.transport).openServer()) {
                CompletableFuture<Object> r = new CompletableFuture<>();
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                Thread b = Thread.ofPlatform().start(() -> {
                    go.countDown();
                    for (;;) {
                        try {
                            r.complete(srv.accept(Duration.ofSeconds(2)));
                            return;
                        } catch (java.nio.channels.NotYetBoundException e) {
                            Thread.onSpinWait();
                        } catch (Throwable t) {
                            r.complete(t);
                            return;
                        }
                    }
                });
                go.await();
                srv.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                try (Socket c = new Socket()) {
                    c.connect(srv.localAddress(), 5000);
                    Object o = r.get(10, TimeUnit.SECONDS);
                    if (o instanceof FiberSocket fs) fs.close();
                    else hung++;
                }
                b.join();
            }
        }
        assertEquals(0, hung, "accepts that missed a connection made once bind returned");
    }

    /**
     * A null value or one of the wrong type is an {@link IllegalArgumentException} ("Invalid value"), as
     * {@code Socket.setOption} and {@code SocketChannel.setOption} throw, not a NullPointerException or a
     * ClassCastException from inside the transport.
     */
    @ParameterizedTest @EnumSource(Kind.class)
    @SuppressWarnings({"unchecked", "rawtypes"})
    void optionValuesThatAreNullOrOfTheWrongTypeAreIllegalArguments(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            Object nul = outcome(() -> { c.setOption(StandardSocketOptions.TCP_NODELAY, null); return "ok"; });
            Object wrong = outcome(() -> { c.setOption((SocketOption) StandardSocketOptions.TCP_NODELAY, 5); return "ok"; });
            assertInstanceOf(IllegalArgumentException.class, nul, "a null value: " + nul);
            assertInstanceOf(IllegalArgumentException.class, wrong, "an Integer for a Boolean option: " + wrong);
        }
    }

    /**
     * After the peer reset the connection, {@code shutdownOutput()} succeeds as the JDK's does (which
     * ignores the kernel's ENOTCONN), as {@code shutdownInput()} already does here; it must not fail with a
     * plain IOException wrapping Netty's NotYetConnectedException.
     */
    @ParameterizedTest @EnumSource(Kind.class)
    void shutdownOutputAfterTheResetOfAnUnreadConnectionSucceeds(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            Socket p = peer();
            p.setSoLinger(true, 0);
            p.close();                                     // sends RST; nothing read on this side yet
            Thread.sleep(100);
            Object out = outcome(() -> { c.shutdownOutput(); return "ok"; });
            assertEquals("ok", out);
            assertFalse(c.isClosed());
        }
    }

    /**
     * Stream code closes its streams in try-with-resources: closing the input stream closes the socket,
     * then the buffered output stream's close flushes, which for the JDK's socket stream is a no-op with
     * nothing left to send. Bobbin's must not turn a completed exchange into a ClosedChannelException.
     */
    @ParameterizedTest @EnumSource(Kind.class)
    void flushingAnOutputStreamAfterTheSocketClosedWithNothingPendingIsANoOp(Kind kind) throws Exception {
        assume(kind);
        java.io.OutputStream rawOut;
        InputStream rawIn;
        Closeable socket;
        if (kind == Kind.JDK) {
            Socket s = new Socket();
            s.connect(address(), 5000);
            rawOut = s.getOutputStream();
            rawIn = s.getInputStream();
            socket = s;
        } else {
            FiberSocket s = connectFiber(kind);
            rawOut = s.outputStream();
            rawIn = s.inputStream();
            socket = s;
        }
        Socket p = peer();
        Object outcome = outcome(() -> {
            try (socket;
                 java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(rawOut));
                 java.io.DataInputStream in = new java.io.DataInputStream(rawIn)) {
                out.writeInt(7);
                out.flush();
                p.getOutputStream().write(new byte[] {0, 0, 0, 8});
                return in.readInt();
            }
        });
        assertEquals(8, outcome);
        assertEquals(7, new java.io.DataInputStream(p.getInputStream()).readInt());
    }

    /**
     * The JDK's socket stream's {@code flush} does nothing, also once the socket is closed: a write that
     * returned has its bytes in the kernel, which still sends them after the close. Bobbin's write returns
     * with up to 64 KiB still queued, which the close drains to the peer; the same stream code (the input
     * stream's close closes the socket, then the BufferedOutputStream's close flushes) must not see an
     * exception for bytes that are delivered.
     */
    @SuppressWarnings("try")                           // the resource is there to be closed, in this order
    @ParameterizedTest @EnumSource(Kind.class)
    void flushingAnOutputStreamAfterTheSocketClosedWhileItsLastBytesDrainIsANoOp(Kind kind) throws Exception {
        assume(kind);
        java.io.OutputStream rawOut;
        InputStream rawIn;
        Closeable socket;
        if (kind == Kind.JDK) {
            Socket s = new Socket();
            s.setSendBufferSize(32 * 1024);
            s.connect(address(), 5000);
            rawOut = s.getOutputStream();
            rawIn = s.getInputStream();
            socket = s;
        } else {
            FiberSocket s = connectFiber(kind);
            s.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 32 * 1024);
            rawOut = s.outputStream();
            rawIn = s.inputStream();
            socket = s;
        }
        Socket p = peer();
        p.setReceiveBufferSize(32 * 1024);
        byte[] payload = new byte[4 << 20];
        new java.util.Random(5).nextBytes(payload);
        // a slow reader: the socket's last bytes are still on their way when the writer closes
        CompletableFuture<Long> received = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(200);
                InputStream pin = p.getInputStream();
                byte[] buf = new byte[4096];
                long total = 0;
                int n;
                while ((n = pin.read(buf)) > 0) {
                    total += n;
                    Thread.sleep(1);
                }
                received.complete(total);
            } catch (Throwable t) {
                received.completeExceptionally(t);
            }
        });
        Object outcome = outcome(() -> {
            try (socket;
                 java.io.OutputStream out = new java.io.BufferedOutputStream(rawOut);
                 InputStream in = rawIn) {
                out.write(payload);
                return "ok";
            }
        });
        assertEquals("ok", outcome, () -> kind + ": closing the streams after the last write threw " + outcome);
        assertEquals(payload.length, received.get(30, TimeUnit.SECONDS), "the peer received every byte");
    }

    /**
     * {@code available()} reports bytes that have arrived, as the JDK's socket stream does (FIONREAD):
     * code that polls {@code available()} before reading, so as never to block, must see the peer's bytes
     * eventually. Bobbin's returned 0 for as long as no read was made, since only a read fetches them.
     */
    @ParameterizedTest @EnumSource(Kind.class)
    void availableSeesBytesThatArrivedBeforeAnyRead(Kind kind) throws Exception {
        assume(kind);
        Closeable socket;
        InputStream in;
        if (kind == Kind.JDK) {
            Socket s = new Socket();
            s.connect(address(), 5000);
            in = s.getInputStream();
            socket = s;
        } else {
            FiberSocket s = connectFiber(kind);
            in = s.inputStream();
            socket = s;
        }
        try (socket) {
            byte[] sent = new byte[100];
            new java.util.Random(3).nextBytes(sent);
            peer().getOutputStream().write(sent);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            int avail;
            while ((avail = in.available()) == 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(avail > 0 && avail <= 100, "available() while 100 bytes have arrived: " + avail);
            assertArrayEquals(sent, in.readNBytes(100), "the bytes read after available() are the ones sent");
            assertEquals(0, in.available(), "nothing more has arrived");
        }
    }

    /**
     * SO_REUSEPORT, which {@code FiberSocket.setOption} lists among its options and the JDK's socket
     * supports on Linux, is set and read back on every transport, not refused with an
     * UnsupportedOperationException by epoll and io_uring (whose Netty socket configs lack the option).
     */
    @ParameterizedTest @EnumSource(Kind.class)
    void soReusePortIsSupportedOnSockets(Kind kind) throws Exception {
        assume(kind);
        Object set, get;
        if (kind == Kind.JDK) {
            try (Socket s = new Socket()) {
                set = outcome(() -> { s.setOption(StandardSocketOptions.SO_REUSEPORT, true); return "ok"; });
                get = outcome(() -> s.getOption(StandardSocketOptions.SO_REUSEPORT));
            }
        } else {
            try (FiberSocket s = connectFiber(kind)) {
                set = outcome(() -> { s.setOption(StandardSocketOptions.SO_REUSEPORT, true); return "ok"; });
                get = outcome(() -> s.getOption(StandardSocketOptions.SO_REUSEPORT));
            }
        }
        assertEquals("ok", set);
        assertEquals(Boolean.TRUE, get);
    }

    private static int readUntilData(Conn c, byte[] b) throws IOException {
        for (int i = 0; ; i++) {
            try {
                return c.read(b);
            } catch (SocketTimeoutException e) {
                if (i > 1000) throw e;
            }
        }
    }

    /**
     * Half close, the other way round from halfCloseLetsThePeerAnswerAfterEndOfStream: the peer sends its
     * request and shuts its output down, this side reads to the end of stream and then answers with more
     * than the socket buffers hold, to a peer that reads slowly. The whole answer must arrive; it did with
     * the JDK's socket and NIO, while epoll failed the write (Netty's ChannelOutputShutdownException, from
     * epoll_ctl ENOENT) and io_uring left the writer parked forever.
     */
    @ParameterizedTest @EnumSource(Kind.class)
    void aLargeAnswerAfterThePeersEndOfStreamArrivesWhole(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            c.setOption(StandardSocketOptions.SO_SNDBUF, 8192);
            Socket p = peer();
            p.shutdownOutput();                             // the request is complete
            assertEquals(-1, c.read(new byte[16]), "this side reads the end of the request");
            assertLargeWriteArrives(c, p, () -> null);
        }
    }

    /** As above, with the input ended by this side: shutdownInput() before the large write. */
    @ParameterizedTest @EnumSource(Kind.class)
    void aLargeWriteAfterShutdownInputArrivesWhole(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            c.setOption(StandardSocketOptions.SO_SNDBUF, 8192);
            Socket p = peer();
            c.shutdownInput();
            assertLargeWriteArrives(c, p, () -> null);
        }
    }

    /** As above, with the peer ending its stream while the large write already waits for room (this side never reads). */
    @ParameterizedTest @EnumSource(Kind.class)
    void aLargeWriteArrivesWholeWhenThePeerEndsItsStreamMidWrite(Kind kind) throws Exception {
        assume(kind);
        try (Conn c = kind.connect(address())) {
            c.setOption(StandardSocketOptions.SO_SNDBUF, 8192);
            Socket p = peer();
            assertLargeWriteArrives(c, p, () -> {
                Thread.sleep(200);                          // the writer fills the buffers and waits for room
                p.shutdownOutput();
                Thread.sleep(200);                          // then the peer starts reading
                return null;
            });
        }
    }

    /** Writes 4 MB and shuts the output, while {@code p} reads slowly after {@code beforeReading}; all must arrive. */
    private static void assertLargeWriteArrives(Conn c, Socket p, java.util.concurrent.Callable<?> beforeReading) throws Exception {
        java.util.concurrent.Callable<Void> pause = () -> {
            beforeReading.call();
            return null;
        };
        int size = 4 * 1024 * 1024;
        CompletableFuture<Object> written = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> written.complete(outcome(() -> {
            c.write(new byte[size]);
            c.shutdownOutput();
            return "ok";
        })));
        CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
            long total = 0;
            try {
                pause.call();
                InputStream in = p.getInputStream();
                byte[] buf = new byte[3000];
                for (int n, k = 0; (n = in.read(buf)) > 0; ) {
                    total += n;
                    if (++k % 200 == 0) Thread.sleep(1);
                }
            } catch (Exception e) {
                return -total - 1;
            }
            return total;
        }, r -> Thread.ofPlatform().daemon().start(r));
        Object w;
        try {
            w = written.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            w = "the writer still waits after 20 s";
        }
        assertEquals("ok", w, "the write");
        assertEquals(size, received.get(20, TimeUnit.SECONDS), "bytes the peer read");
    }
}
