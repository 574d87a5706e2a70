package dev.bobbin.http;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;

import java.time.Duration;
import java.util.Objects;

/**
 * Bobbin's options for one HTTP server: limits, timeouts and the scheduler. Immutable; made with
 * {@link #builder()}, every option has a default ({@link #defaults()}). A server created through the
 * {@code com.sun.net.httpserver} API ({@code HttpServer.create}) uses the defaults.
 *
 * <pre>{@code
 * HttpServerOptions options = HttpServerOptions.builder()
 *         .maxRequestBodyBytes(1 << 20)
 *         .idleTimeout(Duration.ofSeconds(10))
 *         .build();
 * BobbinHttpServer server = BobbinHttpServer.create(new InetSocketAddress(8080), 0, options);
 * }</pre>
 */
public final class HttpServerOptions {
    /** The longest timeout: 2^62 ns (about 146 years), so a deadline from {@code System.nanoTime()} cannot overflow. */
    private static final Duration MAX_TIMEOUT = Duration.ofNanos(1L << 62);

    private static final HttpServerOptions DEFAULTS = new Builder().build();

    private final int maxRequestLineBytes;
    private final int maxHeaderBytes;
    private final long maxRequestBodyBytes;
    private final int maxConnections;
    private final Duration headerReadTimeout;
    private final Duration idleTimeout;
    private final Duration ioTimeout;
    private final FiberScheduler scheduler;
    private final FiberIo io;

    private HttpServerOptions(Builder b) {
        this.maxRequestLineBytes = b.maxRequestLineBytes;
        this.maxHeaderBytes = b.maxHeaderBytes;
        this.maxRequestBodyBytes = b.maxRequestBodyBytes;
        this.maxConnections = b.maxConnections;
        this.headerReadTimeout = b.headerReadTimeout;
        this.idleTimeout = b.idleTimeout;
        this.ioTimeout = b.ioTimeout;
        this.scheduler = b.scheduler;
        this.io = b.io;
    }

    /** The defaults: 8 KiB request line, 64 KiB header block, 64 MiB body, 16,384 connections, 30 s timeouts. */
    public static HttpServerOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Longest request line, its CRLF or bare LF not counted; a longer one is answered with 414. */
    public int maxRequestLineBytes() { return maxRequestLineBytes; }

    /**
     * Largest header block after the request line; a larger one (or over 200 fields) is answered with 431.
     * The block is counted as if every field line ended with CRLF: each field line's bytes before its line end
     * plus two, whether CRLF or a bare LF ends it, so a head is admitted or refused alike whichever it uses;
     * the empty line ending the block is not counted. (The JDK's {@code sun.net.httpserver.maxReqHeaderSize}
     * is likewise the same for either line end, but counts a field's name and value plus 32 per line, and the
     * request line too.)
     */
    public int maxHeaderBytes() { return maxHeaderBytes; }

    /** Largest request body; a larger one is answered with 413. */
    public long maxRequestBodyBytes() { return maxRequestBodyBytes; }

    /**
     * Most connections open at once; a further one is answered with 503 and closed (on an HTTPS server it is
     * closed without a handshake, so without a 503).
     */
    public int maxConnections() { return maxConnections; }

    /**
     * Longest time from a request's first byte to the end of its header block (then 408 and close). On HTTPS
     * the first byte is the request's first decrypted byte: what comes before it is bounded by the idle timeout.
     */
    public Duration headerReadTimeout() { return headerReadTimeout; }

    /**
     * Longest time a connection may wait for its next request, or a new one for its first (then it is closed).
     * Bytes that carry no request byte do not extend the wait (empty lines before a request; on HTTPS the TLS
     * handshake and records not yet decrypted to request bytes): a client sending only those is closed no later
     * than one that sends nothing.
     */
    public Duration idleTimeout() { return idleTimeout; }

    /** Longest wait of one request-body read or response write for the peer (then the connection is closed). */
    public Duration ioTimeout() { return ioTimeout; }

    /**
     * The scheduler the server's fibers run on, or null: the server then makes its own io scheduler
     * (one carrier per CPU) when it is bound, and closes it when stopped (started or not). The listening
     * socket is bound from a fiber of the scheduler, so that it lives on one of its carriers' loops. A
     * given scheduler is never closed by the server.
     */
    public FiberScheduler scheduler() { return scheduler; }

    /** The io runtime the server's sockets use, or null: {@link FiberIo#system()}. */
    public FiberIo io() { return io; }

    /** The io runtime the server's sockets use: {@link #io()}, or {@link FiberIo#system()}. */
    FiberIo runtime() { return io != null ? io : FiberIo.system(); }

