package dev.bobbin.bench.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's routes ({@link HttpWorkloads}) on a minimal Netty 4.2 HTTP/1.1 server over io_uring:
 * one {@link MultiThreadIoEventLoopGroup} of {@link IoUringIoHandler}s (one loop per CPU) accepting and
 * serving, {@link HttpServerCodec} + {@link HttpObjectAggregator}, and a handler that answers each
 * request from the event loop, flushing once per read batch. The blocking route cannot run on an event
 * loop, so, as a Netty application would, it hands the request to another executor (here a virtual
 * thread per request) and writes the response from there.
 */
final class NettyHttpServer implements HttpBenchServer {
    /** Largest request the aggregator accepts; the benchmark sends bodiless GETs. */
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final EventLoopGroup group;
    private final ChannelGroup children;
    private final Channel serverChannel;
    private final ExecutorService blocking;

    private NettyHttpServer(EventLoopGroup group, ChannelGroup children, Channel serverChannel, ExecutorService blocking) {
        this.group = group;
        this.children = children;
        this.serverChannel = serverChannel;
        this.blocking = blocking;
    }

    static NettyHttpServer start(int port) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, IoUringIoHandler.newFactory());
        ChannelGroup children = new DefaultChannelGroup("http-children", GlobalEventExecutor.INSTANCE);
        ExecutorService blocking = Executors.newVirtualThreadPerTaskExecutor();
        Handler handler = new Handler(blocking);
        try {
            Channel ch = new ServerBootstrap()
                    .group(group)
                    .channel(IoUringServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, JdkApiHttpServer.BACKLOG)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override protected void initChannel(Channel ch) {
                            children.add(ch);
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES), handler);
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                    .sync()
                    .channel();
            return new NettyHttpServer(group, children, ch, blocking);
        } catch (InterruptedException | RuntimeException | Error e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            blocking.close();
            throw e;
        }
    }

    @Override
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public String implementation() {
        return "Netty " + serverChannel.getClass().getSimpleName();
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        children.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        blocking.close();
    }

    /** Answers each aggregated request; stateless, so shared by all channels. */
    @ChannelHandler.Sharable
    static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ExecutorService blocking;

        Handler(ExecutorService blocking) {
            this.blocking = blocking;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpVersion version = req.protocolVersion();
            String path = req.uri();
            int q = path.indexOf('?');
            if (q >= 0) path = path.substring(0, q);
            switch (path) {
                case HttpWorkloads.HELLO_PATH -> write(ctx, ok(version, HttpWorkloads.TEXT_PLAIN, HttpWorkloads.hello(), keepAlive), keepAlive, false);
                case HttpWorkloads.JSON_PATH -> write(ctx, ok(version, HttpWorkloads.APPLICATION_JSON, HttpWorkloads.json(), keepAlive), keepAlive, false);
                case HttpWorkloads.SLEEP_PATH -> blocking.execute(() -> {
                    HttpWorkloads.simulatedDatabaseCall();
                    write(ctx, ok(version, HttpWorkloads.TEXT_PLAIN, HttpWorkloads.hello(), keepAlive), keepAlive, true);
                });
                default -> {
                    FullHttpResponse notFound = new DefaultFullHttpResponse(version, HttpResponseStatus.NOT_FOUND, Unpooled.EMPTY_BUFFER);
                    HttpUtil.setContentLength(notFound, 0);
                    write(ctx, notFound, false, false);
                }
            }
        }

        private static FullHttpResponse ok(HttpVersion version, String contentType, byte[] body, boolean keepAlive) {
            FullHttpResponse res = new DefaultFullHttpResponse(version, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            HttpUtil.setContentLength(res, body.length);
            if (keepAlive && version.equals(HttpVersion.HTTP_1_0)) {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            return res;
        }

        /** Writes; flushes now if {@code flushNow} (off the event loop), else at the end of the read batch. */
        private static void write(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive, boolean flushNow) {
            if (!keepAlive) {
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            } else if (flushNow) {
                ctx.writeAndFlush(res, ctx.voidPromise());
            } else {
                ctx.write(res, ctx.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();   // e.g. connection reset by the client: ends this connection only
        }
    }
}
