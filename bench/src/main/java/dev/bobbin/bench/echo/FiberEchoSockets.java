package dev.bobbin.bench.echo;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bobbin's fiber sockets ({@code dev.bobbin.uring}) as a {@link BlockingEchoServer.Listener} and
 * {@link BlockingEchoServer.Connection}, for the {@code bobbin-uring*} and {@code bobbin-epoll} kinds.
 *
 * <p>Implementation overview. The listening socket is bound by a fiber of the serving scheduler, so it
 * lives on one of that scheduler's carrier loops rather than on the runtime's fallback loop thread (a
 * socket lives on the loop of the carrier where it is first used). An accepted socket gets
 * {@code TCP_NODELAY} and is first used by the fiber serving it, so it lives on that fiber's carrier.
 * The echo turn is {@link FiberSocket#receive()} followed by {@link FiberSocket#write(ByteBuf)}: the
 * buffer the loop received into is handed back to it for the write, with no copy into or out of the
 * connection thread's {@code byte[]}, and the write returns without waiting for the kernel, so a round
 * trip parks the fiber once (in {@code receive}).
 */
final class FiberEchoSockets {
    /** How long binding may take before the server gives up (a safety net; it takes microseconds). */
    private static final long BIND_TIMEOUT_SECONDS = 10;

    private FiberEchoSockets() { }

    /** Binds a fiber server socket of {@code io} to the loopback address, from a fiber of {@code scheduler}. */
    static BlockingEchoServer.Listener listener(FiberIo io, FiberScheduler scheduler, ServerOptions options)
            throws IOException, InterruptedException {
        FiberServerSocket server = io.openServer();
        CompletableFuture<Void> bound = new CompletableFuture<>();
        try {
            scheduler.start(() -> {
                try {
                    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), options.backlog());
                    bound.complete(null);
                } catch (Throwable t) {
                    bound.completeExceptionally(t);
                }
            });
            bound.get(BIND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            server.close();
            if (e.getCause() instanceof IOException io2) throw io2;
            throw new IOException("bind failed", e.getCause());
        } catch (TimeoutException e) {
            server.close();
            throw new InterruptedIOException("bind did not finish within " + BIND_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException | RuntimeException | Error e) {
            server.close();
            throw e;
        }
        return new BlockingEchoServer.Listener() {
            @Override public BlockingEchoServer.Connection accept() throws IOException {
                FiberSocket s = server.accept();
                try {
                    s.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    return new FiberConnection(s);
                } catch (IOException | RuntimeException e) {
                    s.close();
                    throw e;
                }
            }
            @Override public int port() { return server.localAddress().getPort(); }
            @Override public void close() { server.close(); }
        };
    }

    private record FiberConnection(FiberSocket socket) implements BlockingEchoServer.Connection {
        @Override public int read(byte[] b, int off, int len) throws IOException {
            return socket.read(ByteBuffer.wrap(b, off, len));
        }

        @Override public void write(byte[] b, int off, int len) throws IOException {
            socket.write(ByteBuffer.wrap(b, off, len));
        }

        /** Zero copy: the received buffer goes straight back to the loop, which releases it once written. */
        @Override public boolean echoOnce(byte[] unused) throws IOException {
            ByteBuf b = socket.receive();
            if (b == null) return false;
            socket.write(b);                 // takes ownership, also when it throws
            return true;
        }

        @Override public void close() { socket.close(); }
    }
}
