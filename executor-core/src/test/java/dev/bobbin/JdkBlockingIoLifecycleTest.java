package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(120)
@SuppressWarnings("try")   // sockets opened only to be closed at the end of their try
class JdkBlockingIoLifecycleTest {

    static SchedulerConfig config(String kind) {
        return switch (kind) {
            case "ws" -> SchedulerConfig.builder().name("lc-ws").parallelism(2).build();
            case "tpc" -> SchedulerConfig.builder().name("lc-tpc").parallelism(2).policy(SchedulingPolicy.THREAD_PER_CORE).build();
            case "single" -> SchedulerConfig.builder().name("lc-single").policy(SchedulingPolicy.SINGLE_THREAD).maxSpareCarriers(0).build();
            case "one" -> SchedulerConfig.builder().name("lc-one").parallelism(1).build();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static int fds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    /** N fibers blocked in JDK socket reads; shutdownNow: every one ends, the scheduler terminates. */
    @ParameterizedTest
    @ValueSource(strings = {"ws", "tpc", "single", "one"})
    void shutdownNowWhileBlockedInJdkReads(String kind) throws Exception {
        int n = 200;
        int before = fds();
        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        try (ServerSocket ss = new ServerSocket(0, n, InetAddress.getLoopbackAddress())) {
            List<Socket> clients = new ArrayList<>();
            FiberScheduler s = FiberScheduler.create(config(kind));
            CountDownLatch blocked = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort());
                Socket a = ss.accept();
                clients.add(c);
                s.start(() -> {
                    try (a) {
                        blocked.countDown();
                        a.getInputStream().read();
                        outcomes.merge("returned", 1, Integer::sum);
                    } catch (IOException e) {
                        outcomes.merge(e.getClass().getSimpleName() + ":" + e.getMessage() + ":" + Thread.currentThread().isInterrupted(), 1, Integer::sum);
                    }
                });
            }
            assertTrue(blocked.await(10, TimeUnit.SECONDS));
            Thread.sleep(100);
            List<Thread> interrupted = s.shutdownNow();
            assertEquals(n, interrupted.size());
            assertTrue(s.awaitTermination(Duration.ofSeconds(20)), "not terminated; outcomes " + outcomes + " " + s.stats());
            assertEquals(Map.of("SocketException:Closed by interrupt:true", n), outcomes);
            for (Socket c : clients) c.close();
        }
        Thread.sleep(100);
        assertTrue(fds() <= before + 5, "fds before " + before + " after " + fds());
    }

    /** shutdown (graceful) while fibers are blocked: not terminated until data comes, then every fiber ends. */
    @ParameterizedTest
    @ValueSource(strings = {"ws", "tpc", "single", "one"})
    void shutdownWaitsForBlockedReadersThenTerminates(String kind) throws Exception {
        int n = 100;
        try (ServerSocket ss = new ServerSocket(0, n, InetAddress.getLoopbackAddress())) {
            List<Socket> clients = new ArrayList<>();
            FiberScheduler s = FiberScheduler.create(config(kind));
            CountDownLatch blocked = new CountDownLatch(n);
            CountDownLatch done = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort());
                Socket a = ss.accept();
                clients.add(c);
                s.start(() -> {
                    try (a) {
                        blocked.countDown();
                        if (a.getInputStream().read() == 5) done.countDown();
                    } catch (IOException e) {
                        // not counted as done: the assertion below names how many
                    }
                });
            }
            assertTrue(blocked.await(10, TimeUnit.SECONDS));
            s.shutdown();
            assertFalse(s.awaitTermination(Duration.ofMillis(300)));
            for (Socket c : clients) c.getOutputStream().write(5);
            assertTrue(done.await(20, TimeUnit.SECONDS), "stranded " + done.getCount());
            assertTrue(s.awaitTermination(Duration.ofSeconds(20)));
            for (Socket c : clients) c.close();
        }
    }

    /** close() from a thread that gets interrupted while fibers are blocked in JDK reads: returns. */
    @ParameterizedTest
    @ValueSource(strings = {"ws", "tpc", "single", "one"})
    void interruptedCloseWhileBlockedInJdkReads(String kind) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
             Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort()); Socket a = ss.accept()) {
            FiberScheduler s = FiberScheduler.create(config(kind));
            CountDownLatch blocked = new CountDownLatch(1);
            s.start(() -> {
                try {
                    blocked.countDown();
                    a.getInputStream().read();
                } catch (IOException e) {
                    // expected
                }
            });
            blocked.await();
            Thread closer = Thread.ofPlatform().start(s::close);
            Thread.sleep(200);
            assertTrue(closer.isAlive(), "close waits for the blocked fiber");
            closer.interrupt();
            closer.join(20_000);
            assertFalse(closer.isAlive(), "close did not return after its interrupt");
            assertTrue(s.isTerminated());
        }
    }

    /** Selector.select in a fiber: wakeup, timeout, interrupt. */
    @ParameterizedTest
    @ValueSource(strings = {"jdk", "ws", "tpc", "single", "one"})
    void selectorInFiber(String kind) throws Exception {
        FiberScheduler s = kind.equals("jdk") ? null : FiberScheduler.create(config(kind));
        Thread.Builder b = s == null ? Thread.ofVirtual() : s.ofVirtual();
        try (Selector sel = Selector.open()) {
            String[] out = new String[3];
            Thread t = b.start(() -> {
                try {
                    long t0 = System.nanoTime();
                    int n = sel.select(100);
                    out[0] = "timeout " + n + " " + ((System.nanoTime() - t0) >= 90_000_000L);
                    n = sel.select();
                    out[1] = "woken " + n;
                    n = sel.select();
                    out[2] = "interrupted " + n + " " + Thread.currentThread().isInterrupted() + " open=" + sel.isOpen();
                } catch (IOException e) {
                    out[2] = e.toString();
                }
            });
            Thread.sleep(300);
            sel.wakeup();
            Thread.sleep(100);
            t.interrupt();
            assertTrue(t.join(Duration.ofSeconds(10)));
            assertEquals("timeout 0 true", out[0]);
            assertEquals("woken 0", out[1]);
            assertEquals("interrupted 0 true open=true", out[2]);
        } finally {
            if (s != null) s.close();
        }
    }
}
