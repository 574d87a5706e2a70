package dev.bobbin.http;

import java.time.Duration;

/**
 * Every default and internal size of the HTTP server, in one place, each with the reason for its value.
 * The defaults can be changed per server through {@link HttpServerOptions}.
 */
final class HttpTunables {
    private HttpTunables() { }

    /** Longest request line before 414: 8 KiB, what common servers and proxies accept. */
    static final int DEFAULT_MAX_REQUEST_LINE_BYTES = 8 * 1024;
    /** Largest header block (after the request line, each field line counted with a CRLF whatever ends it) before 431:
     *  64 KiB, well above real browsers' headers. */
    static final int DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
    /** Most header fields in one request before 431: the JDK server's default (sun.net.httpserver.maxReqHeaders). */
    static final int MAX_HEADER_FIELDS = 200;
    /** Largest request body before 413: 64 MiB, generous for an embedded server, bounded against floods. */
    static final long DEFAULT_MAX_REQUEST_BODY_BYTES = 64L * 1024 * 1024;
    /** Most open connections; further ones get 503 and are closed. Above the 10,000 the tests hold at once. */
    static final int DEFAULT_MAX_CONNECTIONS = 16 * 1024;
    /** From a request's first byte to the end of its header block (slowloris defense). */
    static final Duration DEFAULT_HEADER_READ_TIMEOUT = Duration.ofSeconds(30);
    /** An idle keep-alive connection is closed after this: the JDK server's idle interval. */
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** One read of a request body, or one write of a response, may wait this long for the peer. */
    static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(30);

    /** Unread request body the server reads and discards to keep a connection: the JDK's drain amount. */
    static final long DRAIN_LIMIT_BYTES = 64 * 1024;
    /** Size of a connection's request-head array, kept between requests; a larger head gets an array of its own, not kept. */
    static final int HEAD_BUFFER_INITIAL_BYTES = 2048;
    /** First size of a response buffer: a typical header block plus a small body in one allocation. */
    static final int OUT_BUFFER_INITIAL_BYTES = 2048;
    /** Buffered response bytes that trigger a write to the socket: large enough for one write per small response. */
    static final int OUT_FLUSH_BYTES = 16 * 1024;
    /**
     * Received bytes merged while a head is incomplete go into a buffer that doubles up to this size (past
     * the largest head the default limits allow; limits configured larger raise it to the largest head they allow),
     * so a head in many small segments is not copied whole per segment.
     */
    static final int MERGE_CAPACITY_LIMIT = 128 * 1024;
    /** Largest chunk of a chunked response: its size fits the four hex digits reserved for it. */
    static final int MAX_CHUNK_BYTES = 16 * 1024;
    /** Longest chunk-size line (size plus extensions) of a chunked request body. */
    static final int MAX_CHUNK_LINE_BYTES = 4 * 1024;

    /** The sweeper checks deadlines at a quarter of the shortest timeout, at most this often... */
    static final long SWEEP_MIN_NANOS = 10_000_000L;
    /** ...and at least this often, so timeouts fire within about a second of their deadline. */
    static final long SWEEP_MAX_NANOS = 1_000_000_000L;
    /** How often stop() looks whether the exchanges in flight have finished. */
    static final long STOP_POLL_NANOS = 5_000_000L;
    /** How long stop() waits for connection fibers to end once their sockets are closed; then, on the
     *  server's own scheduler, for its fibers to end once interrupted, and the keep-alive thread of a
     *  server a handler stopped for that scheduler's termination: long enough for handlers to finish
     *  their writes, short enough for stop to return soon after its delay. */
    static final long STOP_FIBER_WAIT_NANOS = 5_000_000_000L;
    /** After a refusal, how long the server reads and drops what the client still sends before closing,
     *  so the client reads the refusal instead of a reset. */
    static final long LINGER_NANOS = 2_000_000_000L;
    /** ...and at most this many bytes of it. */
    static final long LINGER_BYTES = 1L << 20;
    /** Refused connections (over maxConnections) answered with 503 and a linger at once; more are closed
     *  at once, so a flood of refused clients cannot hold more descriptors and fibers than this. */
    static final int MAX_LINGERING_REFUSALS = 256;
    /** Listen backlog when the application passes 0 or less: what a busy server's accept queue needs. */
    static final int DEFAULT_BACKLOG = 1024;
    /** At most one WARNING per this interval for failing handlers (the count of the others is in the next line). */
    static final long HANDLER_FAILURE_LOG_INTERVAL_NANOS = 60_000_000_000L;

    /** First size of a TLS connection's ciphertext buffer: holds a ClientHello; grows to whole records as they arrive. */
    static final int TLS_NET_BUFFER_INITIAL_BYTES = 4 * 1024;
    /** First size of a decrypted-data buffer: fits a typical request head; grown to a full record after one overflows it. */
    static final int TLS_APP_BUFFER_INITIAL_BYTES = 4 * 1024;
    /** shutdownOutput() waits this long for a writer to leave the engine (one blocked on a slow peer) before skipping close_notify. */
    static final long TLS_CLOSE_NOTIFY_LOCK_NANOS = 100_000_000L;
    /** close_notify may take this long to be queued; then the socket is closed anyway (the peer does not read). */
    static final long TLS_CLOSE_NOTIFY_SEND_NANOS = 1_000_000_000L;
}
