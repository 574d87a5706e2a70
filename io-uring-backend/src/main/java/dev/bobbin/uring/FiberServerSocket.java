package dev.bobbin.uring;

import dev.bobbin.uring.driver.IoErrors;
import dev.bobbin.uring.driver.IoTunables;
import dev.bobbin.uring.driver.Pending;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.UncheckedBooleanSupplier;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A listening TCP socket with a blocking {@link #accept()} for fibers (and any other thread).
 *
 * <p>The listening socket lives on the loop of the carrier that called {@link #bind}. An accepted
 * {@link FiberSocket} is registered at its first use: on the accepting carrier's loop, or on the
 * least-loaded carrier's loop when the fiber using it may move and the accepting carrier holds many more
 * sockets (the fiber then follows it), so connections spread over the carriers once there are many,
 * wherever the acceptor's fibers first run; a fiber that may not move (bound to a carrier) keeps its
 * socket on its own carrier.
 * {@link #close()} from any thread makes a blocked {@code accept} throw
 * {@link AsynchronousCloseException}; an interrupted {@code accept} closes the server and throws
 * {@link java.nio.channels.ClosedByInterruptException}. An accept that waits longer than its timeout
 * ({@link #setAcceptTimeout}, or the argument of {@link #accept(Duration)}) throws
 * {@link SocketTimeoutException} and leaves the server open, as {@link java.net.ServerSocket#setSoTimeout}
 * does.
 *
 * <p>Several threads may wait in {@code accept} at once; each connection goes to exactly one of them,
 * the longest waiting first. The loop keeps the waiting accepts in a queue: a connection is handed to the
 * first waiter still there, a timeout takes its waiter out of the queue, and a connection that finds no
 * waiter (it arrived as the last one timed out, or ahead of any accept) is kept for the next accept; all
 * of this runs on the loop's thread, so a connection is never handed to an accept that already timed out,
 * nor dropped.
 *
 * <p>Accepting ahead. The loop keeps taking connections off the kernel's queue while fewer than
 * {@link IoTunables#ACCEPT_AHEAD} wait in {@code backlog}, so that a burst is not served one loop round
 * trip per connection. An accept takes a connection kept there directly, without asking the loop and
 * parking for its answer, when no other accept is under way at the loop ({@code acceptsAtLoop} is 0):
 * such an accept would be waiting longer and is served first. An acceptor fiber that parked for every
 * connection would wait behind every runnable fiber of its carrier for each one: on a server busy with
 * a thousand connections that took a few hundred connections a second. {@code backlog} is
 * therefore shared: the loop adds to it and takes from it, any accept takes from it, and each kept
 * connection is taken exactly once (the deque's poll), by an accept or by the loop's close. A take that
 * leaves room for another batch asks the loop (once, {@code refillAsked}) to accept more.
 */
public final class FiberServerSocket extends Endpoint implements Closeable {
    private static final System.Logger LOG = System.getLogger("dev.bobbin.uring");
    private final ServerSocketChannel sch;
    private volatile boolean bound;                    // set once the bind succeeded
    private boolean bindStarted;                       // guarded by this
    private volatile long acceptTimeoutNanos;          // 0 = none

    // shared with accept (class comment, "Accepting ahead")
    private final ConcurrentLinkedDeque<FiberSocket> backlog = new ConcurrentLinkedDeque<>(); // accepted, not yet handed out
    private final AtomicInteger keptAhead = new AtomicInteger();     // backlog's size (a take may briefly lead its add)
    private final AtomicInteger acceptsAtLoop = new AtomicInteger(); // accepts that asked the loop and have not returned
    private final AtomicBoolean refillAsked = new AtomicBoolean();   // a take asked the loop to accept more; not yet run

    // loop-confined state
    private final ArrayDeque<Pending<FiberSocket>> acceptWaiters = new ArrayDeque<>(); // oldest first
    private boolean loopClosed;
    private IOException acceptError;
    private long backoffMillis;                        // current accept back-off after exhaustion; 0 = none
    private boolean backingOff;                        // an accept retry is scheduled; no read until then
    private long lastExhaustionWarning;                // System.nanoTime of the last WARNING; 0 = never
    private volatile long exhaustionBackoffs;          // loop writes, anyone reads: back-offs so far
    /** Open until close() has seen the listening descriptor released (or gave up, or the loop is gone): an
     *  accept failed by that close waits for it, as on the JDK, so the address is free when it throws. */
    private final CountDownLatch descriptorReleased = new CountDownLatch(1);

    FiberServerSocket(FiberIo io) {
        this(io, io.transport().newServerSocketChannel());
    }

    private FiberServerSocket(FiberIo io, ServerSocketChannel ch) {
        super(io, ch, false);
        this.sch = ch;
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(new Acceptor());
        track();
    }

    /**
     * Binds to {@code local} and listens, with at most {@code backlog} pending connections (below 1:
     * the default, 128). A null {@code local}, as for {@code ServerSocketChannel.bind}, binds an
     * ephemeral port on the wildcard address. As {@code ServerSocketChannel.bind}, it is not interruptible:
     * an interrupt stays pending for the caller's next blocking call.
     *
     * @throws java.net.BindException if the address is in use; the server is then closed
     * @throws java.nio.channels.UnsupportedAddressTypeException if {@code local} is not an
     *         {@link InetSocketAddress}
     * @throws java.nio.channels.UnresolvedAddressException if {@code local} is unresolved
     */
    public FiberServerSocket bind(SocketAddress local, int backlog) throws IOException {
        ensureOpen();                                  // as ServerSocketChannel.bind: the state before the address
        InetSocketAddress to;
        synchronized (this) {
            if (bindStarted) throw new AlreadyBoundException();
            to = local == null ? new InetSocketAddress(0) : checkAddress(local);  // refused: the server stays usable
            bindStarted = true;
        }
        ch.config().setOption(ChannelOption.SO_BACKLOG, backlog < 1 ? IoTunables.DEFAULT_BACKLOG : backlog);
        ch.config().setRecvByteBufAllocator(AcceptBatch.INSTANCE);
        Pending<Void> p = new Pending<>(Thread.currentThread());
        run(() -> {
            if (!p.isWaiting()) return;
            if (registrationError != null) {
                p.fail(registrationError);
                return;
            }
            if (loopClosed) {                          // a close() that came after our entry check ran first
                p.fail(new AsynchronousCloseException());
                return;
            }
            ch.bind(to).addListener(f -> {
                if (f.isSuccess()) p.complete(null);
                else p.fail(loopClosed ? new AsynchronousCloseException() : IoErrors.translate(f.cause(), "bind"));
            });
        });
        try {
            awaitKeepingInterrupt(p);                  // as ServerSocketChannel.bind: not interruptible
        } catch (IOException e) {
            close();
            throw e;
        }
        bound = true;                                  // only now may accept() use the listening channel
        return this;
    }

    /** Binds to {@code local} with the default backlog. */
    public FiberServerSocket bind(SocketAddress local) throws IOException {
        return bind(local, 0);
    }

    /**
     * Waits for and returns the next connection, at most for the {@linkplain #setAcceptTimeout accept
     * timeout} if one is set.
     *
     * @throws SocketTimeoutException       if the accept timeout elapsed first; the server stays open
     * @throws NotYetBoundException         if not bound
     * @throws ClosedChannelException      if closed
     * @throws AsynchronousCloseException   if closed while waiting
     * @throws java.nio.channels.ClosedByInterruptException if interrupted (the server is then closed)
     */
    public FiberSocket accept() throws IOException {
        return accept0(acceptTimeoutNanos);
    }

    /**
     * {@link #accept()} waiting at most {@code timeout} for this call, whatever the accept timeout
     * ({@link Duration#ZERO}: no limit). A connection that arrives as the timeout fires is kept for the
     * next accept, never lost.
     *
     * @throws SocketTimeoutException   if the timeout elapsed first; the server stays open
     * @throws NullPointerException     if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public FiberSocket accept(Duration timeout) throws IOException {
        return accept0(timeoutNanos(timeout));
    }

    private FiberSocket accept0(long timeoutNanos) throws IOException {
        checkOpen();
        if (!bound) throw new NotYetBoundException();
        FiberSocket ahead = takeKeptAhead();
        if (ahead != null) return ahead;
        acceptsAtLoop.incrementAndGet();               // volatile; takeKeptAhead of later accepts reads it
        try {
            Pending<FiberSocket> p = new Pending<>(Thread.currentThread());
            run(() -> startAccept(p, timeoutNanos));
            return await(p);
        } catch (AsynchronousCloseException e) {
            if (!(e instanceof java.nio.channels.ClosedByInterruptException) && isClosedFlag()) awaitReleased();
            throw e;
        } finally {
            acceptsAtLoop.decrementAndGet();
        }
    }

    /**
     * A connection the loop accepted ahead, taken without a round trip to the loop; null if none is kept,
     * or if an accept that asked the loop is still under way (it waits longer, so it comes first). Any
     * thread.
     */
    private FiberSocket takeKeptAhead() {
        if (acceptsAtLoop.get() != 0) return null;     // volatile; pairs with the increment in accept0
        FiberSocket s = takeKept();
        if (s == null) return null;
        // A take that leaves room for a batch asks the loop for more, once until the loop has looked: the
        // loop clears the flag before it reads the count, so a take after that read asks again.
        if (keptAhead.get() + IoTunables.ACCEPT_BATCH <= IoTunables.ACCEPT_AHEAD && refillAsked.compareAndSet(false, true)) {
            try {
                run(() -> {
                    refillAsked.set(false);            // volatile, before readMoreIfWanted reads keptAhead
                    readMoreIfWanted();
                });
            } catch (ClosedChannelException e) {
                refillAsked.set(false);                // the loop is gone: nothing more to accept
            }
        }
        return s;
    }

    /** Keeps an accepted connection for a later accept: at the tail, or back at the head. */
    private void keep(FiberSocket s, boolean atHead) {
        if (atHead) backlog.addFirst(s);
        else backlog.addLast(s);
        keptAhead.incrementAndGet();                   // after the add: a take's decrement may come first
    }

    /** Takes the oldest kept connection, or null. Any thread; each kept connection is taken once. */
    private FiberSocket takeKept() {
        FiberSocket s = backlog.pollFirst();
        if (s != null) keptAhead.decrementAndGet();
        return s;
    }

    /**
     * Waits, keeping an interrupt pending, until close() has seen the listening descriptor released (at
     * most {@link IoTunables#SHUTDOWN_CLOSE_NANOS}, the bound close() itself waits): the JDK's accept
     * throws AsynchronousCloseException only once the descriptor is closed, so that the address can be
     * bound again at once.
     */
    private void awaitReleased() {
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + IoTunables.SHUTDOWN_CLOSE_NANOS;
        try {
            for (;;) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return;
                try {
                    if (descriptorReleased.await(left, TimeUnit.NANOSECONDS)) return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private void startAccept(Pending<FiberSocket> p, long timeoutNanos) {
        if (!p.isWaiting()) return;
        FiberSocket s = takeKept();
        if (s != null) {
            if (!p.complete(s)) keep(s, true);
            return;
        }
        if (loopClosed) p.fail(new AsynchronousCloseException());
        else if (acceptError != null) p.fail(acceptError);
        else if (!ch.isOpen()) p.fail(new ClosedChannelException());   // closed under us: never wait on it
        else {
            acceptWaiters.addLast(p);
            if (timeoutNanos > 0) scheduleTimeout(p, timeoutNanos, () -> acceptWaiters.remove(p), "Accept timed out");
            if (!backingOff) ch.read();                // backing off: the retry reads for the waiters then
        }
    }

    /** Loop: hands a new connection to the longest-waiting accept, or keeps it for the next one. */
    private void handOut(FiberSocket s) {
        Pending<FiberSocket> w;
        while ((w = takeWaiter()) != null) {
            if (w.complete(s)) return;                 // else that waiter was interrupted: try the next
        }
        keep(s, false);
    }

    private Pending<FiberSocket> takeWaiter() {
        Pending<FiberSocket> w = acceptWaiters.pollFirst();
        if (w != null) w.cancelTimer();
        return w;
    }

    private void failWaiters() {
        Pending<FiberSocket> w;
        while ((w = takeWaiter()) != null) w.fail(new AsynchronousCloseException());
    }

    /**
     * Sets the accept timeout, as {@link java.net.ServerSocket#setSoTimeout}: an {@link #accept()} that
     * waits longer throws {@link SocketTimeoutException}, and the server stays open. {@link Duration#ZERO}
     * (the default): none. Applies to accepts begun afterwards.
     *
     * @throws NullPointerException     if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public FiberServerSocket setAcceptTimeout(Duration timeout) {
        acceptTimeoutNanos = timeoutNanos(timeout);
        return this;
    }

    /** The accept timeout; {@link Duration#ZERO} if none. */
    public Duration acceptTimeout() {
        return Duration.ofNanos(acceptTimeoutNanos);
    }

    /**
     * Sets a socket option of the listening socket (SO_REUSEADDR, SO_REUSEPORT, SO_RCVBUF); set before
     * {@link #bind}.
     */
    public <T> FiberServerSocket setOption(SocketOption<T> option, T value) throws IOException {
        applyOption(option, value);
        return this;
    }

    /** The current value of a socket option. */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        return readOption(option);
    }

    /** The bound address, or null before {@link #bind}. */
    public InetSocketAddress localAddress() {
        return sch.localAddress();
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return isClosedFlag();
    }

    /** The transport this socket runs on. */
    public IoTransport transport() {
        return io.transport();
    }

    /**
     * Stops listening; blocked {@link #accept()}s throw {@link AsynchronousCloseException}. Idempotent; any
     * thread. As {@link java.net.ServerSocket#close}, returns once the listening descriptor is closed, so
     * the address can be bound again at once (waiting uninterruptibly, at most
     * {@link IoTunables#SHUTDOWN_CLOSE_NANOS}, for the loop to close it). With rescue off, a loop whose
     * carrier a fiber holds closes nothing until the carrier comes back: close then returns at that bound
     * with the address still bound (README, "Known limitations").
     */
    @Override
    public void close() {
        if (!markClosed()) {                           // another close is under way: as the JDK's close lock,
            awaitReleased();                           // return only once it has seen the descriptor released
            return;
        }
        try {
            Pending<Void> released = new Pending<>(Thread.currentThread());
            try {
                run(() -> {
                    closeOnLoop();
                    whenReleased(released);
                });
            } catch (ClosedChannelException e) {
                return;                                // the loop is gone, and closed every channel it had
            }
            awaitKeepingInterrupt(released, IoTunables.SHUTDOWN_CLOSE_NANOS);   // close is not interruptible
        } finally {
            descriptorReleased.countDown();            // the accepts it failed, and later close() calls, may return now
        }
    }

    /**
     * Loop, after closeOnLoop: completes {@code p} once the listening descriptor is really closed. The
     * channel's close future comes after the descriptor's close (io_uring defers it while an accept is in
     * the ring), and a selector releases a closed channel's descriptor only at its next select (NIO), so
     * the completion is a task scheduled from the close future: the loop runs it in a later pass, after
     * that pass's I/O.
     */
    private void whenReleased(Pending<Void> p) {
        if (!ch.isRegistered()) {                      // closed directly (registration failed): nothing deferred
            p.complete(null);
            return;
        }
        ch.closeFuture().addListener(f -> home().schedule(() -> {
            p.complete(null);
        }, 0, TimeUnit.NANOSECONDS));
    }

    @Override
    void closeForInterrupt() {
        close();
    }

    @Override
    void closeAtShutdown() {
        markClosed();
        closeOnLoop();
        descriptorReleased.countDown();
    }

    private void closeOnLoop() {
        if (loopClosed) return;
        loopClosed = true;
        failWaiters();
        FiberSocket s;
        while ((s = takeKept()) != null) s.closeUnused();
        closeChannel();
    }

    @Override
    public String toString() {
        return "FiberServerSocket[" + io.transport().id() + ", " + localAddress() + (isClosedFlag() ? ", closed" : "") + "]";
    }

    /**
     * Loop: keeps accepting ahead of the application, up to a bound: a burst of connections is taken off
     * the kernel's queue while the acceptor fiber is still handing out the previous one. One read accepts
     * up to {@link IoTunables#ACCEPT_BATCH} connections, so reading only while the backlog has room for a
     * whole batch keeps it within {@link IoTunables#ACCEPT_AHEAD}.
     */
    private void readMoreIfWanted() {
        if (backingOff || loopClosed || !ch.isActive()) return;
        if (!acceptWaiters.isEmpty() || keptAhead.get() + IoTunables.ACCEPT_BATCH <= IoTunables.ACCEPT_AHEAD) ch.read();
    }

    /**
     * Loop: the process or system ran out of descriptors or buffers (EMFILE, ENFILE, ENOBUFS, ENOMEM).
     * Retrying at once would spin, so accepting pauses for a growing delay (connections wait in the
     * kernel's backlog meanwhile) and resumes by itself; waiting accepts keep waiting. One WARNING line
     * per {@link IoTunables#ACCEPT_EXHAUSTION_WARNING_NANOS}.
     */
    private void backOff(Throwable cause) {
        exhaustionBackoffs = exhaustionBackoffs + 1;   // single writer: the loop
        if (backingOff) return;
        backingOff = true;
        // A level-triggered transport (epoll, NIO) keeps the read interest a failed read left set and would
        // retry at once: a transition of auto-read to false clears that interest until the retry below.
        ch.config().setAutoRead(true);
        ch.config().setAutoRead(false);
        backoffMillis = backoffMillis == 0 ? IoTunables.ACCEPT_BACKOFF_MIN_MILLIS
                : Math.min(backoffMillis * 2, IoTunables.ACCEPT_BACKOFF_MAX_MILLIS);
        long now = System.nanoTime();
        if (lastExhaustionWarning == 0 || now - lastExhaustionWarning >= IoTunables.ACCEPT_EXHAUSTION_WARNING_NANOS) {
            lastExhaustionWarning = now;
            try {
                LOG.log(System.Logger.Level.WARNING, "bobbin: accept on " + localAddress() + " failed (" + cause.getMessage()
                        + "); pausing accepts for " + backoffMillis + " ms and retrying while it lasts");
            } catch (Throwable logFailed) {
                // a logging backend that needs a descriptor of its own may fail now: the back-off matters more
            }
        }
        home().schedule(() -> {
            backingOff = false;
            readMoreIfWanted();
        }, backoffMillis, TimeUnit.MILLISECONDS);
    }

    /** Connections the loop accepted ahead that no accept has taken yet. Any thread. */
    int keptAhead() {
        return keptAhead.get();
    }

    /** Accept pauses taken because descriptors or buffers ran out. Any thread. */
    long exhaustionBackoffs() {
        return exhaustionBackoffs;
    }

    /**
     * The listening channel's read allocator: one read accepts up to {@link IoTunables#ACCEPT_BATCH}
     * connections (fewer if the kernel has no more). Netty's own server allocator stops after one
     * connection whenever auto-read is off, as it is on every Bobbin channel, so each read accepted a
     * single connection, one loop pass apart. (Netty's interface still names the deprecated
     * {@code Handle} type that the {@code ExtendedHandle} returned here extends.)
     */
    @SuppressWarnings("deprecation")
    static final class AcceptBatch implements RecvByteBufAllocator {
        static final AcceptBatch INSTANCE = new AcceptBatch();

        @Override
        public Handle newHandle() {
            return new Reads();
        }

        /** One channel's count of the connections accepted by the current read. Loop-confined, as Netty's. */
        private static final class Reads implements ExtendedHandle {
            private int accepted;
            private int lastBytesRead;
            private int attemptedBytesRead;

            @Override public ByteBuf allocate(ByteBufAllocator alloc) { return alloc.ioBuffer(guess()); }
            @Override public int guess() { return 128; }                 // as Netty's server allocator: never used to accept
            @Override public void reset(ChannelConfig config) { accepted = 0; }
            @Override public void incMessagesRead(int n) { accepted += n; }
            @Override public void lastBytesRead(int bytes) { lastBytesRead = bytes; }
            @Override public int lastBytesRead() { return lastBytesRead; }
            @Override public void attemptedBytesRead(int bytes) { attemptedBytesRead = bytes; }
            @Override public int attemptedBytesRead() { return attemptedBytesRead; }
            @Override public boolean continueReading() { return accepted < IoTunables.ACCEPT_BATCH; }
            @Override public boolean continueReading(UncheckedBooleanSupplier maybeMore) { return continueReading(); }
            @Override public void readComplete() { }
        }
    }

    /** Loop: turns accepted channels into sockets and hands them to the waiting accepts. */
    private final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            backoffMillis = 0;                         // descriptors are back: the next exhaustion starts short
            SocketChannel child = (SocketChannel) msg;
            FiberSocket s = new FiberSocket(io, child, true);
            if (loopClosed) s.closeUnused();
            else handOut(s);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readMoreIfWanted();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (IoErrors.isResourceExhaustion(cause)) {
                backOff(cause);                        // the waiting accepts keep waiting
                return;
            }
            IOException e = IoErrors.translate(cause, "accept");
            Pending<FiberSocket> w = takeWaiter();
            if (w != null) w.fail(e);
            else if (!(cause instanceof IOException)) acceptError = e;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failWaiters();
        }
    }

}
