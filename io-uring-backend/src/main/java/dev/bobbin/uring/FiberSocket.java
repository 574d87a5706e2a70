package dev.bobbin.uring;

import dev.bobbin.base.VarHandles;
import dev.bobbin.uring.driver.IoErrors;
import dev.bobbin.uring.driver.IoTunables;
import dev.bobbin.uring.driver.Pending;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
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
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
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
 * (for at most 10 seconds, {@link #setCloseDrainTimeout}) before closing the descriptor; writes that do
 * not make it in time are not dropped silently: the socket is then closed with a reset, which the peer
 * sees as "Connection reset" rather than a clean end of stream. {@link #flush()} before {@code close()}
 * waits for the kernel and reports a failure to the writer. An interrupt closes the socket as
 * {@code close()} does (the bytes of writes that returned still go out, as a JDK socket's kernel sends
 * them after its close), except in {@link #shutdownInput()} and {@link #shutdownOutput()} (with no write
 * still in flight), which, as the JDK's sockets do, complete and leave the interrupt pending. A socket
 * closed by its carrier's shutdown with writes still queued is closed with a reset.
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
 * first used, in the order they were made, and a fiber blocked on it resumes there. Bytes reach the
 * peer in the order they were written, whichever carriers the writers ran on.
 */
public final class FiberSocket extends Endpoint implements Closeable {
    private static final VarHandle IN_FLIGHT = VarHandles.field(MethodHandles.lookup(), FiberSocket.class, "inFlight", long.class);
    private final SocketChannel sch;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private ByteBuf leftover;                          // guarded by readLock: received, not yet consumed
    private static final System.Logger LOG = System.getLogger("dev.bobbin.uring");
    private volatile long readTimeoutNanos;            // 0 = none
    private volatile long closeDrainNanos = IoTunables.CLOSE_DRAIN_NANOS; // close(): how long queued writes may take
    private boolean connectStarted;                    // guarded by writeLock
    private volatile boolean connected;                // accepted, or a connect succeeded; never cleared
    private volatile boolean inputShut;                // shutdownInput() was called: reads return -1
    private volatile boolean outputShut;
    private volatile long inFlight;                    // bytes handed to the loop, not yet written; added to by addInFlight
    private volatile IOException writeError;           // first write failure
    private volatile Thread writeWaiter;               // a writer waiting for inFlight to drop

    // loop-confined state
    private ArrayDeque<ByteBuf> inbound;               // made by the first buffer no reader takes (an idle socket has none)
    private volatile boolean prefetching;              // available() asked the loop for a read that has not delivered yet
    private volatile int inboundBytes;                 // loop writes, anyone reads: the readable bytes in inbound (available())
    private Pending<ByteBuf> readWaiter;
    private Pending<Void> connectWaiter;
    private boolean shutdownWhenDrained;               // a half close behind a writer waits for the bytes in flight
    private boolean eof;
    private IOException readError;
    private boolean loopClosed;
    private Future<?> drainLimit;                      // non-null while close() waits for the bytes in flight:
                                                       // the timer that resets at closeDrainNanos (resetAfterDrainLimit)
    private PollOutWatch pollOutWatch;                 // io_uring, after end of input with bytes in flight: checkPollOut's state

    FiberSocket(FiberIo io, SocketChannel ch, boolean accepted) {
        super(io, ch, accepted);
        this.sch = ch;
        ch.config().setAutoRead(false);
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        // a failed write shuts the output down instead of closing the channel: what the peer sent before
        // it reset the connection (an answer to a request it refused) stays readable, as on a JDK socket
        ch.config().setAutoClose(false);
        shareRecvAllocator(ch);
        ch.pipeline().addLast(new Bridge());
        this.connected = accepted;
        track();
    }

    /** The receive-buffer allocator every socket of this Netty's default one shares: the first socket's. */
    private static volatile AdaptiveRecvByteBufAllocator sharedRecvAllocator;

    /**
     * Gives {@code ch} the shared receive-buffer allocator in place of the one Netty made for it. Netty's
     * default allocator holds only settings (the buffer size it adapts lives in each channel's handle), and
     * nothing changes them on a socket's channel, so one serves every socket, as a bootstrap's child option
     * does: an idle connection does not keep an allocator of its own.
     */
    private static void shareRecvAllocator(SocketChannel ch) {
        if (!(ch.config().getRecvByteBufAllocator() instanceof AdaptiveRecvByteBufAllocator own)
                || own.getClass() != AdaptiveRecvByteBufAllocator.class) return;
        AdaptiveRecvByteBufAllocator shared = sharedRecvAllocator;   // volatile; pairs with the write below
        if (shared == null) sharedRecvAllocator = own;               // a race makes another socket's the shared one: as good
        else if (shared != own && shared.maxMessagesPerRead() == own.maxMessagesPerRead()) ch.config().setRecvByteBufAllocator(shared);
    }

    // ---- connect ------------------------------------------------------------------------------------

    /**
     * Connects to {@code remote}, waiting at most {@code timeout} ({@link Duration#ZERO}: no limit). On
     * failure the socket is closed, except for an address it cannot use, refused before any attempt as
     * {@code SocketChannel} does: {@link java.nio.channels.UnresolvedAddressException} for an unresolved
     * one, {@link java.nio.channels.UnsupportedAddressTypeException} for one that is not an
     * {@link InetSocketAddress}.
     *
     * @throws java.net.ConnectException       if refused
     * @throws SocketTimeoutException          if the timeout elapsed
     * @throws AlreadyConnectedException       if connected already
     * @throws ConnectionPendingException      if another connect is under way
     * @throws NullPointerException            if an argument is null
     * @throws IllegalArgumentException        if {@code timeout} is negative
     */
    public void connect(SocketAddress remote, Duration timeout) throws IOException {
        Objects.requireNonNull(remote, "remote");
        long nanos = timeoutNanos(timeout);
        InetSocketAddress to = loopbackForWildcard(checkAddress(remote));
        checkOpen();
        writeLock.lock();
        try {
            if (connected) throw new AlreadyConnectedException();
            if (connectStarted) throw new ConnectionPendingException();
            connectStarted = true;
        } finally {
            writeLock.unlock();
        }
        long ms = nanos == 0 ? 0 : Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanos)));
        ch.config().setConnectTimeoutMillis((int) ms);
        Pending<Void> p = new Pending<>(Thread.currentThread());
        run(() -> startConnect(p, to));
        try {
            await(p);
        } catch (ClosedByInterruptException e) {
            throw e;
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /**
     * {@code a}, or for the wildcard address (0.0.0.0, ::) the loopback address of its family, as
     * {@code SocketChannel.connect} does: an epoll or io_uring socket is IPv6 and would otherwise take
     * 0.0.0.0 for ::, so miss a listener bound to 127.0.0.1 only.
     */
    private static InetSocketAddress loopbackForWildcard(InetSocketAddress a) throws java.net.UnknownHostException {
        InetAddress ip = a.getAddress();
        if (!ip.isAnyLocalAddress()) return a;
        byte[] loopback = new byte[ip instanceof Inet4Address ? 4 : 16];
        if (loopback.length == 4) loopback[0] = 127;
        loopback[loopback.length - 1] = 1;
        return new InetSocketAddress(InetAddress.getByAddress(loopback), a.getPort());
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
            if (f.isSuccess()) {
                connected = true;                      // volatile; read by the data operations' entry checks
                p.complete(null);
            }
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
        return readInto(dst, null);
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
        long timeout = lockForRead();
        try {
            if (inputShutLocked()) return null;
            ByteBuf b = leftover;
            if (b != null) {
                leftover = null;
                return b;
            }
            return await(receiveLocked(timeout));
        } finally {
            readLock.unlock();
            releaseLeftoverIfClosed();
        }
    }

    /** Reads into {@code dst}'s writable bytes, blocking until at least one is available; -1 at end of stream. */
    public int read(ByteBuf dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        return readInto(null, dst);
    }

    /** The one copying read behind both {@code read}s: exactly one of {@code nio} and {@code netty} is set. */
    private int readInto(ByteBuffer nio, ByteBuf netty) throws IOException {
        long timeout = lockForRead();
        try {
            if (inputShutLocked()) return -1;
            int room = nio != null ? nio.remaining() : netty.isWritable() ? netty.writableBytes() : 0; // a read-only ByteBuf is not writable
            if (room == 0) return 0;
            ByteBuf b = leftover;                      // the rest of an earlier chunk, or a new one
            if (b == null) leftover = b = await(receiveLocked(timeout));
            if (b == null) return -1;
            int n = Math.min(room, b.readableBytes());
            if (nio != null) {
                int limit = nio.limit();
                nio.limit(nio.position() + n);
                b.readBytes(nio);
                nio.limit(limit);
            } else {
                netty.writeBytes(b, n);
            }
            releaseIfDrainedLocked(b);
            return n;
        } finally {
            readLock.unlock();
            releaseLeftoverIfClosed();
        }
    }

    /**
     * The entry of every read: checks the socket is open and connected, then takes the read lock, waiting
     * behind another reader at most the read timeout ({@link SocketTimeoutException}) and giving up on an
     * interrupt (which closes the socket, as a blocked read does). Returns the time left of the read
     * timeout in nanoseconds, or 0 if there is none.
     */
    private long lockForRead() throws IOException {
        try {
            return lockForReadOrFail();
        } catch (IOException e) {
            releaseLeftoverIfClosed();                 // the lock is not ours: a reader that never got it releases too
            throw e;
        }
    }

    private long lockForReadOrFail() throws IOException {
        checkOpen();
        requireConnected();
        long timeout = readTimeoutNanos;
        if (readLock.tryLock()) return timeout;
        try {
            if (timeout == 0) {
                readLock.lockInterruptibly();
                return 0;
            }
            long start = System.nanoTime();
            if (!readLock.tryLock(timeout, TimeUnit.NANOSECONDS)) throw new SocketTimeoutException("Read timed out");
            return Math.max(1, timeout - (System.nanoTime() - start));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeForInterrupt();
            throw new ClosedByInterruptException();
        }
    }

    /** Read lock held: after shutdownInput() every read sees end of stream; data kept for a read is dropped. */
    private boolean inputShutLocked() {
        if (!inputShut) return false;
        if (leftover != null) {
            leftover.release();
            leftover = null;
        }
        return true;
    }

    /** Like {@code java.net.Socket}: data operations on a socket that was never connected fail. */
    private void requireConnected() throws java.net.SocketException {
        if (!connected) throw new java.net.SocketException("Socket is not connected");
    }

    /** Releases the current chunk once a read has copied all of it. */
    private void releaseIfDrainedLocked(ByteBuf b) {
        if (!b.isReadable()) {
            leftover = null;
            b.release();
        }
    }

    /**
     * Read lock held: asks the loop for the next chunk (null at end of stream), which the reader then
     * awaits. A reader parked in {@link #await} keeps its frames in the heap while it waits: this one has
     * returned by then.
     */
    private ReadOp receiveLocked(long timeout) throws IOException {
        ReadOp p = new ReadOp(this, timeout);
        run(p);
        return p;
    }

    /** A read: the reader's result cell and its loop task in one object, one allocation per read. */
    private static final class ReadOp extends Pending<ByteBuf> implements Runnable {
        private final FiberSocket socket;
        private final long timeoutNanos;

        ReadOp(FiberSocket socket, long timeoutNanos) {
            super(Thread.currentThread());
            this.socket = socket;
            this.timeoutNanos = timeoutNanos;
        }

        @Override
        public void run() {                            // loop
            assert socket.holdsLoop() : "socket read run without its loop's ring token";
            socket.startRead(this, timeoutNanos);
        }
    }

    private void startRead(Pending<ByteBuf> p, long timeoutNanos) {
        if (!p.isWaiting()) return;
        ByteBuf b = inbound == null ? null : inbound.pollFirst();
        if (b != null) {
            inboundBytes -= b.readableBytes();         // single writer: the loop
            if (!p.complete(b)) {
                inbound.addFirst(b);
                inboundBytes += b.readableBytes();
            }
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
        assert holdsLoop() : "received bytes delivered off the socket's loop";
        if (prefetching) prefetching = false;
        Pending<ByteBuf> w = takeReadWaiter();
        if (w == null || !w.complete(b)) {
            if (inbound == null) inbound = new ArrayDeque<>(2);   // grows as buffers queue up
            inbound.addLast(b);
            inboundBytes += b.readableBytes();         // single writer: the loop
        }
    }

    /**
     * As the JDK's {@code available()} (FIONREAD) counts the bytes the kernel holds: with no read made,
     * nothing fetches them (auto-read is off), so an {@code available()} that finds none asks the loop for
     * one read; what it receives waits in {@code inbound} for the next read and counts for the next
     * {@code available()}.
     */
    private void prefetch() {
        if (prefetching) return;                       // one read asked for at a time: a polling loop of available() costs nothing more
        prefetching = true;                            // volatile; cleared on the loop once bytes or the end arrive
        try {
            run(() -> {
                if (readWaiter == null && (inbound == null || inbound.isEmpty()) && !eof && !loopClosed && registrationError == null
                        && ch.isActive()) {
                    ch.read();                         // its bytes (or the end) clear the flag: deliver, Bridge
                } else {
                    prefetching = false;
                }
            });
        } catch (ClosedChannelException e) {
            prefetching = false;                       // the loop is gone: nothing will arrive
        }
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

    /**
     * Releases the partly read chunk once the socket is closed. Every path that closes calls it, and so
     * does every reader after it unlocks: either the closer sees the read lock free, or the reader,
     * unlocking after the flag was set, sees the flag. Never from inside a read: the lock is reentrant, and
     * a reader that closes for an interrupt may still be copying out of the chunk.
     */
    private void releaseLeftoverIfClosed() {
        if (isClosedFlag() && !readLock.isHeldByCurrentThread() && readLock.tryLock()) {
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

    /**
     * Writes all of {@code src} (copied; {@code src} is free for reuse on return). The bytes are copied
     * into direct memory in chunks of at most 64 KiB, each handed to the loop once less than 64 KiB of
     * the socket's writes is still on its way, so one socket holds at most their sum in direct memory
     * whatever the size of {@code src}. Other writers wait until the whole of {@code src} is queued. If
     * direct memory runs out the write fails with an {@link IOException}.
     *
     * @return the bytes written
     */
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        int n = src.remaining();
        lockForWrite();
        try {
            if (n == 0) {
                checkOpen();
                requireConnected();
                if (outputShut) throw new ClosedChannelException();
                return 0;
            }
            boolean first = true;
            while (src.hasRemaining()) {
                int chunk = Math.min(src.remaining(), IoTunables.WRITE_CHUNK_BYTES);
                ByteBuf b;
                try {
                    b = ByteBufAllocator.DEFAULT.directBuffer(chunk);
                } catch (OutOfMemoryError e) {
                    throw new IOException("no direct memory for a " + chunk + "-byte write chunk", e);
                }
                int pos = src.position(), limit = src.limit();
                src.limit(pos + chunk);
                b.writeBytes(src);
                src.limit(limit).position(pos);            // src moves only once the loop has the bytes
                try {
                    queueLocked(b, chunk);
                } catch (ClosedChannelException e) {
                    // closed by another thread while this write was under way: as a JDK channel says
                    if (!first && !(e instanceof AsynchronousCloseException)) throw new AsynchronousCloseException();
                    throw e;
                }
                src.position(pos + chunk);                 // queued: these bytes reach the peer before any close
                first = false;
                awaitInFlightAtMost(IoTunables.WRITE_HIGH_WATER_BYTES);
            }
            return n;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * The entry of every write: takes the write lock, giving up on an interrupt while waiting behind
     * another writer (which closes the socket, as a blocked write does).
     */
    private void lockForWrite() throws IOException {
        if (writeLock.tryLock()) return;
        try {
            writeLock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeForInterrupt();
            releaseLeftoverIfClosed();
            throw new ClosedByInterruptException();
        }
    }

    /** {@link #write(ByteBuffer)}, named as in stream code. */
    public void writeAll(ByteBuffer src) throws IOException {
        write(src);
    }

    /** Writes all readable bytes of {@code buf} without copying; takes ownership (releases it) in all cases. */
    public void write(ByteBuf buf) throws IOException {
        Objects.requireNonNull(buf, "buf");
        int n = buf.readableBytes();
        try {
            lockForWrite();
        } catch (IOException x) {
            buf.release();
            throw x;
        }
        try {
            if (queueLocked(buf, n)) awaitInFlightAtMost(IoTunables.WRITE_HIGH_WATER_BYTES);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Write lock held: hands {@code buf}'s {@code n} readable bytes to the loop, which releases it once
     * written or failed; false, and {@code buf} released, if {@code n} is 0. If it throws, {@code buf} is
     * released and none of its bytes will be written.
     */
    private boolean queueLocked(ByteBuf buf, int n) throws IOException {
        IOException e = writeRefusal();
        if (e == null && Thread.currentThread().isInterrupted()) {
            closeForInterrupt();
            e = new ClosedByInterruptException();
        }
        if (e != null || n == 0) {
            buf.release();
            if (e != null) throw e;
            return false;
        }
        handOverLocked(buf, n);
        return true;
    }

    /**
     * Write lock held, no write refused: counts {@code buf}'s {@code n} bytes in flight and hands them to
     * the loop. If it throws, {@code buf} is released and none of its bytes will be written.
     */
    private void handOverLocked(ByteBuf buf, int n) throws IOException {
        addInFlight(n);                                // volatile; then read the flags: Dekker with close() and
        if (isClosedFlag()) {                          // shutdownOutputBehindWriter(); close() came meanwhile, and
            addInFlight(-n);                           // its loop pass may have missed these
            buf.release();
            rerunOnLoop(this::closeIfDrained);         // a close that did see them waits for them
            throw new AsynchronousCloseException();
        }
        if (outputShut) {                              // a half close came meanwhile: these bytes are refused, as
            addInFlight(-n);                           // later writes are, not handed over after the shutdown
            buf.release();
            rerunOnLoop(this::shutdownIfDrained);      // a shutdown pass that saw them in flight waits for them
            throw new ClosedChannelException();
        }
        try {
            run(new WriteOp(this, buf, n));
        } catch (IOException | RuntimeException x) {
            addInFlight(-n);
            buf.release();
            throw x;
        }
    }

    /**
     * Queues the readable bytes of {@code buf} as the socket's last ones and closes it, never waiting:
     * {@link #write(ByteBuf)} then {@link #close()}, except that the write does not wait for the peer to
     * take earlier bytes (the high-water mark), so a closer is not held by a peer that reads nothing. The
     * bytes go out after those already written, within the close's drain limit like them. If another
     * writer holds the socket, or it is closed, shut for output or failed, the bytes are dropped and the
     * socket is only closed. Takes ownership of {@code buf} (releases it) in all cases; any thread.
     */
    public void writeAndClose(ByteBuf buf) {
        Objects.requireNonNull(buf, "buf");
        int n = buf.readableBytes();
        boolean handedOver = false;                    // handOverLocked queues buf or releases it
        if (n > 0 && writeLock.tryLock()) {
            try {
                if (writeRefusal() == null) {
                    handedOver = true;
                    handOverLocked(buf, n);
                }
            } catch (IOException | RuntimeException dropped) {
                // released; the socket is closed below either way
            } finally {
                writeLock.unlock();
            }
        }
        if (!handedOver) buf.release();
        close();
    }

    /** Waits until every byte written so far has reached the kernel. */
    public void flush() throws IOException {
        lockForWrite();
        try {
            checkOpen();
            awaitInFlightAtMost(0);
        } finally {
            writeLock.unlock();
        }
    }

    private IOException writeRefusal() {
        if (isClosedFlag()) return new ClosedChannelException();
        if (!connected) return new java.net.SocketException("Socket is not connected");
        if (outputShut) return new ClosedChannelException();
        IOException e = writeError;
        return e == null ? null : IoErrors.inCaller(e);  // made on the loop: a fresh one naming this caller
    }

    /** A write: its loop task and the listener of its completion in one object, one allocation per write. */
    private static final class WriteOp implements Runnable, ChannelFutureListener {
        private final FiberSocket socket;
        private final ByteBuf buf;
        private final int n;

        WriteOp(FiberSocket socket, ByteBuf buf, int n) {
            this.socket = socket;
            this.buf = buf;
            this.n = n;
        }

        @Override
        public void run() {                            // loop
            assert socket.holdsLoop() : "socket write run without its loop's ring token";
            socket.startWrite(this);
        }

        @Override
        public void operationComplete(ChannelFuture f) {   // loop
            socket.writeDone(n, f.cause());
        }
    }

    private void startWrite(WriteOp op) {
        if (registrationError != null) {
            op.buf.release();
            writeDone(op.n, registrationError);
            return;
        }
        if (eof) pinEpoll();
        ch.writeAndFlush(op.buf).addListener(op);      // Netty releases buf when written or failed
        if (eof) watchPollOut();
    }

    /** Loop, at end of input: Netty's end-of-input paths break later waits for room (see {@link NettyHalfClose}). */
    private void inputEnded() {
        pinEpoll();
        watchPollOut();
    }

    /** Loop, at end of input on epoll: keeps Netty from dropping the descriptor, see {@link NettyHalfClose#pinEpoll}. */
    private void pinEpoll() {
        if (io.transport() == IoTransport.EPOLL) NettyHalfClose.pinEpoll(ch);
    }

    /**
     * Loop: after end of input, Netty's io_uring channel can miss the POLLOUT it waits for (see
     * {@link NettyHalfClose}): while bytes are in flight, checks now and then that it is not stalled, and
     * hands it the POLLOUT if it is. A poll for POLLOUT cannot wait for room once the input has ended (it
     * completes at once, with POLLRDHUP), so the check is a timer: every millisecond, slowing down to
     * every 64 while the peer takes nothing. Writes before end of input never start it.
     */
    private void watchPollOut() {
        if (!NettyHalfClose.URING || io.transport() != IoTransport.IO_URING) return;
        PollOutWatch w = pollOutWatch;
        if (w != null && w.timer != null) return;
        if (inFlight() == 0 || !ch.isOpen()) return;
        if (w == null) pollOutWatch = w = new PollOutWatch();
        w.timer = home().schedule(this::checkPollOut, w.periodNanos, TimeUnit.NANOSECONDS);
    }

    private static final long POLL_OUT_WATCH_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long POLL_OUT_WATCH_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(64);

    /** Loop: {@link #checkPollOut}'s state, made by its first timer and dropped once no byte is in flight. */
    private static final class PollOutWatch {
        Future<?> timer;                               // the next check, or null between checks
        long stalledPollOut;                           // the POLLOUT poll Netty waited for at the last check, or 0
        long periodNanos = POLL_OUT_WATCH_MIN_NANOS;   // the checks' period: doubles while the peer takes nothing
        long queuedAtCheck, inFlightAtCheck;           // Netty's queued bytes and inFlight at the last check
    }

    private void checkPollOut() {
        PollOutWatch w = pollOutWatch;
        w.timer = null;
        long left = inFlight();
        if (left == 0 || !ch.isOpen()) {
            pollOutWatch = null;                       // a later watch starts afresh
            return;
        }
        long id = NettyHalfClose.stalledPollOut(ch);
        if (id != 0 && id == w.stalledPollOut) {       // seen at the last check too: its completion went unnoticed
            NettyHalfClose.deliverPollOut(ch);
            id = 0;
        }
        w.stalledPollOut = id;
        ChannelOutboundBuffer ob = ch.unsafe().outboundBuffer();
        long queued = ob == null ? 0 : ob.totalPendingWriteBytes();   // the bytes Netty still holds
        boolean moved = queued != w.queuedAtCheck || left != w.inFlightAtCheck;   // bytes went out, or came in after some did
        w.periodNanos = moved ? POLL_OUT_WATCH_MIN_NANOS : Math.min(POLL_OUT_WATCH_MAX_NANOS, w.periodNanos * 2);
        w.queuedAtCheck = queued;
        w.inFlightAtCheck = left;
        watchPollOut();
    }

    /** The bytes handed to the loop and not yet written. */
    private long inFlight() {
        return inFlight;                               // volatile
    }

    /** Adds {@code delta} to {@link #inFlight()} (a volatile read-modify-write, as the Dekker pairs above need). */
    private void addInFlight(long delta) {
        IN_FLIGHT.getAndAdd(this, delta);
    }

    private void writeDone(int n, Throwable cause) {
        if (cause != null && writeError == null) {
            writeError = loopClosed ? new AsynchronousCloseException() : IoErrors.translate(cause, "write");
        }
        addInFlight(-n);                               // then read writeWaiter: Dekker with awaitInFlightAtMost
        Thread w = writeWaiter;
        if (w != null) LockSupport.unpark(w);
        shutdownIfDrained();
        closeIfDrained();
    }

    /** Loop: ends a close() that waited for the bytes in flight, once none are left. */
    private void closeIfDrained() {
        if (drainLimit != null && inFlight() == 0) {
            drainLimit.cancel(false);
            drainLimit = null;
            ch.close();
        }
    }

    /**
     * A writer that took its bytes back after a close or a half close: {@code pass} ({@link #closeIfDrained}
     * or {@link #shutdownIfDrained}) runs again on the loop, since one that saw those bytes in flight waits
     * for them to drain.
     */
    private void rerunOnLoop(Runnable pass) {
        try {
            run(pass);
        } catch (ClosedChannelException e) {
            // the loop is gone, and closed every channel it had
        }
    }

    private void awaitInFlightAtMost(long limit) throws IOException {
        if (inFlight() > limit) {
            writeWaiter = Thread.currentThread();      // then read inFlight: Dekker with writeDone
            try {
                while (inFlight() > limit) {
                    if (writeError != null) break;
                    if (limit > 0 && outputShut) break;     // a half close behind this writer: its next chunk is refused
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
        if (e != null) throw IoErrors.inCaller(e);     // made on the loop: a fresh one naming this caller
    }

    // ---- half close and close -----------------------------------------------------------------------

    /**
     * Shuts down the output after the data written so far has reached the kernel: the peer reads EOF. If
     * another thread's write holds the socket, returns at once, as a JDK channel's does: that write's bytes
     * already handed over still go out, the rest of it fails, and the output is shut once they are out.
     */
    public void shutdownOutput() throws IOException {
        if (!writeLock.tryLock()) {
            shutdownOutputBehindWriter();
            return;
        }
        try {
            ensureOpen();                              // as the JDK's: an interrupt does not stop a half close
            requireConnected();
            if (outputShut) return;
            awaitInFlightAtMost(0);
            outputShut = true;
            Pending<Void> p = new Pending<>(Thread.currentThread());
            run(() -> {
                if (!p.isWaiting()) return;
                sch.shutdownOutput().addListener(f -> {
                    // as the JDK's, which ignores ENOTCONN (Netty's NotYetConnectedException on a connected
                    // socket): a connection the peer already reset is not an error, nor is one already gone
                    if (f.isSuccess() || !ch.isActive() || f.cause() instanceof java.nio.channels.NotYetConnectedException) {
                        p.complete(null);
                    } else {
                        p.fail(IoErrors.translate(f.cause(), "shutdownOutput"));
                    }
                });
            });
            awaitKeepingInterrupt(p);                  // as the JDK's: a pending interrupt does not close the socket
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * {@link #shutdownOutput()} while another thread's write holds the socket, perhaps waiting for room a
     * peer that reads nothing never makes: as a JDK channel's, the half close does not wait for that write.
     * Later writes (and the rest of that one) are refused from now on; the bytes already handed to the loop
     * go out first, and the loop shuts the output down once none are left in flight
     * ({@link #shutdownIfDrained}). A failure of that shutdown is not reported: the caller has returned.
     */
    private void shutdownOutputBehindWriter() throws IOException {
        ensureOpen();
        requireConnected();
        if (outputShut) return;
        outputShut = true;                             // volatile; the writer's next writeRefusal sees it
        Thread w = writeWaiter;                        // then read writeWaiter: Dekker with awaitInFlightAtMost
        if (w != null) LockSupport.unpark(w);          // a writer waiting for room stops waiting: the rest of its write fails
        run(() -> {
            shutdownWhenDrained = true;
            shutdownIfDrained();
        });
    }

    /** Loop: the output shutdown a half close behind a writer deferred, once no byte is in flight. */
    private void shutdownIfDrained() {
        if (!shutdownWhenDrained || inFlight() != 0 || loopClosed) return;
        shutdownWhenDrained = false;
        if (ch.isActive()) sch.shutdownOutput();       // its failure has no caller left to tell (see above)
    }

    /** Shuts down the input: received and future data is discarded and reads return -1. */
    public void shutdownInput() throws IOException {
        ensureOpen();
        requireConnected();
        inputShut = true;                              // volatile; read by the reads' inputShutLocked
        Pending<Void> p = new Pending<>(Thread.currentThread());
        run(() -> {
            eof = true;
            releaseInbound();
            Pending<ByteBuf> w = takeReadWaiter();
            if (w != null) w.complete(null);
            inputEnded();
            if (!p.isWaiting()) return;
            sch.shutdownInput().addListener(f -> {
                if (f.isSuccess() || !ch.isActive()) p.complete(null);
                else p.fail(IoErrors.translate(f.cause(), "shutdownInput"));
            });
        });
        awaitKeepingInterrupt(p);                      // as the JDK's: a pending interrupt does not close the socket
    }

    /**
     * Closes the socket. Threads blocked in it fail with {@link AsynchronousCloseException}; data already
     * written still goes out (within 10 seconds). Idempotent; never blocks; any thread.
     */
    @Override
    public void close() {
        if (!markClosed()) {                           // closed by an interrupt or a shutdown: the leftover may remain
            releaseLeftoverIfClosed();
            return;
        }
        Thread w = writeWaiter;
        if (w != null) LockSupport.unpark(w);
        try {
            run(() -> closeOnLoop(false));
        } catch (ClosedChannelException e) {
            // the loop is gone, and closed every channel it had
        }
        releaseLeftoverIfClosed();
    }

    /**
     * As {@link #close()}: the bytes of writes that returned before the interrupt are in the JDK's kernel
     * and still reach the peer after its close; here they may still be queued on the loop, so they drain
     * (or end in a reset at the drain limit) rather than being dropped behind a clean end of stream. An
     * interrupted reader holds the read lock: it releases the leftover on unlock.
     */
    @Override
    void closeForInterrupt() {
        close();
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
        // The bytes handed over before close() reach the kernel first, and so do those of a writer that
        // counted them before close() set the flag (volatile; Dekker with write, which takes its bytes back
        // if it sees the flag): close once none are in flight, or reset at the drain limit.
        if (!now && inFlight() > 0 && ch.isActive()) {
            drainLimit = home().schedule(this::resetAfterDrainLimit, closeDrainNanos, TimeUnit.NANOSECONDS);
        } else {
            closeChannelNow();
        }
    }

    /**
     * Loop: closes the channel without waiting for the bytes in flight; if some are still queued (they
     * cannot reach the kernel any more), with a reset, so the peer does not take the truncated stream for
     * a complete one.
     */
    private void closeChannelNow() {
        if (inFlight() > 0 && ch.isActive()) {
            try {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException e) {
                // the option could not be set: the close below still ends the connection
            }
        }
        closeChannel();
    }

    /**
     * Loop: the writes queued before {@code close()} did not reach the kernel within the drain limit (the
     * peer does not read). Closing with a FIN would tell the peer the stream ended cleanly although bytes
     * are missing, so the socket is closed with a reset (SO_LINGER 0): the peer's read fails with
     * "Connection reset" instead.
     */
    private void resetAfterDrainLimit() {
        drainLimit = null;
        if (!ch.isOpen()) return;
        try {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
            // the option could not be set: the close below still ends the connection
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "closing " + this + " with a reset: queued writes did not reach"
                + " the kernel within " + TimeUnit.NANOSECONDS.toMillis(closeDrainNanos) + " ms of close()");
        ch.close();
    }

    @Override
    void closeAtShutdown() {
        markClosed();
        Thread w = writeWaiter;
        if (w != null) LockSupport.unpark(w);
        closeOnLoop(true);
        closeChannelNow();                             // also when an earlier close() left it draining
        releaseLeftoverIfClosed();
    }

    /** Closes an accepted socket nobody took: on the server's loop, before any registration. */
    void closeUnused() {
        markClosed();
        loopClosed = true;
        closeChannel();
    }

    private void releaseInbound() {
        ByteBuf b;
        while (inbound != null && (b = inbound.pollFirst()) != null) b.release();
        inboundBytes = 0;
    }

    // ---- options and addresses ----------------------------------------------------------------------

    /**
     * Sets a socket option: {@link java.net.StandardSocketOptions} TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR,
     * SO_REUSEPORT, SO_SNDBUF, SO_RCVBUF, SO_LINGER, IP_TOS. Unlike a {@code java.net.Socket}, a new
     * FiberSocket has TCP_NODELAY on (as Netty's channels do): writes go out behind the writer in chunks, and
     * Nagle's algorithm would hold a small one back until the peer's delayed ACK.
     *
     * @throws UnsupportedOperationException if the transport lacks the option
     */
    public <T> FiberSocket setOption(SocketOption<T> option, T value) throws IOException {
        applyOption(option, value);
        return this;
    }

    /** The current value of a socket option (see {@link #setOption}). */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        return readOption(option);
    }

    /**
     * Read timeout: a read waiting longer throws {@link SocketTimeoutException} and the socket stays usable.
     * {@link Duration#ZERO} (the default): none. Applies to reads begun afterwards. Data that arrives after a
     * timed-out read is kept for the next read, also when the peer resets the connection behind it (the
     * next read returns that data, the one after it reports the reset), where a {@code java.net.Socket}
     * reports the reset at once and drops the data.
     *
     * @throws NullPointerException     if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public FiberSocket setReadTimeout(Duration timeout) {
        readTimeoutNanos = timeoutNanos(timeout);
        return this;
    }

    /**
     * How long {@link #close()} lets writes already queued reach the kernel (default 10 seconds). If they
     * have not by then (the peer does not read), the socket is closed with a reset, so the peer sees the
     * connection fail rather than a clean end of a truncated stream.
     *
     * @throws IllegalArgumentException if {@code timeout} is negative or zero
     */
    public FiberSocket setCloseDrainTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("close drain timeout must be positive: " + timeout);
        closeDrainNanos = timeoutNanos(timeout);
        return this;
    }

    /** The read timeout; {@link Duration#ZERO} if none. */
    public Duration readTimeout() {
        return Duration.ofNanos(readTimeoutNanos);
    }

    /** The remote address, or null if not connected. */
    public InetSocketAddress remoteAddress() {
        return withoutZeroScope(sch.remoteAddress());
    }

    /**
     * {@code a} as a JDK socket reports it: Netty 4.2.18's io_uring transport gives an accepted socket's
     * IPv6 peer a scope id of 0 ("{@code %0}" in its text), which the JDK never shows for an address that
     * is not link-local, and which a comparison of addresses as text (an allow list, an access log) would
     * trip on.
     */
    static InetSocketAddress withoutZeroScope(InetSocketAddress a) {
        if (a == null || !(a.getAddress() instanceof Inet6Address v6) || v6.isLinkLocalAddress()
                || v6.getScopeId() != 0 || v6.getHostAddress().indexOf('%') < 0) {
            return a;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(v6.getAddress()), a.getPort());
        } catch (UnknownHostException e) {
            return a;                                  // 16 bytes always make an address
        }
    }

    /** The local address, or null if not bound. */
    public InetSocketAddress localAddress() {
        return sch.localAddress();
    }

    /** Whether the socket is connected and not closed. */
    public boolean isConnected() {
        return !isClosedFlag() && connected;
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
                if (inputShut) return 0;
                if (!readLock.tryLock()) return 0;
                int n;
                try {
                    long queued = (long) (leftover == null ? 0 : leftover.readableBytes()) + inboundBytes;
                    n = (int) Math.min(Integer.MAX_VALUE, queued);
                } finally {
                    readLock.unlock();
                    releaseLeftoverIfClosed();         // a close() meanwhile found the lock held
                }
                if (n == 0 && connected) prefetch();
                return n;
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
                // As the JDK's socket stream, whose flush does nothing: once the socket is closed, the bytes
                // still queued are the close's to drain (as a JDK socket's kernel sends them after its close),
                // and a flush can neither wait for them nor fail them. Stream code closes a
                // BufferedOutputStream (which flushes) after the input stream's close closed the socket.
                // A write that failed before the close was reported to its writer (or to the flush before the
                // close); after the close there is nothing left to report, as the JDK's no-op flush says.
                if (isClosedFlag()) return;
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
                prefetching = false;
                Pending<ByteBuf> w = takeReadWaiter();
                if (w != null) w.complete(null);
                inputEnded();
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
            prefetching = false;
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
