package dev.bobbin.integration;

import dev.bobbin.CapturedLogs;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.ConnectionEndpoint;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Apache HttpClient 5 classic (blocking I/O over JDK sockets, {@link PoolingHttpClientConnectionManager}) used
 * unchanged from fibers. Every case runs on the JDK's {@code newVirtualThreadPerTaskExecutor()} (the control)
 * and on {@link FiberExecutor#create()} and expects the same results, exception types, interrupt states and
 * pool statistics: a fiber waiting for a pooled connection waits in the pool's lock and condition (parking
 * the fiber), a fiber reading a response parks through the JDK's poller.
 *
 * <p>The servers: a JDK {@code HttpServer} created from the JDK's own provider
 * ({@code sun.net.httpserver.DefaultHttpServerProvider}, on platform threads; a plain {@code HttpServer.create}
 * would pick Bobbin's provider, which is on the class path) answers {@code /echo?n} with {@code ok n}; a
 * "silent" {@link ServerSocket} on platform threads accepts, reads the request and never answers, and records
 * when the client closes each connection.
 *
 * <p>Automatic retries are off ({@code disableAutomaticRetries()}), so each request is tried once and its
 * exception is the first one the client meets.
 *
 * <p>Behaviour that belongs to HttpClient and is the same on the control, named so nobody mistakes it for
 * Bobbin's: an interrupt while waiting for a pooled connection ends the request with HttpClient's
 * {@code RequestFailedException} ("Request aborted", the {@link InterruptedException} as its cause) and the
 * interrupt status set again; an interrupt while reading the response ({@code shutdownNow()}) closes the socket
 * under the read (the JDK's rule for a virtual thread blocked in a socket read) and reaches the caller as the
 * JDK's {@link java.net.SocketException}, the interrupt status still set; a failed connection is discarded with
 * an immediate close (a RST, not a FIN).
 */
@ParameterizedClass(name = "{0}")
@MethodSource("executors")
@org.junit.jupiter.api.Timeout(value = 60, unit = SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
class ApacheHttpClientOnBobbinTest {
    static final String JDK_PROVIDER = "sun.net.httpserver.DefaultHttpServerProvider";

    record Fibers(String name, boolean bobbin, Supplier<ExecutorService> factory) {
        @Override public String toString() { return name; }
    }

    static List<Fibers> executors() {
        return List.of(
                new Fibers("jdk", false, Executors::newVirtualThreadPerTaskExecutor),
                new Fibers("bobbin", true, FiberExecutor::create));
    }

    private final Fibers fibers;
    private CapturedLogs logs;
    private HttpServer server;
    private ExecutorService serverThreads;
    private final AtomicInteger served = new AtomicInteger();
    private volatile CountDownLatch gate = new CountDownLatch(0);   // /echo answers once it is open
    private Silent silent;
    private PoolingHttpClientConnectionManager pool;
    private CloseableHttpClient client;

    ApacheHttpClientOnBobbinTest(Fibers fibers) {
        this.fibers = fibers;
    }

    /**
     * A server that accepts, reads each request's head and never answers; counts requests read and connections
     * the client closed (with a FIN, or with a RST: HttpClient discards a failed connection with an immediate
     * close, {@code SO_LINGER} 0).
     */
    static final class Silent implements AutoCloseable {
        final ServerSocket listener;
        final Semaphore requests = new Semaphore(0);
        final Semaphore closedByClient = new Semaphore(0);
        final List<Socket> accepted = new CopyOnWriteArrayList<>();

        Silent() throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofPlatform().daemon().name("silent-accept").start(() -> {
                try {
                    while (true) {
                        Socket s = listener.accept();
                        accepted.add(s);
                        Thread.ofPlatform().daemon().name("silent-read").start(() -> read(s));
                    }
                } catch (IOException closed) {
                    // the listener closed: the case is over
                }
            });
        }

        private void read(Socket s) {
            try (InputStream in = s.getInputStream()) {
                int matched = 0;   // of "\r\n\r\n"
                int b;
                while ((b = in.read()) >= 0) {
                    matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
                    if (matched == 4) {
                        requests.release();
                        matched = 0;
                    }
                }
                closedByClient.release();   // the client's FIN
            } catch (IOException e) {
                closedByClient.release();   // the client's RST (an immediate close), or close() below once the case is over
            }
        }

        int port() { return listener.getLocalPort(); }

        @Override public void close() throws IOException {
            listener.close();
            for (Socket s : accepted) s.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        logs = new CapturedLogs("com.sun.net.httpserver", "dev.bobbin");
        HttpServerProvider jdk = (HttpServerProvider) Class.forName(JDK_PROVIDER).getConstructor().newInstance();
        server = jdk.createHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.createContext("/echo", exchange -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();   // the server stopping: the exchange is abandoned
                return;
            }
            served.incrementAndGet();   // before answering: the client may read the answer before this handler returns
            byte[] body = ("ok " + exchange.getRequestURI().getQuery()).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        serverThreads = Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        server.start();
        silent = new Silent();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (client != null) client.close();
            server.stop(0);
            serverThreads.close();
            silent.close();
        } finally {
            logs.close();
        }
        assertEquals(List.of(), logs.warnings().stream().map(CapturedLogs::describe).toList(), "nothing logged at WARNING or above");
    }

    private void newClient(int maxConnections) {
        pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnPerRoute(maxConnections).setMaxConnTotal(maxConnections).build();
        client = HttpClients.custom().setConnectionManager(pool).disableAutomaticRetries().build();
    }

    private String echo(int n) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/echo?" + n;
    }

    private HttpRoute echoRoute() {
        return new HttpRoute(new HttpHost("http", "127.0.0.1", server.getAddress().getPort()));
    }

    private String get(HttpGet request) throws IOException {
        assertEquals(fibers.bobbin(), FiberScheduler.current().isPresent(), "runs on a Bobbin fiber");
        return client.execute(request, response -> response.getCode() + " " + EntityUtils.toString(response.getEntity()));
    }

    /** The exception's type and the caller's interrupt status. */
    private static String outcome(Exception e) {
        return e.getClass().getSimpleName() + " interrupted=" + Thread.currentThread().isInterrupted();
    }

    private static String stats(PoolStats s) {
        return "leased=" + s.getLeased() + " pending=" + s.getPending() + " available=" + s.getAvailable();
    }

    private void awaitPending(int n) throws InterruptedException {
        while (pool.getTotalStats().getPending() < n) Thread.sleep(5);   // the class's @Timeout is the hang guard
    }

    @Test
    void twoHundredFibersShareTenPooledConnections() throws Exception {
        newClient(10);
        int n = 200;
        gate = new CountDownLatch(1);   // the first ten requests hold their connections until every other fiber waits
        List<Future<String>> results = new ArrayList<>();
        try (ExecutorService executor = fibers.factory().get()) {
            for (int i = 0; i < n; i++) {
                int k = i;
                results.add(executor.submit(() -> get(new HttpGet(echo(k)))));
            }
            awaitPending(n - 10);
            assertEquals("leased=10 pending=190 available=0", stats(pool.getTotalStats()), "ten connections, the other fibers wait for one");
            gate.countDown();
            for (int i = 0; i < n; i++) assertEquals("200 ok " + i, results.get(i).get());
        }
        assertEquals(n, served.get(), "every request served");
        PoolStats s = pool.getTotalStats();
        assertEquals(0, s.getLeased(), "no connection leased");
        assertEquals(0, s.getPending(), "nobody waiting");
        assertTrue(s.getAvailable() >= 1 && s.getAvailable() <= 10, "all connections back in the pool: " + stats(s));
    }

    @Test
    void connectionRequestTimeoutWhileThePoolIsExhausted() throws Exception {
        newClient(1);
        ConnectionEndpoint held = pool.lease("held", echoRoute(), Timeout.ofSeconds(5), null).get(Timeout.ofSeconds(5));
        try (ExecutorService executor = fibers.factory().get()) {
            Future<String> waiter = executor.submit(() -> {
                HttpGet request = new HttpGet(echo(1));
                request.setConfig(RequestConfig.custom().setConnectionRequestTimeout(Timeout.ofMilliseconds(100)).build());
                Exception e = assertThrows(ConnectionRequestTimeoutException.class, () -> get(request));
                return outcome(e);
            });
            assertEquals("ConnectionRequestTimeoutException interrupted=false", waiter.get());
        }
        pool.release(held, null, TimeValue.ZERO_MILLISECONDS);
        assertEquals(0, served.get(), "the timed-out request never reached the server");
        assertEquals("leased=0 pending=0 available=0", stats(pool.getTotalStats()));
        try (ExecutorService executor = fibers.factory().get()) {
            assertEquals("200 ok 2", executor.submit(() -> get(new HttpGet(echo(2)))).get(), "the pool serves again");
        }
    }

    @Test
    void interruptedWhileWaitingForAPooledConnection() throws Exception {
        newClient(1);
        ConnectionEndpoint held = pool.lease("held", echoRoute(), Timeout.ofSeconds(5), null).get(Timeout.ofSeconds(5));
        CompletableFuture<Thread> waiting = new CompletableFuture<>();
        try (ExecutorService executor = fibers.factory().get()) {
            Future<String> waiter = executor.submit(() -> {
                waiting.complete(Thread.currentThread());
                Exception e = assertThrows(Exception.class, () -> get(new HttpGet(echo(1))));
                return outcome(e) + (e.getCause() == null ? "" : " cause=" + e.getCause().getClass().getSimpleName());
            });
            Thread fiber = waiting.get();
            awaitPending(1);
            fiber.interrupt();
            assertEquals(EXPECTED_INTERRUPTED_LEASE, waiter.get());
        }
        pool.release(held, null, TimeValue.ZERO_MILLISECONDS);
        assertEquals(0, served.get());
        assertEquals("leased=0 pending=0 available=0", stats(pool.getTotalStats()));
    }

    static final String EXPECTED_INTERRUPTED_LEASE = "RequestFailedException interrupted=true cause=InterruptedException";

    @Test
    void responseTimeoutOnAServerThatDoesNotAnswer() throws Exception {
        newClient(10);
        try (ExecutorService executor = fibers.factory().get()) {
            Future<String> caller = executor.submit(() -> {
                HttpGet request = new HttpGet("http://127.0.0.1:" + silent.port() + "/");
                request.setConfig(RequestConfig.custom().setResponseTimeout(Timeout.ofMilliseconds(200)).build());
                Exception e = assertThrows(SocketTimeoutException.class, () -> get(request));
                return outcome(e);
            });
            assertEquals("SocketTimeoutException interrupted=false", caller.get());
        }
        assertTrue(silent.closedByClient.tryAcquire(1, 30, SECONDS), "the timed-out connection is closed, not pooled");
        assertEquals("leased=0 pending=0 available=0", stats(pool.getTotalStats()));
    }

    @Test
    void shutdownNowWhileFibersBlockInReads() throws Exception {
        newClient(10);
        int n = 5;
        List<String> outcomes = new CopyOnWriteArrayList<>();
        ExecutorService executor = fibers.factory().get();
        try {
            for (int i = 0; i < n; i++) {
                executor.execute(() -> {
                    Exception e = assertThrows(IOException.class,
                            () -> get(new HttpGet("http://127.0.0.1:" + silent.port() + "/")));
                    outcomes.add(outcome(e));
                });
            }
            silent.requests.acquire(n);   // every request sent: its fiber reads (or is about to read) the response
            assertEquals(List.of(), executor.shutdownNow(), "no task was waiting to start");
            assertTrue(executor.awaitTermination(30, SECONDS), "every fiber ends");
        } finally {
            executor.close();
        }
        assertEquals(Collections.nCopies(n, EXPECTED_SHUTDOWN_NOW), outcomes);
        assertTrue(silent.closedByClient.tryAcquire(n, 30, SECONDS), "every connection closed");
        assertEquals("leased=0 pending=0 available=0", stats(pool.getTotalStats()));
    }

    static final String EXPECTED_SHUTDOWN_NOW = "SocketException interrupted=true";
}
