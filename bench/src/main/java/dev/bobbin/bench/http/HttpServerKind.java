package dev.bobbin.bench.http;

import dev.bobbin.FiberExecutor;
import io.netty.channel.uring.IoUring;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * The HTTP servers the benchmark compares, each named by the id used on the command line and in the
 * results. {@link HttpBench} runs them in declaration order unless told otherwise; its ratio columns are
 * relative to {@link #HELIDON}, {@link #JDK} and {@link #NETTY_URING}.
 *
 * <p>The four {@code com.sun.net.httpserver} kinds run the same program ({@link JdkApiHttpServer}); the
 * JVM's {@code -Dcom.sun.net.httpserver.HttpServerProvider} ({@link #jvmOptions()}) decides whose server
 * it gets, and the program refuses to serve when another provider was selected.
 */
public enum HttpServerKind {

    /** The JDK's built-in server with its default executor: handlers run on its one dispatcher thread. */
    JDK("jdk", "com.sun.net.httpserver, the JDK's provider, default executor (handlers on the dispatcher thread)",
            JdkProviders.JDK) {
        @Override HttpBenchServer startAvailable(int port) throws IOException {
            return JdkApiHttpServer.start(port, null, JdkProviders.JDK);
        }
    },

    /** The JDK's built-in server handing each exchange to a new JDK virtual thread. */
    JDK_VTHREAD("jdk-vthread", "com.sun.net.httpserver, the JDK's provider, Executors.newVirtualThreadPerTaskExecutor()",
            JdkProviders.JDK) {
        @Override HttpBenchServer startAvailable(int port) throws IOException {
            return JdkApiHttpServer.start(port, Executors.newVirtualThreadPerTaskExecutor(), JdkProviders.JDK);
        }
    },

    /** The JDK's built-in server handing each exchange to a Bobbin fiber: its selector thread feeds a
     *  {@code FiberExecutor} (work arriving from outside Bobbin's carriers, issue #12's case). */
    JDK_FIBER("jdk-fiber", "com.sun.net.httpserver, the JDK's provider, a Bobbin FiberExecutor (own scheduler)",
            JdkProviders.JDK) {
        @Override HttpBenchServer startAvailable(int port) throws IOException {
            return JdkApiHttpServer.start(port, FiberExecutor.create(), JdkProviders.JDK);
        }
    },

    /** The same program on Bobbin's provider (module http-server), its default executor: a fiber per exchange. */
    BOBBIN("bobbin", "com.sun.net.httpserver, Bobbin's provider (dev.bobbin.http), default executor", JdkProviders.BOBBIN) {
        @Override public Optional<String> unavailableReason() {
            try {
                Class.forName(JdkProviders.BOBBIN, false, HttpServerKind.class.getClassLoader());
                return Optional.empty();
            } catch (ClassNotFoundException e) {
                return Optional.of(JdkProviders.BOBBIN + " is not on the class path (module http-server)");
            }
        }

        @Override HttpBenchServer startAvailable(int port) throws IOException {
            return JdkApiHttpServer.start(port, null, JdkProviders.BOBBIN);
        }
    },

    /** Helidon SE 4's web server (a virtual thread per connection). */
    HELIDON("helidon", "Helidon SE 4 web server (io.helidon.webserver), a virtual thread per connection", null) {
        @Override HttpBenchServer startAvailable(int port) {
            return HelidonHttpServer.start(port);
        }
    },

    /** A minimal Netty 4.2 HTTP server on io_uring. */
    NETTY_URING("netty-uring", "Netty 4.2 HttpServerCodec on io_uring, one event loop per CPU; /sleep on a virtual thread", null) {
        @Override public Optional<String> unavailableReason() {
            return IoUring.isAvailable() ? Optional.empty()
                    : Optional.of("Netty io_uring unavailable: " + IoUring.unavailabilityCause());
        }

        @Override HttpBenchServer startAvailable(int port) throws InterruptedException {
            return NettyHttpServer.start(port);
        }
    };

    /** Class names of the {@code HttpServerProvider}s the kinds select. */
    static final class JdkProviders {
        static final String JDK = "sun.net.httpserver.DefaultHttpServerProvider";
        static final String BOBBIN = "dev.bobbin.http.BobbinHttpServerProvider";

        private JdkProviders() { }
    }

    private final String id;
    private final String description;
    private final String provider;

    HttpServerKind(String id, String description, String provider) {
        this.id = id;
        this.description = description;
        this.provider = provider;
    }

    /** The name used on the command line and in the results. */
    public String id() {
        return id;
    }

    public String description() {
        return description;
    }

    /**
     * System properties the server's JVM needs, as {@code -D} options: the provider to select and, for the
     * JDK's provider, room for every keep-alive connection of the benchmark
     * ({@value #JDK_MAX_IDLE_CONNECTIONS}; by default it keeps 200 idle connections and closes the
     * others after their response, which turns the 1,000-connection runs into connection churn).
     */
    public List<String> jvmOptions() {
        if (provider == null) return List.of();
        List<String> options = new ArrayList<>();
        options.add("-Dcom.sun.net.httpserver.HttpServerProvider=" + provider);
        if (provider.equals(JdkProviders.JDK)) options.add("-Dsun.net.httpserver.maxIdleConnections=" + JDK_MAX_IDLE_CONNECTIONS);
        return List.copyOf(options);
    }

    /** Idle keep-alive connections the JDK's server may keep: above the benchmark's largest connection count. */
    static final int JDK_MAX_IDLE_CONNECTIONS = 10_000;

    /** Why this kind cannot run in this JVM, or empty if it can. */
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    /** Starts the server on the loopback address ({@code port} 0: an ephemeral one). */
    public final HttpBenchServer start(int port) throws IOException, InterruptedException {
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("port must be 0 to 65535: " + port);
        Optional<String> reason = unavailableReason();
        if (reason.isPresent()) throw new IllegalStateException(id + " is unavailable: " + reason.get());
        return startAvailable(port);
    }

    abstract HttpBenchServer startAvailable(int port) throws IOException, InterruptedException;

    /** The kind with this id. */
    public static HttpServerKind of(String id) {
        for (HttpServerKind k : values()) if (k.id.equals(id)) return k;
        throw new IllegalArgumentException("unknown server '" + id + "'; the servers are " + ids());
    }

    static String ids() {
        return Arrays.stream(values()).map(HttpServerKind::id).collect(Collectors.joining(", "));
    }

    static String describeAll() {
        return Arrays.stream(values()).map(k -> String.format("  %-12s %s", k.id, k.description)).collect(Collectors.joining("\n"));
    }
}
