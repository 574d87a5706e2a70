package dev.bobbin.http;

import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * TLS, server side, over a {@link FiberSocket}: an {@link SSLEngine} (in server mode, configured by the
 * caller) turns the socket's ciphertext into the application bytes of {@link #receive()} and the bytes of
 * {@link #write(ByteBuf)} into TLS records.
 *
 * <p><b>Handshake.</b> It runs lazily, driven by {@link #receive()}: the client speaks first, so the first
 * receive reads the ClientHello and steps the engine through its handshake states until application data
 * arrives. {@code NEED_TASK}: the engine's delegated tasks run inline on the calling fiber.
 * {@code NEED_WRAP}: the engine's handshake output (and, after the handshake, post-handshake messages such
 * as TLS 1.3 session tickets, key updates or a close_notify reply) is wrapped and sent at once.
 * {@code NEED_UNWRAP}: the buffered ciphertext is unwrapped; on {@code BUFFER_UNDERFLOW} (no whole record
 * buffered) one more chunk is read from the socket, and the ciphertext buffer grows when a record is
 * larger than it. A write that comes before the first handshake has finished waits until a receive has
 * moved it on (or the wire is closed). A later handshake (a TLS 1.2 client's renegotiation) does not hold
 * writes up: the engine takes data under the session already negotiated, so a response goes out while the
 * renegotiation waits for the client's next messages, which the next receive reads. The first handshake's
 * end is the {@code FINISHED} status of a wrap or unwrap ({@code negotiated}).
 *
 * <p><b>Records.</b> {@code receive()} decrypts into a pooled heap buffer handed to the caller; it starts
 * at {@link HttpTunables#TLS_APP_BUFFER_INITIAL_BYTES} and after a {@code BUFFER_OVERFLOW} (a record larger
 * than the buffer) every later one is sized to the session's application buffer size. Application data
 * records already buffered are decrypted into the same buffer while they fit (a record of another type,
 * such as a TLS 1.2 close_notify, waits for the next receive: the engine would close its sending side at
 * once), but a receive reads the socket only while it has nothing to return. {@code write} wraps one record per engine call into a pooled direct buffer of the
 * session's packet size (the engine refuses a smaller one) and
 * hands each to the socket (which takes ownership). The end of the stream is the peer's close_notify
 * ({@code CLOSED}) or the socket's end of stream; both make {@code receive()} return null. The engine
 * never loops without progress: an unwrap that neither consumes nor produces is treated as an underflow
 * (read more), a record claiming more than the session's packet size, and repeated wraps without
 * output, fail with {@link SSLException}.
 *
 * <p><b>Locks.</b> One reader and one writer may run at once. {@code unwrapLock} guards the unwrap side:
 * the ciphertext buffer {@code netIn}, the decrypted-buffer size, and the end-of-stream and failure state.
 * {@code wrapLock} guards every {@code engine.wrap} together with the socket writes of its output, so
 * records reach the socket in the order the engine produced them, whether the writer wraps data or the
 * reader wraps handshake messages. A reader never waits for {@code wrapLock}: when the engine needs to
 * wrap (a handshake reply, a TLS 1.3 key update reply, a session ticket) and the lock is taken, the reader
 * leaves that output to the holder and reads on. Waiting could deadlock: a writer blocked on a peer that
 * does not read, because the peer's own writer is blocked on us, whose reader would be waiting for that
 * writer. The hand-over is a Dekker handshake on {@code wrapWanted}:
 * <pre>
 *   reader                                   holder of wrapLock
 *   wrapWanted = true        (volatile)      ... wraps while the engine needs it, writes ...
 *   tryLock (CAS on the lock state)          unlock (volatile write of the lock state)
 *     taken: clear wrapWanted, wrap, unlock    if wrapWanted (volatile read): tryLock, clear, wrap, unlock
 *     not taken: read on                       (and the same check again after that unlock)
 * </pre>
 * Either the reader's tryLock sees the release, or the holder's read after its release sees the flag, so
 * the engine's output is never left unsent while the peer waits for it. {@code taskLock} lets one thread at a time run delegated tasks (the
 * other waits for the result instead of spinning on {@code NEED_TASK}). {@code progressLock} and its
 * condition count the reader's engine steps; a writer stalled on the handshake waits on them. The reader
 * takes {@code wrapLock} while holding {@code unwrapLock}; nothing takes them in the other order.
 *
 * <p><b>Close.</b> {@link #close()} is idempotent, may come from any thread and never waits: if the write
 * lock is free it closes the engine's outbound side and queues close_notify (or a pending alert) as the
 * socket's last bytes ({@link FiberSocket#writeAndClose}, which does not wait for a peer that reads
 * nothing), and closes the socket, which makes a reader blocked in the socket fail with
 * {@link AsynchronousCloseException}. If a writer holds the lock (blocked on a peer that does not read),
 * the socket is closed without close_notify. {@link #shutdownOutput()} waits at most
 * {@link HttpTunables#TLS_CLOSE_NOTIFY_LOCK_NANOS} for the write lock, sends close_notify and leaves the
 * socket open, so the caller can read the peer's last bytes before it closes; if handing close_notify to
 * the socket takes longer than {@link HttpTunables#TLS_CLOSE_NOTIFY_SEND_NANOS} (a peer that does not
 * read), the socket is closed underneath it.
 */
final class TlsWire implements Wire {
    private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};
    private static final int MAX_IDLE_WRAPS = 3;
    private static final byte APPLICATION_DATA = 23;   // a TLS record header's content type (RFC 8446 5.1)

    private final FiberSocket socket;
    private final SSLEngine engine;
    private final ByteBufAllocator alloc;

    private final ReentrantLock unwrapLock = new ReentrantLock();
    private ByteBuffer netIn = ByteBuffer.allocate(HttpTunables.TLS_NET_BUFFER_INITIAL_BYTES); // unwrapLock; write mode
    private int appBufferBytes = HttpTunables.TLS_APP_BUFFER_INITIAL_BYTES;                     // unwrapLock
    private boolean inputDone;                                                                  // unwrapLock
    private IOException readFailure;                                                            // unwrapLock

    final ReentrantLock wrapLock = new ReentrantLock();     // package-private: tests watch who waits for it
    private final ReentrantLock taskLock = new ReentrantLock();

    private final ReentrantLock progressLock = new ReentrantLock();
    private final Condition progressed = progressLock.newCondition();
    private long progress;                                                                      // progressLock

    private volatile boolean closed;
    private volatile boolean negotiated;               // a wrap or unwrap reported FINISHED once; never cleared
    private volatile boolean wrapWanted;               // the reader left engine output to wrapLock's holder (Dekker, see above)
    private volatile boolean closeNotifyQueued;        // set once close_notify is handed to the socket

    TlsWire(FiberSocket socket, SSLEngine engine) {
        this(socket, engine, ByteBufAllocator.DEFAULT);
    }

    /** With the allocator of its buffers: tests count what a wire holds. */
    TlsWire(FiberSocket socket, SSLEngine engine, ByteBufAllocator alloc) {
        if (engine.getUseClientMode()) throw new IllegalArgumentException("the SSLEngine must be in server mode");
        this.socket = socket;
        this.engine = engine;
        this.alloc = alloc;
    }

    // ---- receiving ----------------------------------------------------------------------------------

    /** The next decrypted bytes (caller owns them), null at close_notify or the socket's end of stream. */
    @Override
    public ByteBuf receive() throws IOException {
        unwrapLock.lock();
        try {
            if (closed) throw new ClosedChannelException();
            if (readFailure != null) throw readFailure;
            if (inputDone) return null;
            try {
                return receiveLocked();
            } catch (SSLException e) {
                readFailure = e;                       // the engine is dead: later receives fail the same way
                throw e;
            }
        } finally {
            unwrapLock.unlock();
        }
    }

    private ByteBuf receiveLocked() throws IOException {
        ByteBuf out = null;
        boolean wrapLeftToWriter = false;              // post-handshake output the writer sends; read on meanwhile
        try {
            for (;;) {
                HandshakeStatus hs = engine.getHandshakeStatus();
                if (hs == HandshakeStatus.NEED_TASK) {
                    runTasks();
                    continue;
                }
                if (hs == HandshakeStatus.NEED_WRAP && !wrapLeftToWriter) {
                    if (wrapHandshake()) continue;
                    wrapLeftToWriter = true;
                }
                if (out == null) out = alloc.heapBuffer(appBufferBytes);
                SSLEngineResult r = unwrapInto(out);
                boolean haveData = out.isReadable();
                switch (r.getStatus()) {
                    case OK -> {
                        if (haveData) {
                            // decrypt on while application data is buffered, but not into a record of another
                            // type: a TLS 1.2 engine that takes a close_notify also closes its sending side, and
                            // the response to the request just decrypted would then be refused (TLS 1.3 hides
                            // the type, and its close_notify leaves the sending side open)
                            boolean more = r.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
                                    && netIn.position() > 0 && netIn.get(0) == APPLICATION_DATA && out.isWritable();
                            if (!more) return out;
                        } else if (r.bytesConsumed() == 0 && (wrapLeftToWriter || stalled(r.getHandshakeStatus()))) {
                            out = releaseEmpty(out);
                            if (!fill()) return endOfStream(null);
                            wrapLeftToWriter = false;  // try the lock again
                        }
                    }
                    case BUFFER_UNDERFLOW -> {
                        if (haveData) return out;
                        out = releaseEmpty(out);
                        if (!fill()) return endOfStream(null);
                        wrapLeftToWriter = false;
                    }
                    case BUFFER_OVERFLOW -> {
                        if (haveData) return out;
                        int need = Math.max(engine.getSession().getApplicationBufferSize(), out.capacity() * 2);
                        if (out.capacity() >= Math.max(engine.getSession().getApplicationBufferSize(),
                                engine.getSession().getPacketBufferSize())) {
                            throw new SSLException("a TLS record does not fit " + out.capacity() + " bytes");
                        }
                        appBufferBytes = need;
                        out.release();
                        out = null;
                    }
                    case CLOSED -> {
                        if (haveData) return out;      // the next receive sees CLOSED again
                        out.release();
                        out = null;
                        inputDone = true;
                        replyToClose();
                        return null;
                    }
                }
            }
        } catch (Throwable t) {
            if (out != null) out.release();
            throw t;
        }
    }

    /**
     * Lets go of an empty decrypt buffer before the reader waits for the peer: an idle connection's reader
     * waits there, and holds only the ciphertext buffer meanwhile. Returns null, the new {@code out}.
     */
    private static ByteBuf releaseEmpty(ByteBuf out) {
        out.release();
        return null;
    }

    /** Unwraps the buffered ciphertext into {@code out}'s writable bytes, advancing its writer index. */
    private SSLEngineResult unwrapInto(ByteBuf out) throws SSLException {
        ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
        netIn.flip();
        SSLEngineResult r;
        try {
            r = engine.unwrap(netIn, dst);
        } finally {
            netIn.compact();
            signalProgress();
        }
        out.writerIndex(out.writerIndex() + r.bytesProduced());
        if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) negotiated = true;
        return r;
    }

    /** An unwrap that consumed nothing and left the engine waiting for input: more ciphertext is needed. */
    private static boolean stalled(HandshakeStatus hs) {
        return hs == HandshakeStatus.NOT_HANDSHAKING || hs == HandshakeStatus.NEED_UNWRAP || hs == HandshakeStatus.FINISHED;
    }

    /**
     * Reads one chunk of ciphertext from the socket into {@code netIn}, growing it to fit; false at the
     * socket's end of stream. Fails if a whole packet is buffered yet the engine still wants more.
     */
    private boolean fill() throws IOException {
        int maxPacket = engine.getSession().getPacketBufferSize();
        if (netIn.position() >= maxPacket) {
            throw new SSLException("TLS record larger than the session's packet size (" + maxPacket + " bytes)");
        }
        ByteBuf chunk = socket.receive();
        if (chunk == null) return false;
        try {
            int n = chunk.readableBytes();
            if (netIn.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(netIn.position() + n, netIn.capacity() * 2));
                bigger.put(netIn.flip());
                netIn = bigger;
            }
            int limit = netIn.limit();
            netIn.limit(netIn.position() + n);
            chunk.readBytes(netIn);
            netIn.limit(limit);
        } finally {
            chunk.release();
        }
        return true;
    }

    /** The socket ended (without close_notify): end of stream for the caller too. */
    private ByteBuf endOfStream(ByteBuf out) {
        if (out != null) out.release();
        inputDone = true;
        return null;
    }

    /** After the peer's close_notify: sends the engine's reply if it has one (best effort). */
    private void replyToClose() {
        if (engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP) return;
        try {
            wrapHandshake();
        } catch (IOException e) {
            // the peer is gone already; its close_notify ended the stream either way
        }
    }

    /** Runs the engine's delegated tasks on this thread; one thread at a time. */
    private void runTasks() {
        taskLock.lock();
        try {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) task.run();
        } finally {
            taskLock.unlock();
        }
        signalProgress();
    }

    // ---- sending ------------------------------------------------------------------------------------

    /** Encrypts and sends all readable bytes of {@code buf}; releases it in all cases. */
    @Override
    public void write(ByteBuf buf) throws IOException {
        try {
            if (closed) throw new ClosedChannelException();
            ByteBuffer[] srcs = buf.nioBuffers();
            for (;;) {
                long seen = progress();
                boolean done;
                wrapLock.lock();
                try {
                    done = wrapLocked(srcs);
                } finally {
                    releaseWrapLock();
                }
                if (done) return;
                awaitProgress(seen);                   // the handshake must move on first: receive() drives it
            }
        } finally {
            buf.release();
        }
    }

    /**
     * Reader: wraps and sends what the engine has to send on its own (handshake, post-handshake, alerts)
     * if the wrap lock is free; if it is taken, leaves that to its holder and returns false.
     */
    private boolean wrapHandshake() throws IOException {
        wrapWanted = true;                             // Dekker: publish the request, then try the lock
        if (!wrapLock.tryLock()) return false;         // the holder sees the request after its release
        wrapRequested();
        return true;
    }

    /** Releases the wrap lock, then serves a reader that left the engine's output to the holder meanwhile. */
    private void releaseWrapLock() throws IOException {
        wrapLock.unlock();                             // Dekker: release the lock, then read the request
        if (wrapWanted && wrapLock.tryLock()) wrapRequested();
    }

    /**
     * Wrap lock held: wraps and sends the engine's own output a reader asked for, and releases the lock;
     * again for as long as requests come in while this thread holds the lock for them.
     */
    private void wrapRequested() throws IOException {
        do {
            try {
                wrapWanted = false;
                wrapLocked(NOTHING);
            } finally {
                wrapLock.unlock();                     // the loop condition re-reads the request after this
            }
            signalProgress();
        } while (wrapWanted && wrapLock.tryLock());
    }

    /**
     * Wrap lock held: wraps all of {@code srcs}, and whatever the engine needs to send, sending each record
     * as it is made. Returns false if data remains but the engine waits for the peer's handshake messages.
     */
    private boolean wrapLocked(ByteBuffer[] srcs) throws IOException {
        return wrapLocked(srcs, toSocket);
    }

    /** Where {@link #wrapLocked(ByteBuffer[], RecordSink)} hands each record it made; takes ownership. */
    private interface RecordSink {
        void accept(ByteBuf record) throws IOException;
    }

    private final RecordSink toSocket = this::sendRecord;   // made once, not per wrap

    private void sendRecord(ByteBuf rec) throws IOException {
        socket.write(rec);
    }

    /** {@link #wrapLocked(ByteBuffer[])}, handing each record to {@code sink} instead of the socket. */
    private boolean wrapLocked(ByteBuffer[] srcs, RecordSink sink) throws IOException {
        int idle = 0;
        int size = 0;                                  // 0: size the output from the data
        for (;;) {
            long left = remaining(srcs);
            HandshakeStatus hs = engine.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_TASK) {
                runTasks();
                continue;
            }
            if (left == 0 && hs != HandshakeStatus.NEED_WRAP) return true;
            // Waiting for the peer's handshake messages: data can go only once a first handshake is done
            // (a TLS 1.2 renegotiation, whose messages the next receive() reads, e.g. the next request's).
            if ((hs == HandshakeStatus.NEED_UNWRAP || hs == HandshakeStatus.NEED_UNWRAP_AGAIN)
                    && (left == 0 || !negotiated)) return false;
            int packet = engine.getSession().getPacketBufferSize();
            int cap = Math.max(size, packet);      // the engine refuses (BUFFER_OVERFLOW) anything under a packet
            ByteBuf out = alloc.directBuffer(cap);
            SSLEngineResult r;
            try {
                r = engine.wrap(srcs, out.nioBuffer(0, cap));
            } catch (Throwable t) {
                out.release();
                throw t;
            }
            out.writerIndex(r.bytesProduced());
            if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) negotiated = true;
            if (!out.isReadable()) {
                out.release();
            } else {
                // a small record keeps a small buffer while in flight (a peer that reads slowly may leave
                // many queued): the pool copies it into a smaller size class
                if (out.readableBytes() < cap / 4) out.capacity(out.readableBytes());
                sink.accept(out);
            }
            switch (r.getStatus()) {
                case BUFFER_OVERFLOW -> size = Math.max(packet, cap * 2);
                case CLOSED -> {
                    if (remaining(srcs) > 0) throw new SSLException("the TLS connection is closed for writing");
                    return true;
                }
                default -> size = 0;
            }
            if (r.bytesProduced() == 0 && r.bytesConsumed() == 0) {
                if (++idle > MAX_IDLE_WRAPS) throw new SSLException("the TLS engine makes no progress: " + r);
            } else {
                idle = 0;
            }
        }
    }

    private static long remaining(ByteBuffer[] srcs) {
        long n = 0;
        for (ByteBuffer b : srcs) n += b.remaining();
        return n;
    }

    private long progress() {
        progressLock.lock();
        try {
            return progress;
        } finally {
            progressLock.unlock();
        }
    }

    /** Counts an engine step of the reader (or a close) and wakes a writer waiting for the handshake. */
    private void signalProgress() {
        progressLock.lock();
        try {
            progress++;
            progressed.signalAll();
        } finally {
            progressLock.unlock();
        }
    }

    /** Waits until the reader has stepped the engine since {@code seen}; fails once the wire is closed. */
    private void awaitProgress(long seen) throws IOException {
        progressLock.lock();
        try {
            while (progress == seen) {
                if (closed) throw new AsynchronousCloseException();
                progressed.await();
            }
            if (closed) throw new AsynchronousCloseException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ClosedByInterruptException();
        } finally {
            progressLock.unlock();
        }
    }

    /** Waits until every byte written so far has reached the kernel. */
    @Override
    public void flush() throws IOException {
        socket.flush();
    }

    // ---- closing ------------------------------------------------------------------------------------

    /**
     * Sends close_notify: the peer reads the end of the stream, and receiving goes on until it answers.
     * Called by the connection's own fiber, which may wait briefly for a writer to finish its record.
     */
    @Override
    public void shutdownOutput() throws IOException {
        flush();
        boolean locked;
        try {
            locked = wrapLock.tryLock(HttpTunables.TLS_CLOSE_NOTIFY_LOCK_NANOS, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (locked) sendCloseNotifyLocked();           // else a writer is stuck on a peer that does not read
    }

    /**
     * Queues close_notify (best effort) and closes the socket; idempotent, any thread. It never waits,
     * neither for the wrap lock nor for the peer to take the bytes in flight: a writer holding it is stuck on a peer that does not read, which is why a
     * timeout or {@code stop} closes the connection, and closing one after the other must not queue
     * behind each stuck writer.
     */
    @Override
    public void close() {
        if (closed) return;
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        ByteBuf last = null;
        try {
            if (wrapLock.tryLock()) last = wrapCloseNotifyLocked();
        } finally {
            // close_notify is queued behind the bytes in flight, never waiting for a peer that reads nothing:
            // the sweeper and stop() close one connection after the other
            if (last != null) socket.writeAndClose(last);
            else socket.close();
            signalProgress();                          // a writer waiting for the handshake fails now
        }
    }

    /**
     * Closes the engine's outbound side and wraps its close_notify (or pending alert) without sending it;
     * null if there is nothing to send. The caller holds wrapLock, which this releases.
     */
    private ByteBuf wrapCloseNotifyLocked() {
        ByteBuf[] all = {null};
        try {
            engine.closeOutbound();
            wrapLocked(NOTHING, rec -> {
                if (all[0] == null) {
                    all[0] = rec;
                } else {
                    all[0].ensureWritable(rec.readableBytes()).writeBytes(rec);
                    rec.release();
                }
            });
        } catch (IOException | RuntimeException e) {
            // best effort: what was wrapped still goes out
        } finally {
            wrapLock.unlock();
        }
        return all[0];
    }

    /** Sends close_notify; the caller holds wrapLock, which this releases. */
    private void sendCloseNotifyLocked() {
        try {
            engine.closeOutbound();
            // a socket write waits while much is still unsent: if the peer does not read, close anyway
            CompletableFuture.delayedExecutor(HttpTunables.TLS_CLOSE_NOTIFY_SEND_NANOS, TimeUnit.NANOSECONDS)
                    .execute(() -> {
                        if (!closeNotifyQueued) socket.close();
                    });
            wrapLocked(NOTHING);
            closeNotifyQueued = true;
        } catch (IOException | RuntimeException e) {
            // best effort: the socket is closed next either way
        } finally {
            wrapLock.unlock();
        }
    }

    // ---- the rest -----------------------------------------------------------------------------------

    /** The negotiated session; while the handshake runs, the session being negotiated. */
    @Override
    public SSLSession sslSession() {
        SSLSession hs = engine.getHandshakeSession();
        return hs != null ? hs : engine.getSession();
    }

    @Override public InetSocketAddress remoteAddress() { return socket.remoteAddress(); }
    @Override public InetSocketAddress localAddress() { return socket.localAddress(); }

    @Override
    public String toString() {
        return "TlsWire[" + socket + ", " + engine.getSession().getProtocol() + "]";
    }
}
