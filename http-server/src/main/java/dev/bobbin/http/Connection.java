package dev.bobbin.http;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.bobbin.base.VarHandles;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.EOFException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * One HTTP/1.1 connection, served by one fiber that runs {@link #run}: read a request head, run the
 * context's filters and handler (on this fiber, or on the server's executor while this fiber waits),
 * drain what the handler left of the request body, and go on with the next request. Requests are
 * handled one after the other, so pipelined requests get their responses in order.
 *
 * <p>Buffers. {@code in} holds received bytes not yet consumed: heads are found in it and request
 * bodies read from it. {@code out} collects a response (head and body) until it is handed to the wire:
 * when it passes {@link HttpTunables#OUT_FLUSH_BYTES}, when the handler flushes, or when the exchange
 * ends; a small response is one write. When the next pipelined request is already in {@code in}, the
 * response stays buffered until the serving loop turns to that request, and goes out before its head is
 * read, while the phase is still BUSY (below). A handler
 * may hand its exchange to another thread and return; when a timeout or {@code stop} then closes the
 * connection, this fiber releases the buffers while that thread may still be writing the response or
 * reading the request. So every stream operation of an exchange and the release hold a lock: request
 * body reads {@code inLock}, response writes {@code outLock}, the release both (in that order; a read
 * that sends {@code 100 Continue} or a refusal takes {@code outLock} inside {@code inLock}, nothing the
 * other way). The directions have a lock each because a handler may read on one thread while another
 * writes (a tunnel, a streaming echo), and a read waiting for the client's next bytes must not hold up a
 * response the client waits for before it sends them. An operation after the release fails with a
 * {@link ClosedChannelException}; the fiber closes the wire first, so an operation blocked in it fails and
 * lets go of its lock.
 *
 * <p>Timeouts. The server's sweeper reads {@link #deadline} and {@link #phase}; this fiber sets them:
 * <pre>
 *   phase  deadline                         set when                       sweeper on expiry
 *   IDLE   now + idleTimeout                waiting for the next request   IDLE -> CLOSED, close silently
 *   HEAD   first byte + headerReadTimeout   part of a head has arrived     HEAD -> CLOSED, 408 fiber (below)
 *   BUSY   now + ioTimeout while a body     a head is complete             BUSY -> CLOSED, close
 *          read ({@code readDeadline}) or a
 *          write waits, else none
 *   CLOSED now + ioTimeout while a 408 is   the sweeper started a 408      close
 *          written, the linger's end while  fiber, or a refusal lingers
 *          a refusal lingers, else stale or
 *          none
 * </pre>
 * Each transition is one CAS on {@code phase} ({@link #toPhase}); the sweeper only ever moves a phase to
 * CLOSED, so a fiber whose CAS fails knows the sweeper (or {@code stop}) closed the connection. The
 * sweeper never writes itself: a 408 goes out on a fiber of its own ({@link #timeOutHead}), since the
 * write can wait for a client that does not read (the bytes of earlier responses still in flight), and a
 * sweeper waiting there would enforce no other timeout; the sweeper closes the connection if that write
 * is still waiting at the CLOSED row's deadline.
 */
final class Connection implements Runnable {
    static final int IDLE = 0, HEAD = 1, BUSY = 2, CLOSED = 3;
    private static final VarHandle PHASE = VarHandles.field(MethodHandles.lookup(), Connection.class, "phase", int.class);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(ISO_8859_1);
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(ISO_8859_1);
    private static final byte[] HEX = "0123456789abcdef".getBytes(ISO_8859_1);
    private static final int CHUNK_HEADER = 6;   // four hex digits and CRLF, patched when the chunk ends

    private final ServerCore server;
    private final Wire wire;
    private final HeadParser parser;
    private final int mergeCapacityLimit;       // the merge buffer doubles up to this: past the largest head the limits allow
    private volatile int phase = IDLE;          // CAS only (toPhase); read by the sweeper
    volatile long deadline;                     // System.nanoTime() deadline of the current wait; 0 none
    volatile long readDeadline;                 // the same for a request body read, which may overlap a write
    volatile Thread thread;                     // the serving fiber, for stop()
    volatile Thread handlerThread;              // the thread running this connection's handler chain, for stop()
    private ByteBuf in;                         // received, not consumed
    private boolean inMerged;                   // in is a merge buffer of ours, with room to append to
    private ByteBuf out;                        // response bytes not yet handed to the wire
    private int chunkStart = -1;                // index in out of the open chunk's reserved header, -1 none
    private boolean broken;                     // a write failed or the response framing broke: close
    private volatile boolean peerFailed;        // a read or write of the client's socket failed, or it ended inside a body
    private final ReentrantLock inLock = new ReentrantLock();  // request body reads and the release (see Buffers)
    private final ReentrantLock outLock = new ReentrantLock(); // response writes and the release (see Buffers)
    private boolean released;                   // written holding both locks, read holding either: in and out are gone

    Connection(ServerCore server, Wire wire) {
        this.server = server;
        this.wire = wire;
        this.parser = new HeadParser(server.options().maxRequestLineBytes(), server.options().maxHeaderBytes());
        this.mergeCapacityLimit = Math.max(HttpTunables.MERGE_CAPACITY_LIMIT, parser.maxHeadBytes()); // findEnd refuses more
    }

    int phase() {
        return phase;
    }

    /** One transition of the table above; false if the phase was not {@code from}. */
    boolean toPhase(int from, int to) {
        return PHASE.compareAndSet(this, from, to);
    }

    // ---- the serving loop ---------------------------------------------------------------------------

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            serve();
        } catch (IOException e) {
            // the peer went away, a timeout or stop() closed the socket, or a write failed: nothing to answer
            ServerCore.LOG.log(System.Logger.Level.TRACE, "connection ended: {0}", e.toString());
        } catch (Throwable t) {
            server.failures().log("connection " + wire.remoteAddress() + " failed", t);
        } finally {
            closeNow();                              // fails any blocked read or write of an exchange thread
            inLock.lock();
            outLock.lock();
            try {
                released = true;
                if (in != null) in.release();
                if (out != null) out.release();
                in = out = null;
                chunkStart = -1;
            } finally {
                outLock.unlock();
                inLock.unlock();
            }
            server.connectionClosed(this);
        }
    }

    private void serve() throws IOException {
        HttpServerOptions o = server.options();
        long idle = o.idleTimeout().toNanos();
        long headerTimeout = o.headerReadTimeout().toNanos();
        for (;;) {
            boolean received = in != null && HeadParser.skipLeadingEmptyLines(in);   // bytes of the next request
            // an idle connection holds no receive buffer (but a CR whose LF may follow, see skipLeadingEmptyLines)
            if (in != null && !in.isReadable()) releaseIn();
            if (server.isStopping() && !(received && answersWhileStopping())) {
                flushHeldResponses();                    // a response held for a pipelined request goes out first
                return;
            }
            deadline = System.nanoTime() + idle;
            // Responses held back for a pipelined request go out now, before the phase is IDLE: they are
            // accepted responses, so stop() counts the connection busy until they are out; a client that
            // stops reading meets the sweeper's close (the BUSY row), never its 408 behind this blocked write.
            flushHeldResponses();
            // a next request already (partly) received is a head arriving: HEAD, which stop() waits for
            if (received) deadline = System.nanoTime() + headerTimeout;
            if (!toPhase(BUSY, received ? HEAD : IDLE) && phase != IDLE) return;
            RequestHead head;
            try {
                head = readHead(headerTimeout, received);
            } catch (HttpStatusException e) {
                if (toPhase(IDLE, BUSY) || toPhase(HEAD, BUSY)) reject(e.status(), e.getMessage());
                return;
            }
            if (head == null) return;
            if (!toPhase(IDLE, BUSY) && !toPhase(HEAD, BUSY)) return;   // the sweeper or stop() closed us
            deadline = 0;
            if (!exchange(head)) return;
        }
    }

    /** Reads the next head ({@code started}: part of it is in {@code in}, the phase HEAD); null at end of stream before one started. */
    private RequestHead readHead(long headerTimeout, boolean started) throws IOException {
        for (;;) {
            if (in != null && HeadParser.skipLeadingEmptyLines(in)) {
                int length = parser.findEnd(in);
                if (length > 0) return parser.parse(in, length);
                if (!started) {
                    started = true;
                    deadline = System.nanoTime() + headerTimeout;
                    if (!toPhase(IDLE, HEAD)) return null;
                }
            }
            if (!receive()) {
                if (started) throw new EOFException("end of stream inside a request head");
                return null;
            }
        }
    }

    /**
     * Sends the responses held back while more request bytes were buffered ({@link #afterExchange} batches
     * pipelined responses), keeping the deadline of the wait that follows.
     */
    private void flushHeldResponses() throws IOException {
        if (out == null || !out.isReadable()) return;
        long d = deadline;
        sendOut();
        deadline = d;
    }

    /** Handles one request; returns whether the connection can carry another. */
    private boolean exchange(RequestHead head) throws IOException {
        Consumer<Connection> hook = server.headParsedForTest;
        if (hook != null) hook.accept(this);
        long length;
        boolean closeAfter;
        try {
            length = bodyLength(head);
            // close wins over keep-alive (RFC 9112 section 9.3); HTTP/1.0 persists only when asked to
            closeAfter = head.hasToken(HeaderNames.CONNECTION, "close")
                    || (head.http10() && !head.hasToken(HeaderNames.CONNECTION, "keep-alive"));
        } catch (HttpStatusException e) {
            reject(e.status(), e.getMessage());
            return false;
        }
        String path = head.uri().getRawPath() == null ? "" : head.uri().getPath();
        ServerContext context = server.contexts().find(path);
        if (context == null) {
            reject(404, "No context found for request");
            return false;
        }
        HttpHandler handler = context.getHandler();
        if (handler == null) {
            reject(500, "No handler for context");
            return false;
        }
        boolean expect = !head.http10() && length != 0 && "100-continue".equalsIgnoreCase(head.first(HeaderNames.EXPECT));
        sendOut();   // responses to earlier pipelined requests go out before this handler runs, however long it takes
        Exchange x = new Exchange(this, head, context, length, expect, closeAfter);
        HttpExchange view = wire.sslSession() == null ? x : new SecureExchange(x, wire.sslSession());
        Runnable task = () -> runChain(x, view, context, handler);
        Executor executor = server.executor();
        if (executor == null) {
            task.run();
        } else {
            try {
                executor.execute(task);
            } catch (RejectedExecutionException e) {
                server.failures().log("the server's executor refused an exchange", e);
                reject(503, "Service unavailable");
                return false;
            }
        }
        if (!x.awaitDone()) return false;
        return afterExchange(x);
    }

    private void runChain(Exchange x, HttpExchange view, ServerContext context, HttpHandler handler) {
        handlerThread = Thread.currentThread();       // volatile; a stop() from this handler reads it
        x.chainStarted();
        try {
            HttpHandler last = context.getAuthenticator() == null ? handler : e -> authenticate(x, e, context, handler);
            List<Filter> filters = context.getFilters();
            if (filters.isEmpty()) last.handle(view);
            else new Filter.Chain(filters, last).doFilter(view);
            x.chainEnded();                           // an exchange closed through a filter's stream ends now
            // on the fiber or on the executor alike: a complete fixed-length response left open goes out
            if (!x.isDone()) x.finishIfFullySent();
        } catch (Throwable t) {
            handlerFailed(x, t);                      // finishes the exchange: what a filter owed goes unsent
            x.chainEnded();
        } finally {
            handlerThread = null;
        }
    }

    private static void authenticate(Exchange x, HttpExchange e, ServerContext context, HttpHandler handler) throws IOException {
        Authenticator auth = context.getAuthenticator();
        Authenticator.Result r = auth == null ? null : auth.authenticate(e);
        if (auth != null && r == null) throw new IllegalStateException("the context's Authenticator returned null");
        if (r == null || r instanceof Authenticator.Success) {
            if (r != null) x.setPrincipal(((Authenticator.Success) r).getPrincipal());
            handler.handle(e);
        } else {
            int code = r instanceof Authenticator.Retry retry ? retry.getResponseCode()
                                                                : ((Authenticator.Failure) r).getResponseCode();
            e.sendResponseHeaders(code, -1);
        }
    }

    /**
     * A handler (or filter) threw: answer 500 if nothing was sent, else break the connection. A failure
     * that is the request body's verdict on the client's bytes (a malformed chunk, a body over the limit),
     * let through by the handler, is the client's error: it gets that status and is logged at DEBUG only;
     * so is an I/O failure of an exchange that {@code stop()} closed.
     */
    private void handlerFailed(Exchange x, Throwable t) {
        HttpStatusException clientError = causeOf(t, HttpStatusException.class);   // the request's own verdict
        if (clientError != null) {
            ServerCore.LOG.log(System.Logger.Level.DEBUG, "handler of {0} passed on a bad request: {1}",
                    x.context().getPath(), clientError.getMessage());
        } else if (t instanceof IOException && server.isStopping()) {
            // stop() closed the exchange under the handler: its failing write is the stop's doing
            ServerCore.LOG.log(System.Logger.Level.DEBUG, "handler of {0} ended by stop(): {1}", x.context().getPath(), t.toString());
        } else if (peerFailed && causeOf(t, IOException.class) != null) {
            // the client went away (reset, closed inside its body, stopped reading): routine for a server,
            // as the JDK's provider treats it (it logs such failures at TRACE)
            ServerCore.LOG.log(System.Logger.Level.DEBUG, "handler of {0} ended by the client''s connection: {1}",
                    x.context().getPath(), t.toString());
        } else {
            server.failures().log("handler of " + x.context().getPath() + " threw", t);
        }
        // A response already complete (written and closed) stands, and so does the connection, as on the
        // JDK's provider (it closes only when the response was not finished): the failure came after it.
        if (x.isDone()) return;
        x.closeAfter = true;
        if (!x.headersSent()) {
            try {
                x.getResponseHeaders().clear();
                x.sendResponseHeaders(clientError != null ? clientError.status() : 500, -1);
                return;
            } catch (IOException | RuntimeException e) {
                // the connection is gone: finish below
            }
        } else {
            // What the handler wrote of a chunked body goes out framed, without the last chunk: the client
            // reads a response cut short (an error), not a connection closed with no response at all, which it
            // could take for a stale keep-alive connection and send the request again.
            try {
                lockOutbound();
                try {
                    endChunk();
                } finally {
                    unlockOutbound();
                }
            } catch (ClosedChannelException e) {
                // released: nothing more goes out
            }
        }
        x.finish(false);
    }

    /**
     * The first {@code type} in {@code t}'s cause chain, {@code t} included (a handler may wrap what its
     * streams threw), or null.
     */
    private static <T extends Throwable> T causeOf(Throwable t, Class<T> type) {
        for (int depth = 0; t != null && depth < 8; t = t.getCause(), depth++) {
            if (type.isInstance(t)) return type.cast(t);
        }
        return null;
    }

    /** After a finished exchange: drain the rest of the request body and send the buffered response. */
    private boolean afterExchange(Exchange x) throws IOException {
        boolean keep = !x.closeAfter && !broken;
        if (keep && server.isStopping()) {
            // stopping: the connection reads no further than a head arriving, so it goes on (with a next
            // request it has received, see serve) only if this request's body is all in
            keep = x.requestBody().complete();
        } else if (keep) {
            RequestBody body = x.requestBody();
            if (x.continueStillPending() && !body.complete()) {
                keep = false;                                                    // the client still holds the body back
            } else {
                // the response goes out before the rest of a body the handler left unread (as the JDK's
                // provider): the client may wait for it before sending more, or send slowly
                if (!body.complete()) sendOut();
                keep = body.drain(HttpTunables.DRAIN_LIMIT_BYTES) && !broken;
            }
        }
        if (!keep || in == null || !in.isReadable()) sendOut();
        // stopping: the close right after hands the bytes to the socket's bounded drain; no linger, whose
        // wait nobody would end once the sweeper has stopped
        if (!keep && !server.isStopping()) lingeringClose();
        return keep;
    }

    /** The request body length: -1 for chunked. Rejects ambiguous framing (request smuggling). */
    private long bodyLength(RequestHead head) throws HttpStatusException {
        int hosts = head.count(HeaderNames.HOST);
        if (hosts > 1 || (hosts == 0 && !head.http10())) throw new HttpStatusException(400, "exactly one Host header required");
        if (hosts == 1 && !validHost(head.first(HeaderNames.HOST))) throw new HttpStatusException(400, "invalid Host header");
        int lengths = head.count(HeaderNames.CONTENT_LENGTH);
        int encodings = head.count(HeaderNames.TRANSFER_ENCODING);
        if (lengths > 0 && encodings > 0) throw new HttpStatusException(400, "both Content-Length and Transfer-Encoding");
        long max = server.options().maxRequestBodyBytes();
        if (encodings > 0) {
            if (head.http10()) throw new HttpStatusException(400, "Transfer-Encoding in an HTTP/1.0 request");
            int chunked = 0;
            String last = null;
            boolean other = false;
            for (int i = 0; i < head.fieldCount(); i++) {
                if (!head.names()[i].equals(HeaderNames.TRANSFER_ENCODING)) continue;
                for (String coding : head.values()[i].split(",", -1)) {
                    String c = coding.strip();
                    if (c.isEmpty()) continue;
                    last = c;
                    if (c.equalsIgnoreCase("chunked")) chunked++;
                    else other = true;
                }
            }
            if (last == null || !last.equalsIgnoreCase("chunked") || chunked > 1) {
                throw new HttpStatusException(400, "Transfer-Encoding must end with a single chunked");
            }
            if (other) throw new HttpStatusException(501, "unsupported transfer coding");
            return -1;
        }
        if (lengths == 0) return 0;
        if (lengths > 1) throw new HttpStatusException(400, "more than one Content-Length");
        String v = head.first(HeaderNames.CONTENT_LENGTH);
        if (v.isEmpty() || v.length() > 18) throw new HttpStatusException(400, "invalid Content-Length");
        long n = 0;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') throw new HttpStatusException(400, "invalid Content-Length");
            n = n * 10 + (c - '0');
        }
        if (n > max) throw new HttpStatusException(413, "request body larger than " + max + " bytes");
        return n;
    }

    /**
     * Whether {@code v} is a Host value: {@code uri-host [ ":" port ]} (RFC 9112 section 3.2, RFC 3986 section
     * 3.2.2), the host a reg-name (unreserved, pct-encoded and sub-delims characters, possibly empty) or an
     * IP-literal in brackets (its content only checked for the characters an IPv6 address or IPvFuture may hold,
     * and a zone id's {@code %}: the JDK's clients send {@code [fe80::1%eth0]}, RFC 6874 {@code [fe80::1%25eth0]}).
     */
    private static boolean validHost(String v) {
        int n = v.length();
        int i = 0;
        if (n > 0 && v.charAt(0) == '[') {
            int close = v.indexOf(']');
            if (close < 2) return false;
            for (i = 1; i < close; i++) {
                char c = v.charAt(i);
                if (c != ':' && c != '%' && !unreservedOrSubDelim(c)) return false;
            }
            i = close + 1;
        } else {
            for (; i < n && v.charAt(i) != ':'; i++) {
                char c = v.charAt(i);
                if (c == '%') {
                    if (i + 2 >= n || Character.digit(v.charAt(i + 1), 16) < 0 || Character.digit(v.charAt(i + 2), 16) < 0
                            || v.charAt(i + 1) > 0x7f || v.charAt(i + 2) > 0x7f) {
                        return false;
                    }
                    i += 2;
                } else if (!unreservedOrSubDelim(c)) {
                    return false;
                }
            }
        }
        if (i == n) return true;
        if (v.charAt(i) != ':') return false;
        for (i++; i < n; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') return false;                       // port = *DIGIT
        }
        return true;
    }

    private static boolean unreservedOrSubDelim(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~!$&'()*+,;=".indexOf(c) >= 0;
    }

    /**
     * Answers a request the server refuses, then closes: the response says {@code Connection: close}, the
     * sending side is shut down and what the client still sends is read and dropped for a moment, so the
     * client reads the answer instead of a reset.
     */
    private void reject(int status, String reason) {
        try {
            String body = "<h1>" + status + " " + StatusLines.reason(status) + "</h1>" + reason;
            Headers h = new Headers();
            h.set("Date", DateHeader.now());
            h.set("Content-type", "text/html");
            h.set("Content-length", Integer.toString(body.length()));
            h.set("Connection", "close");
            writeHead(status, h);
            out.writeCharSequence(body, ISO_8859_1);
            sendOut();
            lingeringClose();
        } catch (IOException e) {
            // the client is gone
        }
    }

    private void lingeringClose() {
        try {
            deadline = System.nanoTime() + server.options().ioTimeout().toNanos();   // a client that stops reading
            wire.flush();
            wire.shutdownOutput();
            // the answer is out: the linger is no request in progress (stop does not wait for it); the
            // sweeper closes at its end as for a 408 (the CLOSED row)
            deadline = System.nanoTime() + HttpTunables.LINGER_NANOS;
            if (!toPhase(BUSY, CLOSED)) return;      // the sweeper or stop() closed us
            long dropped = 0;
            ByteBuf b;
            while (dropped < HttpTunables.LINGER_BYTES && (b = wire.receive()) != null) {
                dropped += b.readableBytes();
                b.release();
            }
        } catch (IOException e) {
            // closed by the sweeper at the linger deadline, or by the peer
        }
    }

    // ---- inbound ------------------------------------------------------------------------------------

    /** Receives more bytes into {@code in}; false at end of stream. */
    private boolean receive() throws IOException {
        ByteBuf b = wire.receive();
        if (b == null) return false;
        server.bytesIn(b.readableBytes());
        if (in == null || !in.isReadable()) {
            if (in != null) in.release();
            in = b;
            inMerged = false;
        } else if (inMerged && in.writableBytes() >= b.readableBytes()) {
            in.writeBytes(b);                          // room left by an earlier merge
            b.release();
        } else {
            // A head arriving in many small segments: the merge buffer doubles, so each byte is copied a
            // bounded number of times (a copy of the whole head per segment would be quadratic in its size)
            int need = in.readableBytes() + b.readableBytes();
            ByteBuf merged = ByteBufAllocator.DEFAULT.directBuffer(Math.max(need, Math.min(2 * need, mergeCapacityLimit)));
            merged.writeBytes(in).writeBytes(b);
            in.release();
            b.release();
            in = merged;
            inMerged = true;
        }
        return true;
    }

    /**
     * Lets go of the receive buffer once all of it is consumed, so that a connection waiting for its next
     * request holds none (the last one received may be a whole read's worth, up to the transport's largest).
     * Under {@code inLock}, as the release at the end: an exchange's body stream reads {@code in} only
     * under it.
     */
    private void releaseIn() {
        inLock.lock();
        try {
            in.release();
            in = null;
            inMerged = false;
        } finally {
            inLock.unlock();
        }
    }

    /** The receive buffer with at least one readable byte if {@code fill} (waiting for the peer), else as is. */
    ByteBuf inbound(boolean fill) throws IOException {
        if (!fill || (in != null && in.isReadable())) return in;
        readDeadline = System.nanoTime() + server.options().ioTimeout().toNanos();
        try {
            if (!receive()) {
                peerFailed = true;
                throw new EOFException("end of stream inside a request body");
            }
        } catch (IOException e) {
            peerFailed = true;                      // volatile; handlerFailed reads it, maybe on the executor
            throw e;
        } finally {
            readDeadline = 0;
        }
        return in;
    }

    int readByte() throws IOException {
        return inbound(true).readByte() & 0xff;
    }

    // ---- outbound -----------------------------------------------------------------------------------

    private ByteBuf out() throws ClosedChannelException {
        ByteBuf o = out;
        if (o == null && phase == CLOSED) throw new ClosedChannelException();   // nobody would release it
        if (o == null) out = o = ByteBufAllocator.DEFAULT.directBuffer(HttpTunables.OUT_BUFFER_INITIAL_BYTES);
        return o;
    }

    /** Writes a response head; its fields were checked ({@link #checkFields}) or are the server's own. */
    void writeHead(int status, Headers headers) throws IOException {
        ByteBuf o = out();
        o.writeBytes(StatusLines.of(status));
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            String name = e.getKey();
            List<String> values = e.getValue();
            if (values == null) continue;
            for (String v : values) {
                o.writeCharSequence(name, ISO_8859_1);
                o.writeByte(':').writeByte(' ');
                o.writeCharSequence(v, ISO_8859_1);
                o.writeBytes(CRLF);
            }
        }
        o.writeBytes(CRLF);
        if (o.readableBytes() >= HttpTunables.OUT_FLUSH_BYTES) sendOut();
    }

    /**
     * Refuses response fields that would break the head: {@code Headers} checks values as they are added,
     * not those put into its lists directly. A name may hold no line break or colon, a value no line break
     * but a folded one; neither anything outside ISO-8859-1, and no value is null (as the JDK's provider
     * refuses). The exchange calls it before it acts on a head at all, so a refused head sends nothing
     * (not even 100 Continue) and leaves no field or status behind.
     */
    static void checkFields(Headers headers) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("empty response header name");
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '\r' || c == '\n' || c == ':' || c > 0xff) {
                    throw new IllegalArgumentException("illegal character in response header name: " + name);
                }
            }
            List<String> values = e.getValue();
            if (values == null) continue;
            for (String v : values) {
                if (v == null) throw new IllegalArgumentException("null value of response header " + name);
                for (int i = 0; i < v.length(); i++) {
                    char c = v.charAt(i);
                    boolean folded = c == '\r' && i + 2 < v.length() && v.charAt(i + 1) == '\n'
                            && (v.charAt(i + 2) == ' ' || v.charAt(i + 2) == '\t');
                    if (folded) {
                        i++;
                    } else if (c == '\r' || c == '\n' || c > 0xff) {
                        throw new IllegalArgumentException("illegal character in the value of response header " + name);
                    }
                }
            }
        }
    }

    void sendContinue() throws IOException {
        out().writeBytes(CONTINUE);
        sendOut();
    }

    void bodyData(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            ByteBuf o = out();
            int n = Math.min(len, Math.max(1, HttpTunables.OUT_FLUSH_BYTES - o.readableBytes()));
            o.writeBytes(b, off, n);
            off += n;
            len -= n;
            if (o.readableBytes() >= HttpTunables.OUT_FLUSH_BYTES) sendOut();
        }
    }

    /** Appends chunk data, coalescing writes into chunks of up to {@link HttpTunables#MAX_CHUNK_BYTES}. */
    void chunkData(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            ByteBuf o = out();
            if (chunkStart < 0) {
                chunkStart = o.writerIndex();
                o.writeZero(CHUNK_HEADER);
            }
            int room = HttpTunables.MAX_CHUNK_BYTES - (o.writerIndex() - chunkStart - CHUNK_HEADER);
            int n = Math.min(len, room);
            o.writeBytes(b, off, n);
            off += n;
            len -= n;
            if (n == room) {
                endChunk();
                if (o.readableBytes() >= HttpTunables.OUT_FLUSH_BYTES) sendOut();
            }
        }
    }

    private void endChunk() {
        if (chunkStart < 0) return;
        ByteBuf o = out;
        int size = o.writerIndex() - chunkStart - CHUNK_HEADER;
        if (size == 0) {
            o.writerIndex(chunkStart);
        } else {
            for (int i = 0; i < 4; i++) o.setByte(chunkStart + i, HEX[(size >>> (12 - 4 * i)) & 0xf]);
            o.setByte(chunkStart + 4, '\r').setByte(chunkStart + 5, '\n');
            o.writeBytes(CRLF);
        }
        chunkStart = -1;
    }

    void lastChunk() throws IOException {
        endChunk();
        out().writeBytes(LAST_CHUNK);
    }

    /** Sends what is buffered (closing an open chunk first when chunked). */
    void sendBuffered(boolean chunked) throws IOException {
        if (chunked) endChunk();
        sendOut();
    }

    private void sendOut() throws IOException {
        ByteBuf o = out;
        if (o == null || !o.isReadable() || chunkStart >= 0) return;
        out = null;
        int n = o.readableBytes();
        deadline = System.nanoTime() + server.options().ioTimeout().toNanos();
        try {
            wire.write(o);                          // takes ownership
            server.bytesOut(n);
        } catch (IOException e) {
            broken = true;
            peerFailed = true;
            throw e;
        } finally {
            deadline = 0;
        }
    }

    // ---- exchange callbacks -------------------------------------------------------------------------

    void exchangeFinished(Exchange x) {
        server.exchangeFinished(x);
    }

    void bodyFailed(Exchange x, Exception e) {
        if (e instanceof HttpStatusException s && !x.headersSent() && !x.isDone()) {
            try {
                x.getResponseHeaders().clear();
                x.sendResponseHeaders(s.status(), -1);
            } catch (IOException | RuntimeException ignored) {
                // the handler sees the failure of its read either way
            }
        }
    }

    /** Takes the receive buffer for one request body operation; fails once the connection released it. */
    void lockInbound() throws ClosedChannelException {
        lockUnreleased(inLock);
    }

    void unlockInbound() {
        inLock.unlock();
    }

    /** Takes the send buffer for one response operation; fails once the connection released it. */
    void lockOutbound() throws ClosedChannelException {
        lockUnreleased(outLock);
    }

    private void lockUnreleased(ReentrantLock lock) throws ClosedChannelException {
        lock.lock();
        if (released) {
            lock.unlock();
            throw new ClosedChannelException();
        }
    }

    void unlockOutbound() {
        outLock.unlock();
    }

    /** The earliest deadline of the waits in progress (a body read may overlap a write), 0 none. */
    long nextDeadline() {
        long d = deadline, r = readDeadline;
        if (d == 0) return r;
        if (r == 0) return d;
        return r - d < 0 ? r : d;
    }

    void checkOpen() throws IOException {
        if (phase == CLOSED) throw new ClosedChannelException();
    }

    /**
     * Whether the response being started closes the connection: after a broken one, and while stopping
     * unless the connection has received the next request already (this request's body complete and
     * bytes of another in {@code in}), which it then answers (see serve): a response that says close is
     * the last (RFC 9112 section 9.6). Called holding outLock; inLock is only tried, never waited for (a
     * body read holding it means the body is not complete), so the lock order stands.
     */
    boolean shouldClose(Exchange x) {
        if (broken) return true;
        if (!server.isStopping()) return false;
        if (!answersWhileStopping() || !inLock.tryLock()) return true;
        try {
            ByteBuf b = in;
            return released || !x.requestBody().complete() || b == null
                    || b.forEachByte(c -> c == '\r' || c == '\n') < 0;   // only line breaks: no request
        } finally {
            inLock.unlock();
        }
    }

    /**
     * While stopping, whether the connection answers a request it has received: not once stop() has
     * returned (it leaves open only the connection of a handler that stopped its own server, for that
     * handler's response).
     */
    private boolean answersWhileStopping() {
        return !server.isStopped();
    }

    boolean isClosedByServer() {
        return phase == CLOSED;
    }

    /**
     * Whether a request is in progress, which stop() lets finish first: its head arriving (HEAD), or from
     * its head's parse until its response is handed to the wire (BUSY; the exchange may not be set yet).
     */
    boolean busy() {
        int p = phase;
        return p == HEAD || p == BUSY;
    }

    long maxBodyBytes() { return server.options().maxRequestBodyBytes(); }
    int maxHeaderBytes() { return server.options().maxHeaderBytes(); }
    long idleTimeoutSeconds() { return server.options().idleTimeout().toSeconds(); }
    InetSocketAddress remoteAddress() { return wire.remoteAddress(); }
    InetSocketAddress localAddress() { return wire.localAddress(); }

    /**
     * Sends 408 and closes: the body of the fiber the sweeper starts for an expired HEAD, after moving the
     * phase to CLOSED and the deadline to when it closes the connection if this write still waits.
     */
    void timeOutHead() {
        try {
            ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(128);
            b.writeBytes(StatusLines.of(408));
            b.writeCharSequence("Content-length: 0\r\nConnection: close\r\nDate: " + DateHeader.now() + "\r\n\r\n", ISO_8859_1);
            int n = b.readableBytes();
            wire.write(b);
            server.bytesOut(n);
        } catch (IOException e) {
            // closing anyway
        } finally {
            closeNow();
        }
    }

    /** Closes the wire now (any thread); the serving fiber's blocked read or write then fails. */
    void closeNow() {
        phase = CLOSED;                              // volatile write; the serving fiber's CASes then fail
        wire.close();
        Thread t = thread;
        if (t != null) java.util.concurrent.locks.LockSupport.unpark(t);   // re-checks in Exchange.awaitDone
    }
}
