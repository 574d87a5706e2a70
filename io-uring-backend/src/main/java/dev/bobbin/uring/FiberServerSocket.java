package dev.bobbin.uring;

import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.NotYetBoundException;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * A listening TCP socket with a blocking {@link #accept()} for fibers (and any other thread).
 *
 * <p>The listening socket lives on the loop of the carrier that called {@link #bind}. An accepted
 * {@link FiberSocket} is not tied to that loop: it is registered on the loop of the carrier where it is
 * first used, so connections spread over the carriers as the fibers serving them do.
 * {@link #close()} from any thread makes a blocked {@code accept} throw
 * {@link AsynchronousCloseException}; an interrupted {@code accept} closes the server and throws
 * {@link java.nio.channels.ClosedByInterruptException}.
 */
public final class FiberServerSocket extends Endpoint implements Closeable {
    private final ServerSocketChannel sch;
    private volatile boolean bound;

    // loop-confined state
    private final ArrayDeque<FiberSocket> backlog = new ArrayDeque<>(); // accepted, not yet handed out
    private Pending<FiberSocket> acceptWaiter;
    private boolean loopClosed;
    private IOException acceptError;

    FiberServerSocket(FiberIo io) {
        this(io, io.transport().newServerSocketChannel());
    }

    private FiberServerSocket(FiberIo io, ServerSocketChannel ch) {
        super(io, ch);
        this.sch = ch;
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(new Acceptor());
    }

    /**
     * Binds to {@code local} and listens, with at most {@code backlog} pending connections (below 1:
     * the default, 128).
     *
     * @throws java.net.BindException if the address is in use
     */
    public FiberServerSocket bind(SocketAddress local, int backlog) throws IOException {
        Objects.requireNonNull(local, "local");
        checkOpen();
        synchronized (this) {
            if (bound) throw new AlreadyBoundException();
            bound = true;
        }
        ch.config().setOption(ChannelOption.SO_BACKLOG, backlog < 1 ? IoTunables.DEFAULT_BACKLOG : backlog);
        Pending<Void> p = new Pending<>(Thread.currentThread());
        run(() -> {
            if (!p.isWaiting()) return;
            if (registrationError != null) {
                p.fail(registrationError);
                return;
            }
            ch.bind(local).addListener(f -> {
                if (f.isSuccess()) p.complete(null);
                else p.fail(IoErrors.translate(f.cause(), "bind"));
            });
        });
        try {
            await(p);
        } catch (IOException e) {
            if (!(e instanceof java.nio.channels.ClosedByInterruptException)) close();
            throw e;
        }
        return this;
    }

    /** Binds to {@code local} with the default backlog. */
    public FiberServerSocket bind(SocketAddress local) throws IOException {
        return bind(local, 0);
    }

    /**
     * Waits for and returns the next connection.
     *
     * @throws NotYetBoundException if not bound
     */
    public FiberSocket accept() throws IOException {
        checkOpen();
        if (!bound) throw new NotYetBoundException();
        Pending<FiberSocket> p = new Pending<>(Thread.currentThread());
        run(() -> startAccept(p));
        return await(p);
    }

    private void startAccept(Pending<FiberSocket> p) {
        if (!p.isWaiting()) return;
        FiberSocket s = backlog.pollFirst();
        if (s != null) {
            if (!p.complete(s)) backlog.addFirst(s);
            return;
        }
        if (loopClosed) p.fail(new AsynchronousCloseException());
        else if (acceptError != null) p.fail(acceptError);
        else if (acceptWaiter != null) p.fail(new IllegalStateException("concurrent accept on " + this));
        else {
            acceptWaiter = p;
            ch.read();
        }
    }

    /**
     * Sets a socket option of the listening socket (SO_REUSEADDR, SO_REUSEPORT, SO_RCVBUF); set before
     * {@link #bind}.
     */
    public <T> FiberServerSocket setOption(SocketOption<T> option, T value) throws IOException {
        Objects.requireNonNull(option, "option");
        Objects.requireNonNull(value, "value");
        ensureOpen();
        io.transport().setOption(ch.config(), option, value);
        return this;
    }

    /** The current value of a socket option. */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        Objects.requireNonNull(option, "option");
        ensureOpen();
        return io.transport().getOption(ch.config(), option);
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

    /** Stops listening; a blocked {@link #accept()} throws {@link AsynchronousCloseException}. Idempotent; any thread. */
    @Override
    public void close() {
        if (!markClosed()) return;
        try {
            run(this::closeOnLoop);
        } catch (java.nio.channels.ClosedChannelException e) {
            // the loop is gone, and closed every channel it had
        }
    }

    @Override
    void closeForInterrupt() {
        close();
    }

    @Override
    void closeAtShutdown() {
        markClosed();
        closeOnLoop();
    }

    private void closeOnLoop() {
        if (loopClosed) return;
        loopClosed = true;
        Pending<FiberSocket> w = acceptWaiter;
        acceptWaiter = null;
        if (w != null) w.fail(new AsynchronousCloseException());
        FiberSocket s;
        while ((s = backlog.pollFirst()) != null) s.closeUnused();
        closeChannel();
    }

    @Override
    public String toString() {
        return "FiberServerSocket[" + io.transport().id() + ", " + localAddress() + (isClosedFlag() ? ", closed" : "") + "]";
    }

    /** Loop: turns accepted channels into sockets and hands them to the waiting acceptor. */
    private final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            SocketChannel child = (SocketChannel) msg;
            FiberSocket s = new FiberSocket(io, child, true);
            if (loopClosed) {
                s.closeUnused();
                return;
            }
            Pending<FiberSocket> w = acceptWaiter;
            acceptWaiter = null;
            if (w == null || !w.complete(s)) backlog.addLast(s);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // keep accepting ahead of the application, up to a bound: a burst of connections is taken off
            // the kernel's queue while the acceptor fiber is still handing out the previous one
            if ((acceptWaiter != null || backlog.size() < IoTunables.ACCEPT_AHEAD) && ch.isActive() && !loopClosed) {
                ch.read();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            IOException e = IoErrors.translate(cause, "accept");
            Pending<FiberSocket> w = acceptWaiter;
            acceptWaiter = null;
            if (w != null) w.fail(e);
            else if (!(cause instanceof IOException)) acceptError = e;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Pending<FiberSocket> w = acceptWaiter;
            acceptWaiter = null;
            if (w != null) w.fail(new AsynchronousCloseException());
        }
    }

}
