package dev.bobbin.bench.echo;

/**
 * How to start an {@link EchoServer}.
 *
 * @param port    the loopback TCP port to bind, 0 for an ephemeral one
 * @param threads the number of service threads for kinds that have a fixed pool (Bobbin carriers, Netty
 *                event loops); at least 1. Kinds on the JDK default scheduler or on a thread per
 *                connection ignore it.
 * @param backlog the listen backlog, at least 1; large enough for a burst of 1,000 connects
 */
public record ServerOptions(int port, int threads, int backlog) {

    /** The default listen backlog: Linux caps it at {@code net.core.somaxconn} (4096 on recent kernels). */
    public static final int DEFAULT_BACKLOG = 4096;

    /** Validates every component. */
    public ServerOptions {
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("port must be 0 to 65535: " + port);
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1: " + threads);
        if (backlog < 1) throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
    }

    /** An ephemeral port, one service thread per available processor, the default backlog. */
    public static ServerOptions defaults() {
        return new ServerOptions(0, Runtime.getRuntime().availableProcessors(), DEFAULT_BACKLOG);
    }

    /** This configuration with another port. */
    public ServerOptions withPort(int port) {
        return new ServerOptions(port, threads, backlog);
    }

    /** This configuration with another thread count. */
    public ServerOptions withThreads(int threads) {
        return new ServerOptions(port, threads, backlog);
    }
}
