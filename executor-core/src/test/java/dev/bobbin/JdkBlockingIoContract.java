package dev.bobbin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * JDK blocking I/O (Socket, ServerSocket, blocking channels, Pipe, DatagramSocket) in a Bobbin fiber
 * behaves as in a JDK virtual thread, which is the control: timeouts, interrupts, asynchronous closes,
 * blocked writes, thousands of blocked fibers, refused and timed-out connects. A subclass supplies the
 * schedulers ({@link #use}); each case runs on a JDK virtual thread and on a fiber of each.
 */
@Timeout(120)
@SuppressWarnings("try")   // sockets opened only to be closed at the end of their try
public abstract class JdkBlockingIoContract {
    private static List<FiberScheduler> schedulers = List.of();

    /** Called by a subclass's {@code @BeforeAll}: the schedulers whose fibers the cases run in, besides the JDK's. */
    protected static void use(FiberScheduler... s) {
        schedulers = List.of(s);
    }

    /** "jdk", then each scheduler's name. */
    static Stream<String> kinds() {
        return Stream.concat(Stream.of("jdk"), schedulers.stream().map(FiberScheduler::name));
    }

    @AfterAll
    static void close() {
        for (FiberScheduler s : schedulers) s.shutdownNow();
        schedulers = List.of();
    }

    static Thread.Builder builder(String kind) {
        if (kind.equals("jdk")) return Thread.ofVirtual();
        for (FiberScheduler s : schedulers) if (s.name().equals(kind)) return s.ofVirtual();
        throw new IllegalArgumentException(kind);
    }

    static <T> CompletableFuture<T> in(String kind, Callable<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        builder(kind).start(() -> {
            try {
                f.complete(body.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            throw e;
        }
    }

    static ServerSocket server() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    static void waitBlocked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            if (System.nanoTime() > deadline) fail("not blocked: " + t + " " + t.getState());
            Thread.sleep(1);
        }
        Thread.sleep(20);
    }

    static int fds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    // ---- timeouts --------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kinds")
    public void readTimeoutThenUsable(String kind) throws Exception {
        try (ServerSocket ss = server(); Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            String r = get(in(kind, () -> {
                c.setSoTimeout(100);
                long t0 = System.nanoTime();
                try {
                    c.getInputStream().read();
                    return "no timeout";
                } catch (SocketTimeoutException e) {
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    if (ms < 90) return "early " + ms;
                }
                a.getOutputStream().write(7);
                int b = c.getInputStream().read();
                return "timeout then " + b + " closed=" + c.isClosed();
            }));
            assertEquals("timeout then 7 closed=false", r);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    public void acceptTimeoutThenUsable(String kind) throws Exception {
        try (ServerSocket ss = server()) {
            String r = get(in(kind, () -> {
                ss.setSoTimeout(100);
                try {
                    ss.accept().close();
                    return "no timeout";
                } catch (SocketTimeoutException e) {
                    // expected
                }
                try (Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
                    return "accepted " + a.isConnected();
                }
            }));
            assertEquals("accepted true", r);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    public void datagramReceiveTimeout(String kind) throws Exception {
        try (DatagramSocket d = new DatagramSocket(0, InetAddress.getLoopbackAddress());
             DatagramSocket p = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            String r = get(in(kind, () -> {
                d.setSoTimeout(100);
                DatagramPacket pk = new DatagramPacket(new byte[10], 10);
                try {
                    d.receive(pk);
                    return "no timeout";
                } catch (SocketTimeoutException e) {
                    // expected
                }
                p.send(new DatagramPacket(new byte[] {1, 2, 3}, 3, d.getLocalSocketAddress()));
                d.receive(pk);
                return "got " + pk.getLength();
            }));
            assertEquals("got 3", r);
        }
    }

    // ---- interrupt -------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kinds")
    public void interruptSocketRead(String kind) throws Exception {
        try (ServerSocket ss = server(); Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            CompletableFuture<String> f = new CompletableFuture<>();
            Thread t = builder(kind).start(() -> {
                try {
                    c.getInputStream().read();
                    f.complete("returned");
                } catch (Throwable e) {
                    f.complete(e.getClass().getSimpleName() + ":" + e.getMessage() + " interrupted="
                            + Thread.currentThread().isInterrupted() + " closed=" + c.isClosed());
                }
            });
            waitBlocked(t);
            t.interrupt();
            assertEquals("SocketException:Closed by interrupt interrupted=true closed=true", f.get(30, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    public void interruptChannelReadAcceptConnectWrite(String kind) throws Exception {
        // read
        try (ServerSocketChannel ssc = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel c = SocketChannel.open(ssc.getLocalAddress()); SocketChannel a = ssc.accept()) {
            assertEquals("ClosedByInterruptException interrupted=true open=false", interruptIn(kind, () -> {
                c.read(ByteBuffer.allocate(10));
            }, () -> !c.isOpen()));
        }
        try (ServerSocketChannel ssc = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel c = SocketChannel.open(ssc.getLocalAddress()); SocketChannel a = ssc.accept()) {
            // write on a full buffer
            assertEquals("ClosedByInterruptException interrupted=true open=false", interruptIn(kind, () -> {
                ByteBuffer big = ByteBuffer.allocate(1 << 20);
                for (;;) {
                    big.clear();
                    a.write(big);
                }
            }, () -> !a.isOpen()));
        }
        // accept
        try (ServerSocketChannel ssc = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            assertEquals("ClosedByInterruptException interrupted=true open=false", interruptIn(kind, () -> {
                ssc.accept();
            }, () -> !ssc.isOpen()));
        }
    }

    interface Io { void run() throws Exception; }

    static String interruptIn(String kind, Io body, java.util.function.BooleanSupplier closed) throws Exception {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = builder(kind).start(() -> {
            try {
                body.run();
                f.complete("returned");
            } catch (Throwable e) {
                f.complete(e.getClass().getSimpleName() + " interrupted=" + Thread.currentThread().isInterrupted()
                        + " open=" + !closed.getAsBoolean());
            }
        });
        waitBlocked(t);
        t.interrupt();
        return f.get(30, TimeUnit.SECONDS);
    }

    // ---- close from another thread ----------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kinds")
    public void asyncCloseWakesBlockedFiber(String kind) throws Exception {
        try (ServerSocket ss = server(); Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            assertEquals("SocketException:Socket closed interrupted=false", closeIn(kind, () -> c.getInputStream().read(), c::close));
        }
        try (ServerSocket ss = server()) {
            assertEquals("SocketException:Socket closed interrupted=false", closeIn(kind, ss::accept, ss::close));
        }
        try (ServerSocketChannel ssc = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel c = SocketChannel.open(ssc.getLocalAddress()); SocketChannel a = ssc.accept()) {
            assertEquals("AsynchronousCloseException:null interrupted=false", closeIn(kind, () -> c.read(ByteBuffer.allocate(1)), c::close));
        }
        Pipe p = Pipe.open();
        assertEquals("AsynchronousCloseException:null interrupted=false", closeIn(kind, () -> p.source().read(ByteBuffer.allocate(1)), p.source()::close));
        p.sink().close();
        try (DatagramChannel d = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            assertEquals("AsynchronousCloseException:null interrupted=false", closeIn(kind, () -> d.receive(ByteBuffer.allocate(1)), d::close));
        }
    }

    static String closeIn(String kind, Callable<?> body, Io closer) throws Exception {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = builder(kind).start(() -> {
            try {
                body.call();
                f.complete("returned");
            } catch (Throwable e) {
                f.complete(e.getClass().getSimpleName() + ":" + e.getMessage() + " interrupted=" + Thread.currentThread().isInterrupted());
            }
        });
        waitBlocked(t);
        closer.run();
        return f.get(30, TimeUnit.SECONDS);
    }

    // ---- write blocked on full send buffer -------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kinds")
    public void blockedWriteWokenByPeerReading(String kind) throws Exception {
        try (ServerSocket ss = server(); Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            int total = 16 << 20;
            CompletableFuture<Integer> f = new CompletableFuture<>();
            Thread t = builder(kind).start(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    byte[] chunk = new byte[64 << 10];
                    for (int n = 0; n < total; n += chunk.length) out.write(chunk);
                    c.shutdownOutput();
                    f.complete(total);
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            });
            waitBlocked(t);
            InputStream in = a.getInputStream();
            long got = 0;
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) got += n;
            assertEquals(total, f.get(30, TimeUnit.SECONDS));
            assertEquals(total, got);
        }
    }

    // ---- many blocked fibers ------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kinds")
    public void manyBlockedFibersAllComplete(String kind) throws Exception {
        int n = 2000;
        int before = fds();
        try (ServerSocket ss = new ServerSocket(0, n, InetAddress.getLoopbackAddress())) {
            List<Socket> clients = new ArrayList<>();
            List<Socket> accepted = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                clients.add(new Socket(ss.getInetAddress(), ss.getLocalPort()));
                accepted.add(ss.accept());
            }
            AtomicInteger done = new AtomicInteger();
            CountDownLatch all = new CountDownLatch(n);
            List<Thread> fibers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Socket s = accepted.get(i);
                fibers.add(builder(kind).start(() -> {
                    try {
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        for (int r = 0; r < 3; r++) {
                            int b = in.read();
                            out.write(b);
                        }
                        done.incrementAndGet();
                    } catch (IOException e) {
                        // not counted as done: the assertion below names how many
                    } finally {
                        all.countDown();
                    }
                }));
            }
            for (int r = 0; r < 3; r++) {
                Thread.sleep(50);
                for (Socket c : clients) c.getOutputStream().write(r);      // a burst
                for (Socket c : clients) assertEquals(r, c.getInputStream().read());
            }
            assertTrue(all.await(30, TimeUnit.SECONDS), "stranded: " + all.getCount());
            assertEquals(n, done.get());
            for (Socket c : clients) c.close();
            for (Socket c : accepted) c.close();
        }
        assertTrue(fds() <= before + 5, "fds before " + before + " after " + fds());
    }

    // ---- connect timeout / refused ----------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kinds")
    public void connectRefusedAndTimeout(String kind) throws Exception {
        int port;
        try (ServerSocket ss = server()) {
            port = ss.getLocalPort();
        }
        String r = get(in(kind, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return "connected";
            } catch (IOException e) {
                return e.getClass().getSimpleName();
            }
        }));
        assertEquals("ConnectException", r);
    }

    /** A listener whose backlog is full: a further connect blocks (its SYN is dropped). */
    static List<Socket> fill(ServerSocket ss) throws IOException {
        List<Socket> fill = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Socket s = new Socket();
            try {
                s.connect(ss.getLocalSocketAddress(), 200);
                fill.add(s);
            } catch (SocketTimeoutException e) {
                s.close();
                break;
            }
        }
        return fill;
    }

    @ParameterizedTest
    @MethodSource("kinds")
    public void connectTimeoutAndInterrupt(String kind) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> filled = fill(ss);
            String r = get(in(kind, () -> {
                try (Socket s = new Socket()) {
                    s.connect(ss.getLocalSocketAddress(), 200);
                    return "connected";
                } catch (IOException e) {
                    return e.getClass().getSimpleName() + ":" + e.getMessage();
                }
            }));
            assertEquals("SocketTimeoutException:Connect timed out", r);
            Socket[] holder = new Socket[1];
            CompletableFuture<String> f = new CompletableFuture<>();
            Thread t = builder(kind).start(() -> {
                try (Socket s = new Socket()) {
                    holder[0] = s;
                    s.connect(ss.getLocalSocketAddress());
                    f.complete("connected");
                } catch (IOException e) {
                    f.complete(e.getClass().getSimpleName() + ":" + e.getMessage() + " interrupted=" + Thread.currentThread().isInterrupted());
                }
            });
            waitBlocked(t);
            t.interrupt();
            assertEquals("SocketException:Closed by interrupt interrupted=true", f.get(30, TimeUnit.SECONDS));
            try (SocketChannel ch = SocketChannel.open()) {
                assertEquals("ClosedByInterruptException interrupted=true open=false", interruptIn(kind, () -> {
                    ch.connect(ss.getLocalSocketAddress());
                }, () -> !ch.isOpen()));
            }
            for (Socket s : filled) s.close();
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    public void interruptSocketWriteAndClose(String kind) throws Exception {
        try (ServerSocket ss = server(); Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            CompletableFuture<String> f = new CompletableFuture<>();
            Thread t = builder(kind).start(() -> {
                try {
                    byte[] chunk = new byte[1 << 16];
                    for (;;) c.getOutputStream().write(chunk);
                } catch (Throwable e) {
                    f.complete(e.getClass().getSimpleName() + ":" + e.getMessage() + " interrupted="
                            + Thread.currentThread().isInterrupted() + " closed=" + c.isClosed());
                }
            });
            waitBlocked(t);
            t.interrupt();
            assertEquals("SocketException:Closed by interrupt interrupted=true closed=true", f.get(30, TimeUnit.SECONDS));
        }
        try (ServerSocket ss = server(); Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            assertEquals("SocketException:Socket closed interrupted=false", closeIn(kind, () -> {
                byte[] chunk = new byte[1 << 16];
                for (;;) c.getOutputStream().write(chunk);
            }, c::close));
        }
    }
}
