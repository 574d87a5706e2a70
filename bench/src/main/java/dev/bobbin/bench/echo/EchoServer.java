package dev.bobbin.bench.echo;

/**
 * A running echo server of one {@link ServerKind}: writes every byte it reads on a connection back on the
 * same connection, until the peer closes it. Bound to the loopback address only.
 */
public interface EchoServer extends AutoCloseable {

    /** The local TCP port the server accepts connections on. */
    int port();

    /** The number of threads (carriers, event loops) serving connections, or 0 when not fixed. */
    int serviceThreads();

    /**
     * Stops accepting, closes every open connection and releases the server's threads. Idempotent;
     * returns once the server's resources are released or a few seconds have passed.
     */
    @Override
    void close();
}
