package dev.bobbin.http;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bobbin.FiberScheduler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * An HTTPS server on Bobbin fibers: {@link BobbinHttpServer} with TLS through an {@link javax.net.ssl.SSLEngine}
 * over each fiber socket. Set an {@link HttpsConfigurator} before {@link #start()}; it configures every
 * connection's engine as {@code com.sun.net.httpserver} specifies. Handlers get
 * {@link com.sun.net.httpserver.HttpsExchange}s.
 */
public final class BobbinHttpsServer extends HttpsServer {
    private final ServerCore core;

    private BobbinHttpsServer(HttpServerOptions options) {
        this.core = new ServerCore(this, true, options);
    }

    /**
     * Creates a server bound to {@code addr} (null: unbound, {@link #bind} later) with {@code options}.
     *
     * @param backlog the listen backlog; 0 or less for Bobbin's default (1024)
     * @throws java.net.BindException if the address is in use
     */
    public static BobbinHttpsServer create(InetSocketAddress addr, int backlog, HttpServerOptions options) throws IOException {
        BobbinHttpsServer s = new BobbinHttpsServer(Objects.requireNonNull(options, "options"));
        if (addr != null) s.bind(addr, backlog);
        return s;
    }

    /** {@link #create(InetSocketAddress, int, HttpServerOptions)} with the default options. */
    public static BobbinHttpsServer create(InetSocketAddress addr, int backlog) throws IOException {
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

    @Override public void setHttpsConfigurator(HttpsConfigurator config) { core.setHttpsConfigurator(config); }
    @Override public HttpsConfigurator getHttpsConfigurator() { return core.httpsConfigurator(); }

    /** This server's options. */
    public HttpServerOptions options() { return core.options(); }

    /** The scheduler the server runs on, or null before {@link #start()}. */
    public FiberScheduler scheduler() { return core.scheduler(); }

    /** Connections open now. */
    public int activeConnections() { return core.activeConnections(); }

    /** The server's counters now. */
    public HttpServerStats stats() { return ServerStatsSnapshot.of(core); }

    ServerCore core() { return core; }

    @Override
    public String toString() {
        return "BobbinHttpsServer[" + getAddress() + "]";
    }
}
