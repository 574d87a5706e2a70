package dev.bobbin.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import dev.bobbin.base.VarHandles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * One request and its response on a connection. This object is the {@link HttpExchange} a plain
 * server's handlers get; a TLS server's get a {@link SecureExchange} wrapping it.
 *
 * <p>Ownership: the connection's fiber creates the exchange and hands it to the handler (on the same
 * fiber, or on the server's executor). From then until {@link #finish} the handler's thread owns the
 * connection's buffers; {@code finish} publishes that end through {@link #done} (volatile write; pairs
 * with the volatile read in {@link #awaitDone}), after which the connection's fiber owns them again. A
 * handler that handed the exchange to another thread may still use them when the connection is closed
 * under it: the connection's buffer locks cover that case (Connection, "Buffers").
 *
 * <p>Response framing follows {@code sendResponseHeaders(code, length)}: length -1 is no body
 * ({@code Content-length: 0}), 0 is chunked (or, for an HTTP/1.0 client, a body ended by closing the
 * connection), n is exactly n bytes. 1xx, 204 and 304 responses and responses to HEAD carry no body.
 */
final class Exchange extends HttpExchange {
    private final Connection conn;
    private final RequestHead head;
    private final ServerContext context;
    private final Headers requestHeaders;
    private final Headers responseHeaders = new Headers();
    private final RequestBody requestBody;
    private final ResponseBody responseBody;
    final long startNanos = System.nanoTime();
    private InputStream requestStream;
    private OutputStream responseStream;
    private Map<String, Object> attributes;
    private HttpPrincipal principal;
    private int responseCode = -1;
    private boolean headersSent;
    private boolean continuePending;
    boolean closeAfter;                         // the connection closes after this exchange
    private volatile boolean done;              // release in finish; pairs with the acquire in awaitDone
    private volatile Thread waiter;             // the connection fiber waiting in awaitDone
    private volatile boolean chainRunning;      // the filters and handler run (Dekker with closeOwed; see close)
    private volatile boolean closeOwed;         // close() reached only a filter's replaced response stream
    @SuppressWarnings("unused") private volatile boolean replacedEnded; // REPLACED_END: that close was carried out
    private static final VarHandle REPLACED_END = VarHandles.field(MethodHandles.lookup(), Exchange.class, "replacedEnded", boolean.class);

    Exchange(Connection conn, RequestHead head, ServerContext context, long contentLength, boolean continuePending,
             boolean closeAfter) {
        this.conn = conn;
        this.head = head;
        this.context = context;
        this.requestHeaders = new RequestHeaders(head.names(), head.values(), head.fieldCount());
        this.requestBody = new RequestBody(conn, this, contentLength, conn.maxBodyBytes());
        this.responseBody = new ResponseBody(conn, this);
        this.requestStream = requestBody;
        this.responseStream = responseBody;
        this.continuePending = continuePending;
        this.closeAfter = closeAfter;
    }

    RequestHead head() { return head; }
    ServerContext context() { return context; }
    RequestBody requestBody() { return requestBody; }
    boolean headersSent() { return headersSent; }
    boolean continueStillPending() { return continuePending; }
    boolean isDone() { return done; }

    @Override public Headers getRequestHeaders() { return requestHeaders; }
    @Override public Headers getResponseHeaders() { return responseHeaders; }
    @Override public URI getRequestURI() { return head.uri(); }
    @Override public String getRequestMethod() { return head.method(); }
    @Override public HttpContext getHttpContext() { return context; }
    @Override public InputStream getRequestBody() { return requestStream; }
    @Override public OutputStream getResponseBody() { return responseStream; }
    @Override public InetSocketAddress getRemoteAddress() { return conn.remoteAddress(); }
    @Override public InetSocketAddress getLocalAddress() { return conn.localAddress(); }
    @Override public int getResponseCode() { return responseCode; }
    @Override public String getProtocol() { return head.protocol(); }
    @Override public HttpPrincipal getPrincipal() { return principal; }

    void setPrincipal(HttpPrincipal p) {
        principal = p;
    }

    @Override
    public synchronized Object getAttribute(String name) {
        Objects.requireNonNull(name, "name");
        return attributes == null ? null : attributes.get(name);
    }

    @Override
    public synchronized void setAttribute(String name, Object value) {
        Objects.requireNonNull(name, "name");
        if (attributes == null) attributes = new ConcurrentHashMap<>();
        if (value == null) attributes.remove(name);
        else attributes.put(name, value);
    }

    @Override
    public void setStreams(InputStream i, OutputStream o) {
        if (i != null) requestStream = i;
        if (o != null) responseStream = o;
    }

    @Override
    public void sendResponseHeaders(int code, long length) throws IOException {
        if (headersSent) throw new IOException("headers already sent");
        if (code < 100 || code > 999) throw new IllegalArgumentException("status code not in [100, 999]: " + code);
        if (length < -1) throw new IllegalArgumentException("negative response length: " + length);
        conn.lockOutbound();
        try {
            sendResponseHeadersLocked(code, length);
        } finally {
            conn.unlockOutbound();
        }
    }

    private void sendResponseHeadersLocked(int code, long length) throws IOException {
        // again under the lock: a reader's refusal of a malformed body (bodyFailed) may race the handler's headers
        if (headersSent) throw new IOException("headers already sent");
        if (done) throw new IOException("exchange closed");
        conn.checkOpen();
        Connection.checkFields(responseHeaders);        // before anything is sent or set: a refused head leaves no trace
        responseCode = code;
        if (continuePending && code >= 200) {
            // The client holds the body back until it hears 100 Continue, and a handler that answers before
            // reading it (to stream it back, say) still wants it: the interim response goes first. A refusal
            // (4xx, 5xx) does not invite the body, so the connection cannot carry another request.
            if (code < 400) {
                continuePending = false;
                conn.sendContinue();
            } else {
                closeAfter = true;
            }
        }
        boolean informational = code < 200 || code == 204 || code == 304;
        boolean noBody = false;
        ResponseBody.Mode mode;
        if (informational) length = -1;
        if (head.method().equals("HEAD") || code == 304) {
            noBody = true;
            mode = ResponseBody.Mode.FIXED;
            length = 0;
        } else if (length == 0) {
            if (head.http10()) {
                mode = ResponseBody.Mode.UNTIL_CLOSE;
                closeAfter = true;
            } else {
                responseHeaders.set("Transfer-encoding", "chunked");
                mode = ResponseBody.Mode.CHUNKED;
            }
        } else {
            if (length == -1) {
                noBody = true;
                length = 0;
            }
            if (!informational) responseHeaders.set("Content-length", Long.toString(length));
            mode = ResponseBody.Mode.FIXED;
        }
        if (!closeAfter && responseHeaders.containsKey("Connection")) {
            for (String v : responseHeaders.get("Connection")) {
                if (v.equalsIgnoreCase("close")) closeAfter = true;
            }
        }
        if (conn.shouldClose(this)) closeAfter = true;
        if (closeAfter) {
            responseHeaders.set("Connection", "close");
        } else if (head.http10()) {
            responseHeaders.set("Connection", "keep-alive");
            responseHeaders.set("Keep-Alive", "timeout=" + conn.idleTimeoutSeconds());
        }
        responseHeaders.set("Date", DateHeader.now());
        conn.writeHead(code, responseHeaders);
        headersSent = true;
        responseBody.start(mode, length);
        if (noBody) {
            // as close() does (and the JDK's provider): the request body ends with the exchange, so a
            // handler on another thread cannot read on while the connection drains it for the next request
            responseBody.closeQuietly();
        }
    }

    /** Sends {@code 100 Continue} before the first read of a body the client is holding back. */
    void continueIfExpected() throws IOException {
        if (!continuePending) return;
        conn.lockOutbound();                        // a reader's; the send buffer may be a writer's at once
        try {
            if (continuePending) {
                continuePending = false;
                if (!headersSent) conn.sendContinue();
            }
        } finally {
            conn.unlockOutbound();
        }
    }

    /** A read of the request body failed: the rest of the connection's bytes cannot be framed. */
    void bodyFailed(Exception e) {
        closeAfter = true;
        conn.bodyFailed(this, e);
    }

    /**
     * Closes the exchange: the request body is left to the connection (drained or the connection closed)
     * and the response body is closed. Closing before the response headers were sent closes the connection.
     */
    @Override
    public void close() {
        if (done) return;
        try {
            requestStream.close();
        } catch (IOException ignored) {
            // a filter's stream; the connection drains the real one
        }
        if (!headersSent) {
            closeAfter = true;
            finish(false);
            return;
        }
        try {
            responseStream.close();
        } catch (IOException e) {
            closeAfter = true;
        }
        if (!done) {
            // A filter replaced the response stream and its close did not reach ours. The filter may still
            // write ours once the chain returns to it (a filter that transforms what the handler wrote):
            // while the chain runs, the end waits for it (chainEnded). Dekker with chainEnded: each writes
            // its flag, then reads the other's (volatile), so at least one of them ends the response.
            closeOwed = true;
            if (!chainRunning) endReplacedResponse();
        }
    }

    /** The connection runs the filter chain and the handler (on whichever thread runs them). */
    void chainStarted() {
        chainRunning = true;
    }

    /** The chain returned: a close that reached only a filter's replaced stream ends the response now. */
    void chainEnded() {
        chainRunning = false;                       // volatile; then read closeOwed (Dekker with close)
        if (closeOwed) endReplacedResponse();
    }

    /** Ends the real response body once, whoever of close and chainEnded comes to it. */
    private void endReplacedResponse() {
        if (!done && REPLACED_END.compareAndSet(this, false, true)) responseBody.closeQuietly();
    }

    /** Completes the exchange; {@code complete} false means the response is broken (close the connection). */
    void finish(boolean complete) {
        if (done) return;
        if (!complete) closeAfter = true;
        conn.exchangeFinished(this);
        done = true;                                // release; pairs with the acquire in awaitDone
        Thread w = waiter;
        if (w != null) LockSupport.unpark(w);
    }

    /**
     * Waits (on the connection's fiber) until the exchange is finished. Returns false if the connection
     * was closed (a timeout or stop) without the exchange finishing, whether or not the handler has
     * returned: a handler still running on the executor (one that never returns, say) must not keep the
     * connection's fiber, and with it stop() closing the server's scheduler, waiting. That handler, or a
     * thread it gave the exchange to, may still use the exchange, so the connection releases its buffers
     * under their lock and the late calls fail with an IOException.
     */
    boolean awaitDone() {
        waiter = Thread.currentThread();
        while (!done) {                             // acquire; pairs with the release in finish
            if (conn.isClosedByServer()) return false;
            LockSupport.park(this);
        }
        return true;
    }

    /**
     * The handler returned with a complete fixed-length response it did not close: complete it, request
     * body included, as {@code close()} does.
     */
    void finishIfFullySent() {
        if (!done && responseBody.fixedComplete()) responseBody.closeQuietly();
    }
}