    @Override
    public String toString() {
        return "HttpServerOptions[maxRequestLineBytes=" + maxRequestLineBytes + ", maxHeaderBytes=" + maxHeaderBytes
                + ", maxRequestBodyBytes=" + maxRequestBodyBytes + ", maxConnections=" + maxConnections
                + ", headerReadTimeout=" + headerReadTimeout + ", idleTimeout=" + idleTimeout
                + ", ioTimeout=" + ioTimeout + ", scheduler=" + (scheduler == null ? "own" : scheduler.name()) + "]";
    }

    /** Builds {@link HttpServerOptions}; every setter validates its argument at once. */
    public static final class Builder {
        private int maxRequestLineBytes = HttpTunables.DEFAULT_MAX_REQUEST_LINE_BYTES;
        private int maxHeaderBytes = HttpTunables.DEFAULT_MAX_HEADER_BYTES;
        private long maxRequestBodyBytes = HttpTunables.DEFAULT_MAX_REQUEST_BODY_BYTES;
        private int maxConnections = HttpTunables.DEFAULT_MAX_CONNECTIONS;
        private Duration headerReadTimeout = HttpTunables.DEFAULT_HEADER_READ_TIMEOUT;
        private Duration idleTimeout = HttpTunables.DEFAULT_IDLE_TIMEOUT;
        private Duration ioTimeout = HttpTunables.DEFAULT_IO_TIMEOUT;
        private FiberScheduler scheduler;
        private FiberIo io;

        private Builder() { }

        /** @throws IllegalArgumentException unless 64 ≤ {@code bytes} ≤ 1 MiB */
        public Builder maxRequestLineBytes(int bytes) {
            this.maxRequestLineBytes = inRange("maxRequestLineBytes", bytes, 64, 1 << 20);
            return this;
        }

        /**
         * Sets {@link HttpServerOptions#maxHeaderBytes()}, counted as there: each field line with two bytes for its line end.
         *
         * @throws IllegalArgumentException unless 256 ≤ {@code bytes} ≤ 16 MiB
         */
        public Builder maxHeaderBytes(int bytes) {
            this.maxHeaderBytes = inRange("maxHeaderBytes", bytes, 256, 16 << 20);
            return this;
        }

        /** @throws IllegalArgumentException if negative */
        public Builder maxRequestBodyBytes(long bytes) {
            if (bytes < 0) throw new IllegalArgumentException("maxRequestBodyBytes must not be negative: " + bytes);
            this.maxRequestBodyBytes = bytes;
            return this;
        }

        /** @throws IllegalArgumentException if not positive */
        public Builder maxConnections(int connections) {
            this.maxConnections = inRange("maxConnections", connections, 1, Integer.MAX_VALUE);
            return this;
        }

        /** @throws IllegalArgumentException if not positive, or longer than about 146 years */
        public Builder headerReadTimeout(Duration timeout) {
            this.headerReadTimeout = positive("headerReadTimeout", timeout);
            return this;
        }

        /** @throws IllegalArgumentException if not positive, or longer than about 146 years */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive("idleTimeout", timeout);
            return this;
        }

        /** @throws IllegalArgumentException if not positive, or longer than about 146 years */
        public Builder ioTimeout(Duration timeout) {
            this.ioTimeout = positive("ioTimeout", timeout);
            return this;
        }

        /**
         * The scheduler to run on, whose carriers must drive the server's io runtime ({@link #io}, else
         * {@code FiberIo.system()}): made by its {@code newScheduler} or from its {@code schedulerConfig()};
         * {@link #build()} refuses another. Null: the server makes its own.
         */
        public Builder scheduler(FiberScheduler scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        /** The io runtime for the server's sockets (a given scheduler should come from the same one); null: the system's. */
        public Builder io(FiberIo io) {
            this.io = io;
            return this;
        }

        /**
         * The options.
         *
         * @throws IllegalArgumentException if a scheduler is given whose carriers do not drive the io runtime
         *                                  (its sockets would all live on that runtime's one fallback loop thread)
         */
        public HttpServerOptions build() {
            HttpServerOptions options = new HttpServerOptions(this);
            if (scheduler != null) {
                FiberIo runtime = options.runtime();
                if (scheduler.config().driverFactory() != runtime.driverFactory()) {
                    throw new IllegalArgumentException("scheduler '" + scheduler.name() + "' does not drive the server's io runtime ("
                            + runtime.transport() + "): make it with FiberIo.newScheduler or FiberIo.schedulerConfig()");
                }
            }
            return options;
        }

        private static int inRange(String what, int v, int min, int max) {
            if (v < min || v > max) {
                throw new IllegalArgumentException(what + " must be in [" + min + ", " + max + "]: " + v);
            }
            return v;
        }

        private static Duration positive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(what + " must be positive: " + d);
            if (d.compareTo(MAX_TIMEOUT) > 0) {
                throw new IllegalArgumentException(what + " must be at most " + MAX_TIMEOUT.toDays() + " days: " + d);
            }
            return d;
        }
    }
}
