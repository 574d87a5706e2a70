package dev.bobbin.http;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberServerSocket;
import io.netty.channel.ManualIoEventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A server's listening socket lives on a carrier loop of the scheduler that serves it, where its accepts
 * complete beside the acceptor and the connections, not on the runtime's fallback loop thread (a thread
 * of its own, which would cost every accepted connection a hand-off between threads): bind() binds it
 * from a fiber of that scheduler, made at bind for a server that makes its own. A server stopped before
 * it was started closes the scheduler its bind made.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ListenerHomeTest {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** The loop the listener lives on: a carrier's loop is a {@link ManualIoEventLoop}; the fallback loop is not. */
    private static Object home(BobbinHttpServer server) throws ReflectiveOperationException {
        FiberServerSocket l = server.core().listenerForTest();
        Field f = FiberServerSocket.class.getSuperclass().getDeclaredField("home");
        f.setAccessible(true);
        return f.get(l);
    }

    private static String ask(int port) throws IOException {
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port)) {
            c.setSoTimeout(10_000);                            // a hang guard
            c.getOutputStream().write("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1).lines().findFirst().orElse("");
        }
    }

    private static void serveAndStop(BobbinHttpServer s) throws IOException {
        s.createContext("/x", x -> {
            x.sendResponseHeaders(200, 2);
            try (OutputStream o = x.getResponseBody()) {
                o.write("ok".getBytes(StandardCharsets.ISO_8859_1));
            }
        });
        s.start();
        try {
            for (int i = 0; i < 20; i++) assertEquals("HTTP/1.1 200 OK", ask(s.getAddress().getPort()));
        } finally {
            s.stop(0);
        }
    }

    @Test
    void theListenerOfAServerWithItsOwnSchedulerLivesOnOneOfItsCarriers() throws Exception {
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        assertInstanceOf(ManualIoEventLoop.class, home(s), "the listener's loop");
        serveAndStop(s);
    }

    @Test
    void theListenerOfAServerOnAGivenSchedulerLivesOnOneOfItsCarriers() throws Exception {
        try (FiberScheduler given = dev.bobbin.uring.FiberIo.system().newScheduler("test-listener-home", 2)) {
            BobbinHttpServer s = BobbinHttpServer.create(ANY, 0, HttpServerOptions.builder().scheduler(given).build());
            assertInstanceOf(ManualIoEventLoop.class, home(s), "the listener's loop");
            serveAndStop(s);
        }
    }

    @Test
    void aServerStoppedBeforeItStartedClosesTheSchedulerItsBindMade() throws Exception {
        Set<String> before = carrierThreads();
        BobbinHttpServer s = BobbinHttpServer.create(ANY, 0);
        Set<String> made = carrierThreads();
        made.removeAll(before);
        assertFalse(made.isEmpty(), "bind made the server's scheduler");
        s.stop(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Set<String> left;
        while (!(left = carrierThreads().stream().filter(made::contains).collect(Collectors.toSet())).isEmpty()
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(Set.of(), left, "the scheduler's carriers after stop()");
    }

    /** Names of the live carrier threads of servers' own schedulers. */
    private static Set<String> carrierThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> n.startsWith("bobbin-http-") && n.contains("-carrier-")).collect(Collectors.toSet());
    }
}
