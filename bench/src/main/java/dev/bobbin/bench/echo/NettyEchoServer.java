package dev.bobbin.bench.echo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The asynchronous echo server the benchmark compares Bobbin against: a Netty {@link ServerBootstrap} on
 * one {@link MultiThreadIoEventLoopGroup} (accepting and serving), whose child handler writes every
 * buffer it reads back to the channel and flushes once per read batch. The transport (io_uring, epoll)
 * is given by the {@link IoHandlerFactory} and server channel class. Accepted channels are kept in a
 * {@link ChannelGroup} so that {@link #close()} closes them before it shuts the event loops down.
 *
 * <p>A probe, off by default: with {@code -Dbobbin.echo.touchLines=N} (N &gt; 0) each connection also
 * keeps a chain of N objects of one cache line each and walks it on every read, so that a round trip
 * touches N more lines of per-connection memory through dependent loads, as a fiber's own objects add to
 * a fiber-per-connection server's round trip (bench/README.md, "Twenty-sixth session"). The chain's
 * links are made one per read over the connection's first N reads, so the links of all connections
 * interleave in the heap when made (a collection that copies them may lay each chain out in one piece).
 */
final class NettyEchoServer implements EchoServer {

    /** The probe's chain length, 0 (off) unless {@code -Dbobbin.echo.touchLines} says otherwise. */
    private static final int TOUCH_LINES = Math.max(0, Integer.getInteger("bobbin.echo.touchLines", 0));

    private final EventLoopGroup group;
    private final ChannelGroup children;
    private final Channel serverChannel;
    private final int threads;

    private NettyEchoServer(EventLoopGroup group, ChannelGroup children, Channel serverChannel, int threads) {
        this.group = group;
        this.children = children;
        this.serverChannel = serverChannel;
        this.threads = threads;
    }

    static NettyEchoServer start(ServerOptions options, IoHandlerFactory ioHandlerFactory,
                                 Class<? extends ServerChannel> serverChannelClass) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(options.threads(), ioHandlerFactory);
        ChannelGroup children = new DefaultChannelGroup("echo-children", GlobalEventExecutor.INSTANCE);
        try {
            Channel ch = new ServerBootstrap()
                    .group(group)
                    .channel(serverChannelClass)
                    .option(ChannelOption.SO_BACKLOG, options.backlog())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override protected void initChannel(Channel ch) {
                            children.add(ch);   // removed again when it closes
                            ch.pipeline().addLast(TOUCH_LINES > 0
                                    ? new TouchingEchoHandler(TOUCH_LINES) : EchoHandler.INSTANCE);
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()))
                    .sync()
                    .channel();
            return new NettyEchoServer(group, children, ch, options.threads());
        } catch (InterruptedException | RuntimeException | Error e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    @Override
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override public int serviceThreads() { return threads; }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        children.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** What both echo handlers do besides the read: flush once per read batch, close on an error. */
    abstract static class FlushingEchoHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();   // e.g. connection reset by the client: ends this connection only
        }
    }

    /** Writes what it reads back, flushing once per read batch; stateless, so shared by all channels. */
    @ChannelHandler.Sharable
    static final class EchoHandler extends FlushingEchoHandler {
        static final EchoHandler INSTANCE = new EchoHandler();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());   // the write releases the buffer
        }
    }

    /** {@link EchoHandler} plus the probe's walk of its connection's chain (one per connection). */
    static final class TouchingEchoHandler extends FlushingEchoHandler {
        /** One link: a reference, six longs and the header fill a 64-byte line. */
        private static final class Link {
            final Link next;
            long a, b, c, d, e, f;

            Link(Link next) { this.next = next; }
        }

        private final int lines;
        private Link chain;
        private int links;
        private long sum;                                  // kept, so the walk is not optimized away

        TouchingEchoHandler(int lines) { this.lines = lines; }

        /** The chain's length so far (tests). */
        int links() {
            int n = 0;
            for (Link l = chain; l != null; l = l.next) n++;
            return n;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (links < lines) {
                chain = new Link(chain);
                links++;
            }
            long s = sum;
            for (Link l = chain; l != null; l = l.next) s += l.a++;
            sum = s;
            ctx.write(msg, ctx.voidPromise());
        }
    }
}
