package dev.bobbin.http;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * What {@link BobbinHttpServer} and {@link BobbinHttpsServer} share: the listening socket, contexts,
 * lifecycle, connections and their timeouts.
 *
 * <p>Fibers. {@link #start} starts three kinds of fiber on the server's scheduler: one acceptor, one
 * {@link Connection} per accepted socket (placed round-robin over the carriers, so each connection's
 * socket lives on its carrier's io_uring ring), and one sweeper that closes connections past their
 * deadline (idle, slow head, stalled body read or write; see {@link Connection}). With no executor set,
 * handlers run on the connection fibers; with one, on the executor while the connection fiber waits.
 *
 * <p>The listener lives on a carrier's loop of the serving scheduler: bind() makes the server's own
 * scheduler (unless one is given) and binds from one of its fibers, so accepts complete beside the
 * acceptor and the connections rather than on the runtime's fallback loop thread, a hand-off between
 * threads per accepted connection (bench/README.md, "Accepting under load"). If no scheduler can be had
 * at bind (none can be made, or the given one is shut down), the listener is bound from the caller and
 * lives on the fallback loop, and start() makes the scheduler as before.
 *
 * <p>Lifecycle: NEW (bound or not) -> STARTED -> STOPPED, each once. {@link #stop} closes the listener
 * at once, closes idle connections, lets the requests in progress (exchanges running, heads arriving,
 * pipelined requests a connection has received, responses not yet written out) finish for up to the delay, then closes
 * every connection, waits for the connection fibers to end, stops the sweeper and, if the server made
 * its own scheduler, closes it: afterwards no fiber or thread of the server is left. Two exceptions: a
 * stop called by a handler leaves that handler's connection, and the sweeper that keeps its timeouts,
 * until its response is out; and when the server made its own scheduler, handlers on its fibers that
 * have not returned are interrupted (closeInterrupting), while on a scheduler the application gave they
 * run on after stop returns.
 */
final class ServerCore {
    static final System.Logger LOG = System.getLogger("dev.bobbin.http");
    private static final int NEW = 0, STARTED = 1, STOPPED = 2;

    private final HttpServer owner;
    private final boolean https;
    private final HttpServerOptions options;
    private final FiberIo io;
    private final ContextTable contexts = new ContextTable();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder bytesIn = new LongAdder(), bytesOut = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final AtomicInteger refusing = new AtomicInteger(); // refusals lingering now
    private final FailureLog failures = new FailureLog(LOG);
    private final CopyOnWriteArrayList<ExchangeObserver> observers = new CopyOnWriteArrayList<>();
    private volatile Executor executor;
    private volatile HttpsConfigurator httpsConfigurator;
    private FiberServerSocket listener;            // guarded by this
    private int state = NEW;                       // guarded by this
    private boolean started;                       // guarded by this: start() succeeded once (the JDK's "already started")
    private volatile boolean stopping;
    private final java.util.concurrent.atomic.AtomicLong stopDeadline = new java.util.concurrent.atomic.AtomicLong(); // nanoTime; a later stop() may bring it forward
    private final java.util.concurrent.CompletableFuture<Void> stopDone = new java.util.concurrent.CompletableFuture<>();
    private FiberScheduler scheduler;              // set by start
    private boolean ownsScheduler;
    private FiberScheduler prepared;               // guarded by this: the scheduler bind() bound on, which start() uses; null if none
    private boolean ownsPrepared;                  // guarded by this: bind() made it
    private static final AtomicInteger SERVER_NUMBERS = new AtomicInteger(); // names the schedulers of servers on ephemeral ports
    private Thread acceptor, sweeper;
    private Thread keepAlive;                      // set by start; holds the JVM alive while started (see start)
    private final CountDownLatch released = new CountDownLatch(1); // stop() lets keepAlive end
    /** A handler's connection that called stop(): keepAlive ends once it closes, its response out (see stop). */
    private volatile Connection stoppedFrom;
    private int nextCarrier;                       // acceptor only; in [0, parallelism)
    /** Test hook, null otherwise: runs on a connection's fiber after a head's parse, before its exchange starts. */
    volatile Consumer<Connection> headParsedForTest;   // set by a test's thread, read by the fibers

    ServerCore(HttpServer owner, boolean https, HttpServerOptions options) {
        this.owner = owner;
        this.https = https;
        this.options = Objects.requireNonNull(options, "options");
        this.io = options.runtime();
    }

    HttpServerOptions options() { return options; }
    ContextTable contexts() { return contexts; }
    Executor executor() { return executor; }
    FailureLog failures() { return failures; }
    boolean isStopping() { return stopping; }
    /** Whether stop() has returned (a handler that stopped its own server may still be answering). */
    boolean isStopped() { return stopDone.isDone(); }
    /** For tests: the listening socket, or null before bind. */
    synchronized FiberServerSocket listenerForTest() { return listener; }
    /** For tests: whether a connection has a request in progress ({@link Connection#busy}), which stop() lets finish. */
    boolean requestInProgressForTest() { return connections.stream().anyMatch(Connection::busy); }
    void bytesIn(long n) { bytesIn.add(n); }
    void bytesOut(long n) { bytesOut.add(n); }
    long bytesIn() { return bytesIn.sum(); }
    long bytesOut() { return bytesOut.sum(); }
    int activeConnections() { return open.get(); }
    long refusedConnections() { return refused.sum(); }

    /** Refused connections answered and lingering now; at most {@link HttpTunables#MAX_LINGERING_REFUSALS}. */
    int lingeringRefusals() { return refusing.get(); }
    long failureCount() { return failures.count(); }
    synchronized FiberScheduler scheduler() { return scheduler; }
    /** Adds {@code o} unless an equal observer is there; true if added. */
    boolean addObserver(ExchangeObserver o) { return observers.addIfAbsent(o); }
    void removeObserver(ExchangeObserver o) { observers.remove(o); }

    /** Runs {@code action} once the server is stopped (at once if it is); exceptions it throws are ignored. */
    void onStopped(Runnable action) {
        Objects.requireNonNull(action, "action");
        stopDone.whenComplete((v, e) -> {
            try {
                action.run();
            } catch (RuntimeException ignored) {
                // a faulty action must not disturb stop()
            }
        });
    }

    synchronized void bind(InetSocketAddress addr, int backlog) throws IOException {
        if (listener != null) throw new BindException("HttpServer already bound");   // as the JDK's: before the address
        Objects.requireNonNull(addr, "addr");
        // HttpServer.bind declares IOException only (the JDK's provider: ClosedChannelException); a server is
        // started only once bound, so the state here is NEW or STOPPED
        if (state != NEW) throw new BindException("HttpServer " + (state == STARTED ? "started" : "stopped"));
        // the JDK's provider binds through a ServerSocket, which reports an unresolved address with an
        // IOException (a channel's UnresolvedAddressException is unchecked, and HttpServer.bind declares IOException)
        if (addr.isUnresolved()) throw new java.net.SocketException("Unresolved address");
        FiberServerSocket s = io.openServer();          // no descriptor: a SocketException, as the JDK's provider's
        int n = backlog > 0 ? backlog : HttpTunables.DEFAULT_BACKLOG;
        FiberScheduler on = options.scheduler();
        boolean owns = on == null;
        try {
            if (owns) on = newScheduler(addr.getPort() != 0 ? Integer.toString(addr.getPort()) : "server" + SERVER_NUMBERS.incrementAndGet());
            if (on == null || !bindOn(on, s, addr, n)) s.bind(addr, n);
        } catch (IOException | RuntimeException | Error e) {
            s.close();
            if (owns && on != null) on.close();
            throw e;
        }
        listener = s;
        prepared = on;
        ownsPrepared = owns && on != null;
    }

    /** The server's own scheduler: one carrier per CPU, named {@code bobbin-http-<suffix>}. */
    private FiberScheduler ownScheduler(String suffix) {
        return io.newScheduler("bobbin-http-" + suffix, Runtime.getRuntime().availableProcessors());
    }

    /** {@link #ownScheduler}, or null if the runtime cannot make one now. */
    private FiberScheduler newScheduler(String suffix) {
        try {
            return ownScheduler(suffix);
        } catch (RuntimeException e) {              // e.g. no descriptor for a carrier's ring: start() tries again
            LOG.log(System.Logger.Level.DEBUG, "bind: no scheduler yet, the listener is bound off the carriers", e);
            return null;
        }
    }

    /**
     * Binds {@code s} from a fiber of {@code on}, so that the listening socket lives on one of that
     * scheduler's carrier loops: accepts then complete where the acceptor and the connections run, not
     * on the runtime's fallback loop thread, which costs every accepted connection a hand-off between
     * threads. False, and {@code s} untouched, if {@code on} refuses the fiber (it is shut down).
     */
    private static boolean bindOn(FiberScheduler on, FiberServerSocket s, InetSocketAddress addr, int backlog) throws IOException {
        java.util.concurrent.CompletableFuture<Void> bound = new java.util.concurrent.CompletableFuture<>();
        try {
            on.start(() -> {
                try {
                    s.bind(addr, backlog);
                    bound.complete(null);
                } catch (Throwable t) {
                    bound.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return false;
        }
        boolean interrupted = false;                // HttpServer.bind, as a ServerSocket's bind, is not interruptible
        try {
            for (;;) {
                try {
                    bound.get();
                    return true;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable t = e.getCause();
                    if (t instanceof IOException x) throw x;
                    if (t instanceof RuntimeException x) throw x;
                    if (t instanceof Error x) throw x;
                    throw new IOException(t);
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    synchronized InetSocketAddress address() {
        return listener == null ? null : listener.localAddress();
    }

    synchronized void setExecutor(Executor e) {
        if (started) throw new IllegalStateException("server already started");
        executor = e;
    }

    void setHttpsConfigurator(HttpsConfigurator c) {
        Objects.requireNonNull(c, "config");
        synchronized (this) {
            if (started) throw new IllegalStateException("server already started");
            httpsConfigurator = c;
        }
    }

    HttpsConfigurator httpsConfigurator() { return httpsConfigurator; }

    synchronized void start() {
        if (state != NEW) throw new IllegalStateException("server in wrong state: " + (state == STARTED ? "started" : "stopped"));
        if (listener == null) throw new IllegalStateException("server not bound");
        if (https && httpsConfigurator == null) throw new IllegalStateException("HttpsConfigurator not set");
        FiberScheduler s = prepared != null ? prepared : options.scheduler();
        ownsScheduler = prepared != null ? ownsPrepared : s == null;
        if (s == null) s = ownScheduler(Integer.toString(listener.localAddress().getPort()));
        prepared = null;                             // start() owns it now, and stop() closes it if the server made it
        FiberServerSocket l = listener;
        scheduler = s;                               // before the acceptor, which reads it
        try {
            acceptor = s.start(() -> acceptLoop(l));
        } catch (RuntimeException | Error e) {      // a given scheduler that is shut down: nothing started
            scheduler = null;
            if (ownsScheduler) s.close();
            throw e;
        }
        state = STARTED;
        started = true;
        // The carriers are daemon threads; the JDK's provider serves from a dispatcher thread that is a daemon
        // only if the starting thread is, so a main() that starts a server and returns goes on serving. This
        // platform thread, a daemon exactly when the caller is (the builder's default), does the same until stop().
        // A handler that stopped its own server: its connection hands the response to the socket and closes,
        // and the socket's loop writes it out after that; with the server's own scheduler, which that stop
        // shut down, the thread also waits (bounded) for its termination, when every loop has run its work.
        FiberScheduler own = ownsScheduler ? s : null;
        keepAlive = Thread.ofPlatform().name("bobbin-http-" + l.localAddress().getPort() + "-alive")
                .inheritInheritableThreadLocals(false).start(() -> {
                    boolean interrupted = false;
                    while (released.getCount() > 0) {
                        try {
                            released.await();
                        } catch (InterruptedException e) {
                            interrupted = true;      // only stop() ends it
                        }
                    }
                    if (own != null && stoppedFrom != null) {
                        try {
                            own.awaitTermination(Duration.ofNanos(HttpTunables.STOP_FIBER_WAIT_NANOS));
                        } catch (InterruptedException e) {
                            interrupted = true;
                        }
                    }
                    if (interrupted) Thread.currentThread().interrupt();
                });
        sweeper = s.start(this::sweepLoop);          // if this fails the acceptor runs; stop() ends it
    }

    // ---- contexts -----------------------------------------------------------------------------------

    HttpContext createContext(String path, HttpHandler handler) {
        ServerContext c = new ServerContext(path, handler, owner);
        contexts.add(c);
        return c;
    }

    void removeContext(String path) {
        contexts.remove(path);
    }

    void removeContext(HttpContext context) {
        Objects.requireNonNull(context, "context");
        if (!(context instanceof ServerContext)) throw new IllegalArgumentException("wrong HttpContext type");
        contexts.remove(context);
    }

    // ---- accepting ----------------------------------------------------------------------------------

    private void acceptLoop(FiberServerSocket l) {
        int parallelism = scheduler.parallelism();
        for (;;) {
            FiberSocket s;
            try {
                s = l.accept();
            } catch (ClosedChannelException e) {
                return;                              // stop() closed the listener
            } catch (IOException e) {
                if (stopping || l.isClosed()) return;
                failures.log("accept failed", e);    // descriptor exhaustion is backed off inside accept
                continue;
            }
            if (stopping) {
                s.close();
                return;
            }
            if (open.incrementAndGet() > options.maxConnections()) {
                open.decrementAndGet();
                refused.increment();
                if (refusing.incrementAndGet() > HttpTunables.MAX_LINGERING_REFUSALS) {
                    refusing.decrementAndGet();
                    s.close();                       // a flood: no 503, no linger
                    continue;
                }
                try {
                    scheduler.start(() -> {
                        try {
                            refuse(s);
                        } finally {
                            refusing.decrementAndGet();
                        }
                    });
                } catch (RuntimeException e) {       // the scheduler is shutting down
                    refusing.decrementAndGet();
                    schedulerRefused(l, e);
                    s.close();
                    return;
                }
                continue;
            }
            Wire wire;
            try {
                wire = https ? tlsWire(s) : new PlainWire(s);
            } catch (RuntimeException | Error e) {   // the application's configurator: as the JDK's provider, only this connection fails
                open.decrementAndGet();
                failures.log("TLS setup failed", e);
                s.close();
                continue;
            }
            Connection c = new Connection(this, wire);
            connections.add(c);
            try {
                scheduler.startOn(nextCarrier, c);
                nextCarrier = nextCarrier + 1 == parallelism ? 0 : nextCarrier + 1;   // round robin, never overflowing
            } catch (RuntimeException e) {           // the scheduler is shutting down
                connections.remove(c);
                open.decrementAndGet();
                schedulerRefused(l, e);
                wire.close();
                return;
            }
        }
    }

    /**
     * The scheduler refused a connection's fiber: it is shut down (by stop(), or by its owner under a running
     * server). The acceptor ends, and so the listener closes: a client that connected later would otherwise
     * wait for ever in its backlog, while the JDK's provider, whose executor refuses, closes each connection.
     * Called before the refused connection closes, so its client sees the close after the warning.
     */
    private void schedulerRefused(FiberServerSocket l, RuntimeException e) {
        if (!stopping) {
            LOG.log(System.Logger.Level.WARNING, "the server on {0} accepts no more connections: its scheduler ''{1}'' is shut down ({2}); stop() the server",
                    l.localAddress(), scheduler.name(), e.toString());
        }
        l.close();
    }

    private Wire tlsWire(FiberSocket s) {
        HttpsConfigurator conf = httpsConfigurator;
        SSLContext ctx = conf.getSSLContext();
        InetSocketAddress peer = s.remoteAddress();
        SSLEngine engine = ctx.createSSLEngine(peer.getHostString(), peer.getPort());
        engine.setUseClientMode(false);
        Parameters p = new Parameters(conf, peer);
        conf.configure(p);
        SSLParameters sp = p.sslParameters;
        if (sp != null) {
            engine.setSSLParameters(sp);
        } else {
            applyLegacy(p, engine);
        }
        return new TlsWire(s, engine);
    }

    @SuppressWarnings("deprecation")   // configurators written before SSLParameters still set these
    private static void applyLegacy(HttpsParameters p, SSLEngine engine) {
        // as the JDK's provider: a list the engine refuses (a name it does not support) leaves its defaults
        if (p.getCipherSuites() != null) {
            try {
                engine.setEnabledCipherSuites(p.getCipherSuites());
            } catch (IllegalArgumentException e) {
                LOG.log(System.Logger.Level.DEBUG, "the HttpsConfigurator's cipher suites are ignored: {0}", e.getMessage());
            }
        }
        if (p.getNeedClientAuth()) engine.setNeedClientAuth(true);
        else if (p.getWantClientAuth()) engine.setWantClientAuth(true);
        if (p.getProtocols() != null) {
            try {
                engine.setEnabledProtocols(p.getProtocols());
            } catch (IllegalArgumentException e) {
                LOG.log(System.Logger.Level.DEBUG, "the HttpsConfigurator's protocols are ignored: {0}", e.getMessage());
            }
        }
    }

    /** Answers 503 to a connection over the limit and closes it (plain only: a TLS client just sees a close). */
    private void refuse(FiberSocket s) {
        try (s) {
            if (https) return;
            byte[] answer = ("HTTP/1.1 503 " + StatusLines.reason(503) + "\r\nContent-length: 0\r\nConnection: close\r\n"
                    + "Date: " + DateHeader.now() + "\r\n\r\n").getBytes(ISO_8859_1);
            s.write(ByteBuffer.wrap(answer));
            bytesOut(answer.length);
            s.flush();
            s.shutdownOutput();
            long deadline = System.nanoTime() + HttpTunables.LINGER_NANOS;   // for the whole linger, not per read
            ByteBuffer drop = ByteBuffer.allocate(4096);
            long dropped = 0;
            while (dropped < HttpTunables.LINGER_BYTES) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                s.setReadTimeout(Duration.ofNanos(left));
                int n = s.read(drop.clear());
                if (n < 0) break;
                dropped += n;
            }
        } catch (IOException e) {
            // the client is gone or slow: closing either way
        }
    }

    void connectionClosed(Connection c) {
        if (connections.remove(c)) open.decrementAndGet();
        if (c == stoppedFrom) released.countDown();  // Dekker with stop: removed, then stoppedFrom read
    }

    void exchangeFinished(Exchange x) {
        if (observers.isEmpty()) return;
        long nanos = System.nanoTime() - x.startNanos;
        for (ExchangeObserver o : observers) {
            try {
                o.exchangeFinished(x.getRequestMethod(), x.getResponseCode(), x.context().getPath(), !x.closeAfter, nanos);
            } catch (RuntimeException e) {
                failures.log("an exchange observer threw", e);
            }
        }
    }

    // ---- timeouts -----------------------------------------------------------------------------------

    private void sweepLoop() {
        long shortest = Math.min(options.headerReadTimeout().toNanos(), Math.min(options.idleTimeout().toNanos(), options.ioTimeout().toNanos()));
        long interval = Math.clamp(shortest / 4, HttpTunables.SWEEP_MIN_NANOS, HttpTunables.SWEEP_MAX_NANOS);
        while (!stopping || !connections.isEmpty()) {
            try {
                TimeUnit.NANOSECONDS.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            sweep(System.nanoTime());
        }
    }

    private void sweep(long now) {
        for (Connection c : connections) {
            long d = c.nextDeadline();
            if (d == 0 || now - d < 0) continue;
            switch (c.phase()) {
                case Connection.IDLE -> { if (c.toPhase(Connection.IDLE, Connection.CLOSED)) c.closeNow(); }
                case Connection.HEAD -> { if (c.toPhase(Connection.HEAD, Connection.CLOSED)) sendTimeout(c, now); }
                case Connection.BUSY -> { if (c.toPhase(Connection.BUSY, Connection.CLOSED)) c.closeNow(); }
                default -> {                         // CLOSED: a 408 still waiting for its client, or a stale deadline
                    c.deadline = 0;
                    c.readDeadline = 0;
                    c.closeNow();
                }
            }
        }
    }

    /** Sends a 408 on a fiber of its own (see Connection's timeouts); the sweeper closes it at the io timeout. */
    private void sendTimeout(Connection c, long now) {
        c.deadline = now + options.ioTimeout().toNanos();   // volatile; read by a later sweep
        try {
            scheduler.start(c::timeOutHead);
        } catch (RuntimeException e) {                       // the scheduler is shutting down
            c.closeNow();
        }
    }

    /** Serves a connection over {@code wire} as if accepted: tests drive the server through scripted wires. */
    void serveForTest(Wire wire) {
        open.incrementAndGet();
        Connection c = new Connection(this, wire);
        connections.add(c);
        scheduler.start(c);
    }

    // ---- stopping -----------------------------------------------------------------------------------

    void stop(int delaySeconds) {
        if (delaySeconds < 0) throw new IllegalArgumentException("negative delay parameter");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(delaySeconds);
        FiberServerSocket l;
        FiberScheduler unstarted = null;             // the scheduler bind() made for a server never started
        boolean wasStarted, later = false;
        synchronized (this) {
            if (state == STOPPED) {
                later = true;
                l = null;
                wasStarted = false;
            } else {
                wasStarted = state == STARTED;
                state = STOPPED;
                stopping = true;
                stopDeadline.set(deadline);
                l = listener;
                if (ownsPrepared) unstarted = prepared;
                prepared = null;
            }
        }
        if (later) {
            // another thread is stopping (or has stopped) the server: this call's delay may be shorter, and
            // like that one it returns only once the server is stopped
            stopDeadline.accumulateAndGet(deadline, (a, b) -> b - a < 0 ? b : a);
            if (!stopDone.isDone() && !calledFromTheServer()) stopDone.join();
            return;
        }
        Connection mine = null;
        try {
            mine = stopStarted(l, wasStarted);
            if (unstarted != null) unstarted.close();   // after the listener, which lives on one of its loops
        } finally {
            // The JVM may exit now, as after the JDK's provider's stop; but a handler that stopped its own server
            // has its response still to go out (its connection sends it once the handler returns), which the
            // JDK's provider has written by now: the JVM then stays until that connection closes.
            if (mine != null) {
                stoppedFrom = mine;                  // Dekker with connectionClosed: stoppedFrom set, then the set read
                if (!connections.contains(mine)) released.countDown();
            } else {
                released.countDown();
                Thread k = keepAlive;                // written by start() under this lock, before stop's state change
                if (k != null) join(k, HttpTunables.STOP_FIBER_WAIT_NANOS);
            }
            stopDone.complete(null);
        }
    }

    /** Whether the current thread is one of the server's (a handler's, or a fiber of its own scheduler), which a stop cannot wait for. */
    private boolean calledFromTheServer() {
        Thread self = Thread.currentThread();
        if (connections.stream().anyMatch(c -> c.handlerThread == self)) return true;
        FiberScheduler s = scheduler;
        return s != null && FiberScheduler.current().orElse(null) == s;
    }

    /** Stops a server; returns the connection of the handler that called it, if one did (see stop). */
    private Connection stopStarted(FiberServerSocket l, boolean wasStarted) {
        if (l != null) l.close();
        if (!wasStarted) return null;
        // idle connections close now; one whose request head is arriving finishes it, as an exchange in
        // progress does (the JDK's provider counts it among its requests in progress), within the delay, and
        // so do pipelined requests it has received (see Connection.serve; the JDK's provider handles buffered
        // requests while it stops too, but may close under them once its last exchange ends)
        for (Connection c : connections) {
            if (c.toPhase(Connection.IDLE, Connection.CLOSED)) c.closeNow();
        }
        // stop() may be called by a handler (a shutdown endpoint): its own exchange ends only after it returns
        Thread self = Thread.currentThread();
        Connection mine = connections.stream().filter(c -> c.handlerThread == self).findFirst().orElse(null);
        while (System.nanoTime() - stopDeadline.get() < 0 && connections.stream().anyMatch(c -> c != mine && c.busy())) {
            sleep(HttpTunables.STOP_POLL_NANOS);
        }
        for (Connection c : connections) {
            if (c != mine) c.closeNow();             // the caller's own response goes out once it returns
        }
        long fiberDeadline = System.nanoTime() + HttpTunables.STOP_FIBER_WAIT_NANOS;
        for (Connection c : connections) {
            Thread t = c.thread;
            long left = fiberDeadline - System.nanoTime();
            if (t != null && c != mine && left > 0) join(t, left);
        }
        join(acceptor, Math.max(1, fiberDeadline - System.nanoTime()));
        if (mine == null) {
            if (sweeper != null) sweeper.interrupt();   // null if start() failed to start it
            join(sweeper, Math.max(1, fiberDeadline - System.nanoTime()));
        }
        // else the sweeper goes on until the caller's connection has closed (its loop ends with the last
        // connection): the response still to go out keeps its io timeout against a client that reads nothing
        long left = connections.stream().filter(c -> c != mine).count();
        if (left > 0) {
            LOG.log(System.Logger.Level.WARNING, "{0} connection fibers of the stopped server did not end within {1} ms (a handler that does not return?)",
                    left, TimeUnit.NANOSECONDS.toMillis(HttpTunables.STOP_FIBER_WAIT_NANOS));
        }
        if (ownsScheduler) {
            // from a handler, or one of its own fibers, the scheduler cannot be waited for: it terminates once they end
            if (mine != null || FiberScheduler.current().orElse(null) == scheduler) scheduler.shutdown();
            else if (left == 0) scheduler.close();
            else closeInterrupting(scheduler);
        }
        return mine;
    }

    /**
     * Closes the server's own scheduler while handlers on its fibers have not returned: HttpServer.stop
     * returns after about its delay, so they are interrupted ({@code shutdownNow}) and waited for at most
     * {@link HttpTunables#STOP_FIBER_WAIT_NANOS} more; a handler that ignores the interrupt keeps only the
     * scheduler, which terminates once it ends.
     */
    private static void closeInterrupting(FiberScheduler s) {
        s.shutdownNow();
        boolean terminated = false;
        try {
            terminated = s.awaitTermination(Duration.ofNanos(HttpTunables.STOP_FIBER_WAIT_NANOS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!terminated) {
            LOG.log(System.Logger.Level.WARNING, "the stopped server''s scheduler {0} keeps fibers that ignored their interrupt;"
                    + " it terminates once they end", s.name());
        }
    }

    private static void sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t, long nanos) {
        if (t == null) return;
        try {
            t.join(Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The parameters an {@link HttpsConfigurator} fills in for one connection. */
    private static final class Parameters extends HttpsParameters {
        private final HttpsConfigurator conf;
        private final InetSocketAddress peer;
        SSLParameters sslParameters;

        Parameters(HttpsConfigurator conf, InetSocketAddress peer) {
            this.conf = conf;
            this.peer = peer;
        }

        @Override public HttpsConfigurator getHttpsConfigurator() { return conf; }
        @Override public InetSocketAddress getClientAddress() { return peer; }
        @Override public void setSSLParameters(SSLParameters params) { sslParameters = params; }
    }
}
