package dev.bobbin.http;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.bobbin.FiberScheduler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * An HTTP/1.1 server on Bobbin fibers and io_uring, behind the {@code com.sun.net.httpserver} API.
 *
 * <p>With this module on the class path, {@code HttpServer.create(...)} returns one (through
 * {@link BobbinHttpServerProvider}), so an existing application needs no change. To set Bobbin's
 * options, create it directly:
 * <pre>{@code
 * BobbinHttpServer server = BobbinHttpServer.create(new InetSocketAddress(8080), 0,
 *         HttpServerOptions.builder().maxConnections(50_000).build());
 * server.createContext("/", exchange -> { ... });
 * server.start();
 * }</pre>
 *
 * <p>Each connection is served by a fiber; with no {@linkplain #setExecutor executor} (the default)
 * handlers run on those fibers, so a handler may block (a socket, a JDBC call, {@code sleep}) at the
 * cost of a parked fiber, not a thread. See the module overview ({@code dev.bobbin.http}) for the
 * protocol rules, limits and timeouts.
 */
public final class BobbinHttpServer extends HttpServer {
    private final ServerCore core;

    private BobbinHttpServer(HttpServerOptions options) {
        this.core = new ServerCore(this, false, options);
    }

    /**
     * Creates a server bound to {@code addr} (null: unbound, {@link #bind} later) with {@code options}.
     *
     * @param backlog the listen backlog; 0 or less for Bobbin's default (1024)
     * @throws java.net.BindException if the address is in use
     */
    public static BobbinHttpServer create(InetSocketAddress addr, int backlog, HttpServerOptions options) throws IOException {
        BobbinHttpServer s = new BobbinHttpServer(Objects.requireNonNull(options, "options"));
        if (addr != null) s.bind(addr, backlog);
        return s;
    }

    /** {@link #create(InetSocketAddress, int, HttpServerOptions)} with the default options. */
    public static BobbinHttpServer create(InetSocketAddress addr, int backlog) throws IOException {
        return create(addr, backlog, HttpServerOptions.defaults());
    }

    @Override public void bind(InetSocketAddress addr, int backlog) throws IOException { core.bind(addr, backlog); }
    @Override public void start() { core.start(); }
    @Override public void setExecutor(Executor executor) { core.setExecutor(executor); }
    @Override public Executor getExecutor() { return core.executor(); }
    @Override public void stop(int delay) { core.stop(delay); }
    @Override public HttpContext createContext(String path, HttpHandler handler) { return core.createContext(path, Objects.requireNonNull(handler, "handler")); }
    @Override public HttpContext createContext(String path) { return core.createContext(path, null); }
    @Override public void removeContext(String path) { core.removeContext(path); }
    @Override public void removeContext(HttpContext context) { core.removeContext(context); }
    @Override public InetSocketAddress getAddress() { return core.address(); }

    /** This server's options. */
    public HttpServerOptions options() { return core.options(); }

    /** The scheduler the server runs on, or null before {@link #start()}. */
    public FiberScheduler scheduler() { return core.scheduler(); }

    /** Connections open now. */
    public int activeConnections() { return core.activeConnections(); }

    /** The server's counters now. */
    public HttpServerStats stats() { return ServerStatsSnapshot.of(core); }

    /** Refused connections answered with 503 and lingering now (tests). */
    int lingeringRefusals() { return core.lingeringRefusals(); }

    ServerCore core() { return core; }

    @Override
    public String toString() {
        return "BobbinHttpServer[" + getAddress() + "]";
    }
}
