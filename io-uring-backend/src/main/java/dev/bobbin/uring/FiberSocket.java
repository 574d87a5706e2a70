package dev.bobbin.uring;

import io.netty.channel.ChannelOption;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP connection with blocking-style operations for fibers (and any other thread), on a
 * {@link FiberIo} transport.
 *
 * <p>Reads block until data, end of stream, an error, the read timeout, {@link #close()} from another
 * thread, or an interrupt. Writes hand the data to the event loop and return; a writer waits only while
 * more than 64 KiB of its data is still on its way to the kernel, so a request/response exchange costs
 * one park (the write overlaps the next read). A write failure is reported by the next write,
 * {@link #flush()} or {@link #shutdownOutput()}. {@link #close()} lets queued writes reach the kernel
 * (for at most 10 seconds) before closing the descriptor; an interrupt closes at once.
 *
 * <p>Exceptions are the JDK's: {@link java.net.ConnectException} (refused), {@link SocketTimeoutException}
 * (connect or read timeout), {@link java.net.SocketException} (reset, broken pipe),
 * {@link ClosedChannelException} (use after close), {@link AsynchronousCloseException} (closed while
 * blocked), {@link ClosedByInterruptException} (interrupted while blocked; the socket is closed and the
 * interrupt status stays set). The messages keep the OS error text.
 *
 * <p>Thread safety: one reader and one writer may work concurrently (reads are serialized among
 * themselves, writes likewise); {@code close} may be called from any thread at any time. The socket
 * may be used from any carrier: operations always run on the loop of the carrier where the socket was
 * first used, and a fiber blocked on it resumes there.
 */
public final class FiberSocket extends Endpoint implements Closeable {
    private final SocketChannel sch;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private ByteBuf leftover;                          // guarded by readLock: received, not yet consumed
    private volatile long readTimeoutNanos;            // 0 = none
    private boolean connectStarted;                    // guarded by writeLock
    private volatile boolean outputShut;
    private final AtomicLong inFlight = new AtomicLong(); // bytes handed to the loop, not yet written
    private volatile IOException writeError;           // first write failure
    private volatile Thread writeWaiter;               // a writer waiting for inFlight to drop

    // loop-confined state
    private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
    private Pending<ByteBuf> readWaiter;
    private Pending<Void> connectWaiter;
    private boolean eof;
    private IOException readError;
    private boolean loopClosed;
    private ChannelFuture lastWrite;

    FiberSocket(FiberIo io, SocketChannel ch, boolean accepted) {
        super(io, ch);
        this.sch = ch;
        ch.config().setAutoRead(false);
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        ch.pipeline().addLast(new Bridge());
        track();
    }

    // ---- connect ------------------------------------------------------------------------------------

    /**
     * Connects to {@code remote}, waiting at most {@code timeout} ({@link Duration#ZERO}: no limit). On
     * failure the socket is closed.
     *
     * @throws java.net.ConnectException       if refused
     * @throws SocketTimeoutException          if the timeout elapsed
     * @throws AlreadyConnectedException       if connected already
     * @throws ConnectionPendingException      if another connect is under way
     */
    public void connect(SocketAddress remote, Duration timeout) throws IOException {
        Objects.requireNonNull(remote, "remote");
        long nanos = timeoutNanos(timeout);
        if (remote instanceof InetSocketAddress a && a.isUnresolved()) {
            throw new java.nio.channels.UnresolvedAddressException();
        }
        checkOpen();
        writeLock.lock();
        try {
            if (sch.isActive()) throw new AlreadyConnectedException();
            if (connectStarted) throw new ConnectionPendingException();
            connectStarted = true;
        } finally {
            writeLock.unlock();
        }
        long ms = nanos == 0 ? 0 : Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanos)));
        ch.config().setConnectTimeoutMillis((int) ms);
        Pending<Void> p = new Pending<>(Thread.currentThread());
        run(() -> startConnect(p, remote));
        try {
            await(p);
        } catch (ClosedByInterruptException e) {
            throw e;
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private void startConnect(Pending<Void> p, SocketAddress remote) {
        if (!p.isWaiting()) return;
        if (registrationError != null) {
            p.fail(registrationError);
            return;
        }
        if (loopClosed) {
            p.fail(new AsynchronousCloseException());
            return;
        }
        connectWaiter = p;
        ch.connect(remote).addListener(f -> {
            if (connectWaiter == p) connectWaiter = null;
            if (f.isSuccess()) p.complete(null);
            else p.fail(loopClosed ? new AsynchronousCloseException() : IoErrors.translate(f.cause(), "connect"));
        });
    }

    // ---- reading ------------------------------------------------------------------------------------

    /**
     * Reads up to {@code dst.remaining()} bytes, blocking until at least one is available.
     *
     * @return the number of bytes read, 0 only if {@code dst} has no room, or -1 at end of stream
     */
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        if (dst.isReadOnly()) throw new IllegalArgumentException("read-only buffer");
        readLock.lock();
        try {
            checkOpen();
            if (!dst.hasRemaining()) return 0;
            ByteBuf b = currentChunkLocked();
            if (b == null) return -1;
            int n = Math.min(dst.remaining(), b.readableBytes());
            int limit = dst.limit();
            dst.limit(dst.position() + n);
            b.readBytes(dst);
            dst.limit(limit);
            releaseIfDrainedLocked(b);
            return n;
        } finally {
            readLock.unlock();
            releaseLeftoverIfClosed();
        }
    }

    /** Reads into {@code dst} until it is full. @throws EOFException if the stream ends first */
    public void readFully(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        while (dst.hasRemaining()) {
            if (read(dst) < 0) throw new EOFException("end of stream with " + dst.remaining() + " bytes still expected");
        }
    }

    /**
     * Returns the next chunk of received bytes without copying, blocking until there is one; the caller
     * owns it and must release it. Returns null at end of stream.
     */
    public ByteBuf receive() throws IOException {
        readLock.lock();
        try {
            checkOpen();
            ByteBuf b = leftover;
            if (b != null) {
                leftover = null;
                return b;
            }
            return receiveLocked();
        } finally {
            readLock.unlock();
            releaseLeftoverIfClosed();
        }
    }

    /** Reads into {@code dst}'s writable bytes, blocking until at least one is available; -1 at end of stream. */
    public int read(ByteBuf dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        readLock.lock();
        try {
            checkOpen();
            if (!dst.isWritable()) return 0;
            ByteBuf b = currentChunkLocked();
            if (b == null) return -1;
            int n = Math.min(dst.writableBytes(), b.readableBytes());
            dst.writeBytes(b, n);
            releaseIfDrainedLocked(b);
            return n;
        } finally {
            readLock.unlock();
            releaseLeftoverIfClosed();
        }
    }

    /** The chunk being copied out: the leftover of an earlier read, or a newly received one; null at end of stream. */
    private ByteBuf currentChunkLocked() throws IOException {
        if (leftover == null) leftover = receiveLocked();
        return leftover;
    }

    /** Releases the current chunk once a read has copied all of it. */
    private void releaseIfDrainedLocked(ByteBuf b) {
        if (!b.isReadable()) {
            leftover = null;
            b.release();
        }
    }

    private ByteBuf receiveLocked() throws IOException {
        Pending<ByteBuf> p = new Pending<>(Thread.currentThread());
        long timeout = readTimeoutNanos;
        run(() -> startRead(p, timeout));
        return await(p);
    }

    private void startRead(Pending<ByteBuf> p, long timeoutNanos) {
        if (!p.isWaiting()) return;
        ByteBuf b = inbound.pollFirst();
        if (b != null) {
            if (!p.complete(b)) inbound.addFirst(b);
            return;
        }
        if (registrationError != null) p.fail(registrationError);
        else if (readError != null) p.fail(readError);
        else if (loopClosed) p.fail(new AsynchronousCloseException());
        else if (eof || !ch.isActive()) p.complete(null);
        else {
            readWaiter = p;
            if (timeoutNanos > 0) scheduleTimeout(p, timeoutNanos, () -> takeReadWaiterIf(p), "Read timed out");
            ch.read();
        }
    }

    /** Loop: hands the reader its result, or keeps a buffer for the next read. */
    private void deliver(ByteBuf b) {
        Pending<ByteBuf> w = takeReadWaiter();
        if (w == null || !w.complete(b)) inbound.addLast(b);
    }

    private Pending<ByteBuf> takeReadWaiter() {
        Pending<ByteBuf> w = readWaiter;
        readWaiter = null;
        if (w != null) w.cancelTimer();
        return w;
    }

    /** Loop, on a read timeout: clears the waiting reader if it still is {@code p}. */
    private boolean takeReadWaiterIf(Pending<ByteBuf> p) {
        if (readWaiter != p) return false;
        readWaiter = null;
        return true;
    }

    private void releaseLeftoverIfClosed() {
        // Either close() sees the read lock free, or the reader, unlocking after close set the flag, sees it.
        if (isClosedFlag() && readLock.tryLock()) {
            try {
                if (leftover != null) {
                    leftover.release();
                    leftover = null;
                }
            } finally {
                readLock.unlock();
            }
        }
    }

    // ---- writing ------------------------------------------------------------------------------------

    /** Writes all of {@code src} (copied; {@code src} is free for reuse on return). @return the bytes written */
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        int n = src.remaining();
        if (n == 0) {
            checkOpen();
            return 0;
        }
        ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(n);
        b.writeBytes(src);
        write(b);
        return n;
    }

    /** {@link #write(ByteBuffer)}, named as in stream code. */
    public void writeAll(ByteBuffer src) throws IOException {
        write(src);
    }

    /** Writes all readable bytes of {@code buf} without copying; takes ownership (releases it) in all cases. */
    public void write(ByteBuf buf) throws IOException {
        Objects.requireNonNull(buf, "buf");
        int n = buf.readableBytes();
        writeLock.lock();
        try {
            IOException e = writeRefusal();
            if (e == null && Thread.currentThread().isInterrupted()) {
                closeForInterrupt();
                e = new ClosedByInterruptException();
            }
            if (e != null || n == 0) {
                buf.release();
                if (e != null) throw e;
                return;
            }
            inFlight.addAndGet(n);
            try {
                run(() -> startWrite(buf, n));
            } catch (IOException | RuntimeException x) {
                inFlight.addAndGet(-n);
                buf.release();
                throw x;
            }
            awaitInFlightAtMost(IoTunables.WRITE_HIGH_WATER_BYTES);
        } finally {
            writeLock.unlock();
        }
    }

    /** Waits until every byte written so far has reached the kernel. */
    public void flush() throws IOException {
        writeLock.lock();
        try {
            checkOpen();
            awaitInFlightAtMost(0);
        } finally {
            writeLock.unlock();
        }
    }

    private IOException writeRefusal() {
        if (isClosedFlag()) return new ClosedChannelException();
        if (outputShut) return new ClosedChannelException();
        return writeError;
    }

    private void startWrite(ByteBuf buf, int n) {
        if (registrationError != null) {
            buf.release();
            writeDone(n, registrationError);
            return;
        }
        ChannelFuture f = ch.writeAndFlush(buf);       // Netty releases buf when written or failed
        lastWrite = f;
        f.addListener(x -> writeDone(n, x.cause()));
    }

    private void writeDone(int n, Throwable cause) {
        if (cause != null && writeError == null) {
            writeError = loopClosed ? new AsynchronousCloseException() : IoErrors.translate(cause, "write");
        }
        inFlight.addAndGet(-n);                        // then read writeWaiter: Dekker with awaitInFlightAtMost
        Thread w = writeWaiter;
        if (w != null) LockSupport.unpark(w);
    }

    private void awaitInFlightAtMost(long limit) throws IOException {
        if (inFlight.get() > limit) {
            writeWaiter = Thread.currentThread();      // then read inFlight: Dekker with writeDone
            try {
                while (inFlight.get() > limit) {
                    if (writeError != null) break;
                    if (isClosedFlag()) throw new AsynchronousCloseException();
                    if (Thread.currentThread().isInterrupted()) {
                        closeForInterrupt();
                        throw new ClosedByInterruptException();
                    }
                    LockSupport.park(this);
                }
            } finally {
                writeWaiter = null;
            }
        }
        IOException e = writeError;
        if (e != null) throw e;
    }

    // ---- half close and close -----------------------------------------------------------------------

    /** Shuts down the output after the data written so far has reached the kernel: the peer reads EOF. */
    public void shutdownOutput() throws IOException {
        writeLock.lock();
        try {
            checkOpen();
            if (outputShut) return;
            awaitInFlightAtMost(0);
            outputShut = true;
            Pending<Void> p = new Pending<>(Thread.currentThread());
            run(() -> {
                if (!p.isWaiting()) return;
                sch.shutdownOutput().addListener(f -> {
                    if (f.isSuccess()) p.complete(null);
                    else p.fail(IoErrors.translate(f.cause(), "shutdownOutput"));
                });
            });
            await(p);
        } finally {
            writeLock.unlock();
        }
    }

    /** Shuts down the input: received and future data is discarded and reads return -1. */
    public void shutdownInput() throws IOException {
        checkOpen();
        Pending<Void> p = new Pending<>(Thread.currentThread());
        run(() -> {
            eof = true;
            releaseInbound();
            Pending<ByteBuf> w = takeReadWaiter();
            if (w != null) w.complete(null);
            if (!p.isWaiting()) return;
            sch.shutdownInput().addListener(f -> {
                if (f.isSuccess() || !ch.isActive()) p.complete(null);
                else p.fail(IoErrors.translate(f.cause(), "shutdownInput"));
            });
        });
        await(p);
    }

    /**
     * Closes the socket. Threads blocked in it fail with {@link AsynchronousCloseException}; data already
     * written still goes out (within 10 seconds). Idempotent; never blocks; any thread.
     */
    @Override
    public void close() {
        if (!markClosed()) return;
        Thread w = writeWaiter;
        if (w != null) LockSupport.unpark(w);
        try {
            run(() -> closeOnLoop(false));
        } catch (ClosedChannelException e) {
            // the loop is gone, and closed every channel it had
        }
        releaseLeftoverIfClosed();
    }

    @Override
    void closeForInterrupt() {
        if (!markClosed()) return;
        try {
            run(() -> closeOnLoop(true));
        } catch (ClosedChannelException e) {
            // the loop is gone, and closed every channel it had
        }
        // the interrupted thread holds the read or write lock; it releases its leftover on unlock
    }

    private void closeOnLoop(boolean now) {
        if (loopClosed) return;
        loopClosed = true;
        Pending<ByteBuf> r = takeReadWaiter();
        if (r != null) r.fail(new AsynchronousCloseException());
        Pending<Void> c = connectWaiter;
        connectWaiter = null;
        if (c != null) c.fail(new AsynchronousCloseException());
        releaseInbound();
        ChannelFuture last = lastWrite;
        if (!now && last != null && !last.isDone() && ch.isActive()) {
            Future<?> force = home().schedule(() -> { ch.close(); }, IoTunables.CLOSE_DRAIN_NANOS, TimeUnit.NANOSECONDS);
            last.addListener(f -> {
                force.cancel(false);
                ch.close();
            });
        } else {
            closeChannel();
        }
    }

    @Override
    void closeAtShutdown() {
        markClosed();
        Thread w = writeWaiter;
        if (w != null) LockSupport.unpark(w);
        closeOnLoop(true);
        closeChannel();                                // also when an earlier close() left it draining
    }

    /** Closes an accepted socket nobody took: on the server's loop, before any registration. */
    void closeUnused() {
        markClosed();
        loopClosed = true;
        closeChannel();
    }

    private void releaseInbound() {
        ByteBuf b;
        while ((b = inbound.pollFirst()) != null) b.release();
    }

    // ---- options and addresses ----------------------------------------------------------------------

    /**
     * Sets a socket option: {@link java.net.StandardSocketOptions} TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR,
     * SO_REUSEPORT, SO_SNDBUF, SO_RCVBUF, SO_LINGER, IP_TOS.
     *
     * @throws UnsupportedOperationException if the transport lacks the option
     */
    public <T> FiberSocket setOption(SocketOption<T> option, T value) throws IOException {
        Objects.requireNonNull(option, "option");
        Objects.requireNonNull(value, "value");
        ensureOpen();
        io.transport().setOption(ch.config(), option, value);
        return this;
    }

    /** The current value of a socket option (see {@link #setOption}). */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        Objects.requireNonNull(option, "option");
        ensureOpen();
        return io.transport().getOption(ch.config(), option);
    }

    /** Read timeout: a read waiting longer throws {@link SocketTimeoutException} and the socket stays usable. {@link Duration#ZERO}: none. */
    public FiberSocket setReadTimeout(Duration timeout) {
        readTimeoutNanos = timeoutNanos(timeout);
        return this;
    }

    /** The read timeout; {@link Duration#ZERO} if none. */
    public Duration readTimeout() {
        return Duration.ofNanos(readTimeoutNanos);
    }

    /** The remote address, or null if not connected. */
    public InetSocketAddress remoteAddress() {
        return sch.remoteAddress();
    }

    /** The local address, or null if not bound. */
    public InetSocketAddress localAddress() {
        return sch.localAddress();
    }

    /** Whether the socket is connected and not closed. */
    public boolean isConnected() {
        return !isClosedFlag() && sch.isActive();
    }

    /** Whether {@link #close()} has been called (or an interrupt closed it). */
    public boolean isClosed() {
        return isClosedFlag();
    }

    /** The transport this socket runs on. */
    public IoTransport transport() {
        return io.transport();
    }

    // ---- stream views -------------------------------------------------------------------------------

    /** An InputStream over this socket; closing it closes the socket. */
    public InputStream inputStream() {
        return new InputStream() {
            @Override public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xFF;
            }

            @Override public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) return 0;
                return FiberSocket.this.read(ByteBuffer.wrap(b, off, len));
            }

            @Override public int available() throws IOException {
                ensureOpen();
                if (!readLock.tryLock()) return 0;
                try {
                    return leftover == null ? 0 : leftover.readableBytes();
                } finally {
                    readLock.unlock();
                }
            }

            @Override public void close() {
                FiberSocket.this.close();
            }
        };
    }

    /** An OutputStream over this socket; {@code flush} waits for the kernel; closing it closes the socket. */
    public OutputStream outputStream() {
        return new OutputStream() {
            @Override public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override public void write(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) return;
                FiberSocket.this.write(ByteBuffer.wrap(b, off, len));
            }

            @Override public void flush() throws IOException {
                FiberSocket.this.flush();
            }

            @Override public void close() {
                FiberSocket.this.close();
            }
        };
    }

    @Override
    public String toString() {
        return "FiberSocket[" + io.transport().id() + ", " + localAddress() + " -> " + remoteAddress()
                + (isClosedFlag() ? ", closed" : "") + "]";
    }

    /** Loop: bridges the channel's events to the blocked reader. */
    private final class Bridge extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (loopClosed || eof || !b.isReadable()) {
                b.release();
                return;
            }
            deliver(b);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (readWaiter != null && ch.isActive() && !eof) ch.read();   // a read that yielded nothing
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete) {
                eof = true;
                Pending<ByteBuf> w = takeReadWaiter();
                if (w != null) w.complete(null);
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (readError == null) readError = IoErrors.translate(cause, "read");
            Pending<ByteBuf> w = takeReadWaiter();
            if (w != null) w.fail(readError);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            eof = true;
            Pending<ByteBuf> w = takeReadWaiter();
            if (w != null) {
                if (loopClosed) w.fail(new AsynchronousCloseException());
                else if (readError != null) w.fail(readError);
                else w.complete(null);
            }
            Thread ww = writeWaiter;
            if (ww != null) LockSupport.unpark(ww);
        }
    }
}
