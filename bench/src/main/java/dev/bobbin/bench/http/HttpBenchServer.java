package dev.bobbin.bench.http;

/** A running server of the HTTP benchmark, bound to the loopback address. */
interface HttpBenchServer extends AutoCloseable {
    /** The port it listens on. */
    int port();

    /** What serves the requests, for the report (e.g. the {@code HttpServerProvider} class). */
    String implementation();

    /** Stops accepting, closes its connections and releases its threads. */
    @Override
    void close();
}
