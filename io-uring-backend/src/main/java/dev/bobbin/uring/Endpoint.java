package dev.bobbin.uring;

import dev.bobbin.base.VarHandles;
import dev.bobbin.uring.driver.IoCarrierDriver;
import dev.bobbin.uring.driver.IoDrivers;
import dev.bobbin.uring.driver.IoErrors;
import dev.bobbin.uring.driver.Pending;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.IoEventLoop;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * What a {@link FiberSocket} and a {@link FiberServerSocket} share: one Netty channel, the event loop it
 * lives on, and the blocking wait for an operation's {@link Pending} result.
 *
 * <p>Implementation overview. The channel is registered lazily, on the loop of the carrier where the
 * first operation is issued ({@link #home()}: one CAS; every later operation is routed there). Every
 * operation is a {@code Runnable} run on that loop's thread ({@link #run}); it first registers the
 * channel if nobody has yet ({@link #ensureRegistered}, loop only), so operations racing to be first need
 * no further ordering. Operations run in the order they were submitted, wherever their submitters run: the
 * home carrier queues its own operations locally and runs them before its loop's task queue, so while a
 * routed operation is outstanding ({@code routedAhead} &gt; 0) the home carrier routes its own too, behind
 * it. Without that, a write routed by a fiber on another carrier could go out after a later write made on
 * the home carrier (by the same fiber, moved, or by the next writer) and the peer would read the bytes
 * out of order. Fields commented "loop" are confined to the home loop's thread.
 *
 * <p>Ownership at shutdown. An endpoint belongs to the carrier whose loop it lives on; until its first
 * operation it lives nowhere and belongs to its {@link #opener}, the carrier it was created on (by a
 * fiber mounted there, or, for an accepted socket, by the server's loop). A stopping carrier closes the
 * endpoints living on its loop and adopts the unused ones it opened with the same CAS that {@code home()}
 * uses ({@link #adoptIfUnused}): either a user's first operation wins and the endpoint lives where that
 * user is, or the stopping carrier wins and every later operation is routed to its loop, which by then
 * has closed the endpoint (or is shut down, which fails the operation with ClosedChannelException).
 * An endpoint is added to {@code io.open} only once constructed ({@link #track}), so a carrier scanning
 * that set never sees one half-built.
 */
abstract sealed class Endpoint permits FiberSocket, FiberServerSocket {
    private static final VarHandle HOME = VarHandles.field(MethodHandles.lookup(), Endpoint.class, "home", IoEventLoop.class);
    private static final VarHandle CLOSED = VarHandles.field(MethodHandles.lookup(), Endpoint.class, "closed", boolean.class);
    private static final VarHandle ROUTED_AHEAD = VarHandles.field(MethodHandles.lookup(), Endpoint.class, "routedAhead", int.class);

    final FiberIo io;
    final Channel ch;
    /** The driver of the carrier this endpoint was created on, which closes it at shutdown if it was never
     *  used; null when created elsewhere (a platform thread, the fallback loop, another scheduler). */
    final IoCarrierDriver opener;
    /** Accepted by a server socket (on {@link #opener}'s loop, if that is a carrier's): placed as if first used there. */
    private final boolean accepted;
    @SuppressWarnings("unused") private volatile IoEventLoop home;   // set once by home()
    private volatile boolean closed;                                 // set once by markClosed()
    @SuppressWarnings("unused") private volatile int routedAhead;    // routed operations not run yet; see run()
    private boolean registrationTried;            // loop
    private IoCarrierDriver counted;              // loop: the driver counting this socket as living there, until it left (leave)
    private volatile boolean registrationSettled; // loop writes once after registrationTried; any thread reads: see run()
    IOException registrationError;                // loop

    Endpoint(FiberIo io, Channel ch, boolean accepted) {
        this.io = io;
        this.ch = ch;
        this.opener = IoCarrierDriver.runningLoop(io.drivers);  // a fiber's carrier, or the loop accepting it
        this.accepted = accepted;
    }

    /**
     * Counts this endpoint as open until its channel closes; the last step of a subclass's constructor. The
     * one listener of the close also ends the home driver's count of it ({@link #leave}): a second listener
     * would cost every connection Netty's listener array besides.
     */
    final void track() {
        io.open.add(this);                        // publishes the built endpoint to stopping carriers' scans
        ch.closeFuture().addListener(f -> {       // a registered channel's: runs on its loop
            io.open.remove(this);
            leave();
        });
    }

    /** Loop: the socket no longer lives on its home driver (closed, or its registration failed); once only. */
    private void leave() {
        IoCarrierDriver d = counted;
        counted = null;
        if (d != null) d.socketLeft();
    }

    /**
     * {@code a} as an address a TCP socket can use, refused before any attempt with the exceptions of
     * {@code SocketChannel} and {@code ServerSocketChannel}.
     *
     * @throws java.nio.channels.UnsupportedAddressTypeException if {@code a} is not an {@link java.net.InetSocketAddress}
     * @throws java.nio.channels.UnresolvedAddressException      if {@code a} is unresolved
     */
    static java.net.InetSocketAddress checkAddress(java.net.SocketAddress a) {
        if (!(a instanceof java.net.InetSocketAddress i)) throw new java.nio.channels.UnsupportedAddressTypeException();
        if (i.isUnresolved()) throw new java.nio.channels.UnresolvedAddressException();
        return i;
    }

    /**
     * Validates a timeout argument and returns it in nanoseconds, {@link Long#MAX_VALUE} for durations
     * beyond that; 0 means none.
     *
     * @throws NullPointerException     if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    static long timeoutNanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** Diagnostics: state of the endpoint and its channel. */
    String describe() {
        return this + " registered=" + ch.isRegistered() + " open=" + ch.isOpen() + " active=" + ch.isActive()
                + " home=" + home;
    }

    /**
     * The loop this endpoint lives on; the first caller picks it (CAS): its own carrier's loop (for an
     * accepted socket, the accepting one's), or a less loaded one of its scheduler when the caller may move
     * ({@link IoDrivers#placeNewSocket}).
     */
    final IoEventLoop home() {
        IoEventLoop h = (IoEventLoop) HOME.getAcquire(this);       // acquire; pairs with the CAS below
        if (h != null) return h;
        IoCarrierDriver place = io.drivers.placeNewSocket(accepted ? opener : null);
        IoEventLoop mine = place != null ? place.loop() : io.drivers.fallbackLoop();
        h = (IoEventLoop) HOME.compareAndExchange(this, null, mine); // CAS: unset -> chosen loop
        if (h != null) return h;
        if (place != null) place.socketHomed();   // undone by the loop at close (ensureRegistered)
        return mine;
    }

    /** Whether this endpoint lives on {@code loop} (its first operation picked it). */
    final boolean livesOn(IoEventLoop loop) {
        return HOME.getAcquire(this) == loop;                      // acquire; pairs with the CAS in home()
    }

    /**
     * Stopping carrier: makes an endpoint that no operation has picked a home for yet live on {@code loop}
     * (the caller's own), so that the caller closes it. False if an operation picked a home first.
     */
    final boolean adoptIfUnused(IoEventLoop loop) {
        return HOME.compareAndSet(this, null, loop);               // CAS: unset -> stopping carrier's loop
    }

    /**
     * Loop: closes the channel. One never registered (no operation ever ran on it) is closed directly,
     * by a plain close of its descriptor; its close future cannot notify anyone without an event loop, so
     * it is taken out of the open set here.
     */
    final void closeChannel() {
        assert holdsLoop() : "channel closed off its loop";
        if (ch.isRegistered()) {
            ch.close();
        } else {
            ch.unsafe().close(ch.unsafe().voidPromise());
            io.open.remove(this);
        }
    }

    /**
     * Loop: arms {@code p}'s timeout. When it fires, {@code withdraw} takes {@code p} out of its waiting
     * slot if it is still there (true), and {@code p} fails with a {@link SocketTimeoutException} saying
     * {@code message}; whoever completes {@code p} first cancels the timer ({@link Pending#cancelTimer}).
     */
    final void scheduleTimeout(Pending<?> p, long nanos, BooleanSupplier withdraw, String message) {
        assert holdsLoop() : "timeout armed off its loop";
        p.timer(home().schedule(() -> {
            if (withdraw.getAsBoolean()) p.fail(new SocketTimeoutException(message));
        }, nanos, TimeUnit.NANOSECONDS));
    }

    /**
     * Runs {@code op} on the home loop, after registering the channel there if needed. Operations run in
     * the order they were submitted: a carrier runs its locally queued operations before the routed ones
     * in its loop's task queue, so while a routed operation of this endpoint has not run yet, later ones
     * are routed behind it even from the home carrier.
     */
    final void run(Runnable op) throws ClosedChannelException {
        IoEventLoop loop = home();
        // Until the loop has tried to register the channel, each operation is wrapped to do it first;
        // after that (volatile read; pairs with the write in ensureRegistered) it runs as it is, one object
        // fewer per operation: ops read registrationError themselves.
        Runnable task = registrationSettled ? op : () -> {
            assert holdsLoop() : "socket operation run without its loop's ring token";
            ensureRegistered(loop);
            op.run();
        };
        try {
            // acquire; pairs with the increment below (a volatile read-modify-write) made by an earlier
            // submitter, which happens-before this one (socket locks, or one fiber's program order)
            if ((int) ROUTED_AHEAD.getAcquire(this) == 0 && io.drivers.submitLocal(loop, task)) return;
            ROUTED_AHEAD.getAndAdd(this, 1);
            try {
                io.drivers.submitRouted(loop, () -> {
                    try {
                        task.run();
                    } finally {
                        ROUTED_AHEAD.getAndAdd(this, -1);
                    }
                });
            } catch (RuntimeException e) {                 // never queued, or taken back: nothing ahead
                ROUTED_AHEAD.getAndAdd(this, -1);
                throw e;
            }
        } catch (RejectedExecutionException e) {      // the loop's scheduler was shut down
            ClosedChannelException c = new ClosedChannelException();
            c.initCause(e);
            throw c;
        }
    }

    /** Loop (assertions): whether the calling thread holds the ring token of the loop it runs ({@link IoCarrierDriver}). */
    final boolean holdsLoop() {
        IoCarrierDriver d = IoCarrierDriver.runningLoop(io.drivers);
        return d == null || d.holdsRing();           // null: the fallback loop, which has no token
    }

    /** Loop: registers the channel on this loop on first use. */
    private void ensureRegistered(IoEventLoop loop) {
        if (registrationTried) return;
        registrationTried = true;
        try {
            // this loop's driver (null on the fallback loop): the close listener (track) or a failed
            // registration ends its count, whichever comes first (a failed registration closes the channel)
            counted = IoCarrierDriver.runningLoop(io.drivers);
            if (!ch.isRegistered()) {
                ChannelPromise f = new DefaultChannelPromise(ch, loop);
                ch.unsafe().register(loop, f);        // runs inline: we are on the loop's thread
                if (f.isDone() && !f.isSuccess()) {
                    registrationError = IoErrors.translate(f.cause(), "register");
                    leave();
                }
            }
        } finally {
            registrationSettled = true;               // release: registrationError and the registration before it
        }
    }

    /** Whether close() has been called. */
    final boolean isClosedFlag() {
        return closed;                            // volatile; pairs with the CAS in markClosed
    }

    /** Sets the closed flag; true for the one caller that set it. */
    final boolean markClosed() {
        return CLOSED.compareAndSet(this, false, true);
    }

    /** Both sockets' {@code setOption}: validates, then sets {@code option} through the transport. */
    final <T> void applyOption(SocketOption<T> option, T value) throws IOException {
        Objects.requireNonNull(option, "option");
        IoTransport.checkType(option, value);
        ensureOpen();
        io.transport().setOption(ch.config(), option, value);
    }

    /** Both sockets' {@code getOption}. */
    final <T> T readOption(SocketOption<T> option) throws IOException {
        Objects.requireNonNull(option, "option");
        ensureOpen();
        return io.transport().getOption(ch.config(), option);
    }

    /** The entry check of non-blocking calls (options, addresses): closed only. */
    final void ensureOpen() throws ClosedChannelException {
        if (isClosedFlag()) throw new ClosedChannelException();
    }

    /**
     * The entry check of every blocking operation: closed, or interrupted (which closes it, as the JDK's
     * interruptible channels do, even if the operation could complete without blocking).
     */
    final void checkOpen() throws ClosedChannelException {
        if (isClosedFlag()) throw new ClosedChannelException();
        if (Thread.currentThread().isInterrupted()) {
            closeForInterrupt();
            throw new ClosedByInterruptException();
        }
    }

    /**
     * Blocks until {@code p} is done and returns its value or throws its failure. Interrupted: abandons
     * the operation, closes the endpoint (which cancels the kernel operation) and throws
     * {@link ClosedByInterruptException}, leaving the interrupt status set, as the JDK's channels do.
     */
    final <T> T await(Pending<T> p) throws IOException {
        boolean parked = false;
        while (!p.isDone() && !Thread.currentThread().isInterrupted()) {
            LockSupport.park(this);
            parked = true;
        }
        return afterWait(p, parked);
    }

    /**
     * {@link #await} once {@code p} is done or its caller interrupted. A fiber parked in an operation keeps
     * its frames in the heap while it waits, so they are few and small: what follows the wait (the
     * interrupt's atomic abandon, the statistics, the result) is in this method, not in the frame parked.
     */
    private <T> T afterWait(Pending<T> p, boolean parked) throws IOException {
        if (!p.isDone() && p.abandon()) {              // interrupted first; if p completed first, its result counts
            closeForInterrupt();
            throw new ClosedByInterruptException();
        }
        if (parked) countResumption(p);
        return outcome(p);
    }

    /** Where the operation {@code p}, which its caller parked for, completed and where the caller resumed. */
    private void countResumption(Pending<?> p) {
        IoEventLoop h = home();
        if (h.inEventLoop(p.completer())) io.completedOnHome.increment();
        if (io.drivers.onCarrierOf(h)) io.resumedHome.increment();
        else io.resumedElsewhere.increment();
    }

    /**
     * {@link #await} for an operation an interrupt does not stop on the JDK's sockets (a half close): waits
     * for it to complete, leaving a pending interrupt set and the socket open.
     */
    final <T> T awaitKeepingInterrupt(Pending<T> p) throws IOException {
        awaitKeepingInterrupt(p, Long.MAX_VALUE);
        return outcome(p);
    }

    /**
     * Waits for {@code p} at most {@code nanos} ({@link Long#MAX_VALUE}: no limit) without heeding an
     * interrupt, which stays pending; whether {@code p} is done.
     */
    static boolean awaitKeepingInterrupt(Pending<?> p, long nanos) {
        boolean interrupted = Thread.interrupted();    // cleared while waiting, so park can block
        long deadline = System.nanoTime() + nanos;
        try {
            while (!p.isDone()) {
                if (nanos == Long.MAX_VALUE) {
                    LockSupport.park(p);
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) return false;
                    LockSupport.parkNanos(p, left);
                }
                if (Thread.interrupted()) interrupted = true;
            }
            return true;
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static <T> T outcome(Pending<T> p) throws IOException {
        Throwable e = p.error();
        if (e != null) {
            if (e instanceof IOException io) throw IoErrors.inCaller(io);
            throw IoErrors.inCaller(IoErrors.translate(e, "operation"));
        }
        return p.value();
    }

    /** Closes the endpoint: the reaction to an interrupt (for a socket, as {@code close()}: writes already made still drain). */
    abstract void closeForInterrupt();

    /**
     * Home loop, while its carrier stops: closes the channel now, whatever a {@code close()} had deferred
     * (a socket waiting for its last write to drain), so that the loop still submits the descriptor's close.
     * Also called for an endpoint the carrier adopted unused, whose channel was never registered.
     */
    abstract void closeAtShutdown();
}
