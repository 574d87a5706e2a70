package dev.bobbin.bench.echo;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * An echo server in the blocking, thread-per-connection style: one thread accepts, and each connection
 * gets its own thread that reads into a buffer and writes back what it read, until end of stream.
 *
 * <p>Implementation overview. The server is generic in two things, so every thread-per-connection kind
 * of the benchmark runs the very same loop and differs only in what is under test:
 * <ul>
 *   <li>the {@link ThreadFactory} for the acceptor and the connection threads (platform threads, JDK
 *       virtual threads, Bobbin fibers), and</li>
 *   <li>the socket API, through {@link Listener} and {@link Connection} ({@code java.net} sockets here;
 *       Bobbin's fiber sockets in {@link FiberEchoSockets}). Each turn of the loop is
 *       {@link Connection#echoOnce}: read into the connection thread's buffer and write that back, unless
 *       the socket API overrides it with its own fastest path.</li>
 * </ul>
 * Open connections are kept in a concurrent set so {@link #close()} can close them, which ends their
 * threads' blocking reads with an exception. An I/O error on a connection ends that connection only.
 */
final class BlockingEchoServer implements EchoServer {

    /** Size of each connection's read buffer: far above the benchmark's 64-byte messages. */
    static final int BUFFER_SIZE = 8192;

    /** How long {@link #close()} waits for the acceptor and the connection threads to finish. */
    private static final long CLOSE_WAIT_MILLIS = 5_000;

    /** A listening socket, as the blocking echo loop needs it. */
    interface Listener extends Closeable {
        /** Blocks until a connection arrives; throws once the listener is closed. */
        Connection accept() throws IOException;

        /** The bound local port. */
        int port();
    }

    /** One accepted connection, as the blocking echo loop needs it. */
    interface Connection extends Closeable {
        /** Reads at least one byte, blocking until some arrive; -1 at end of stream. */
        int read(byte[] buffer, int offset, int length) throws IOException;

        /** Writes all {@code length} bytes, blocking as needed. */
        void write(byte[] buffer, int offset, int length) throws IOException;

        /**
         * One turn of the echo loop: waits for some bytes and writes them back; false at end of stream.
         * The default goes through {@link #read} and {@link #write} with the caller's buffer; a socket API
         * with a cheaper path (e.g. handing the received buffer straight to the write) overrides it.
         */
        default boolean echoOnce(byte[] buffer) throws IOException {
            int n = read(buffer, 0, buffer.length);
            if (n < 0) return false;
            write(buffer, 0, n);
            return true;
        }
    }

    /** Releases what the server's threads run on (e.g. shuts down a scheduler); may wait, boundedly. */
    @FunctionalInterface
    interface Teardown {
        void close() throws Exception;
    }

    private final Listener listener;
    private final ThreadFactory connectionThreads;
    private final int serviceThreads;
    private final Teardown runtime;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    private BlockingEchoServer(Listener listener, ThreadFactory acceptorThreads, ThreadFactory connectionThreads,
                               int serviceThreads, Teardown runtime) {
        this.listener = listener;
        this.connectionThreads = connectionThreads;
        this.serviceThreads = serviceThreads;
        this.runtime = runtime;
        this.acceptor = acceptorThreads.newThread(this::acceptLoop);
    }

    /**
     * Starts serving {@code listener}. On failure to start, closes the listener and the runtime.
     *
     * @param serviceThreads reported by {@link #serviceThreads()}; 0 when not fixed
     * @param runtime        closed after the last connection; may be null
     */
    static BlockingEchoServer start(Listener listener, ThreadFactory acceptorThreads, ThreadFactory connectionThreads,
                                    int serviceThreads, Teardown runtime) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(acceptorThreads, "acceptorThreads");
        Objects.requireNonNull(connectionThreads, "connectionThreads");
        BlockingEchoServer server = new BlockingEchoServer(listener, acceptorThreads, connectionThreads,
                serviceThreads, runtime == null ? () -> { } : runtime);
        try {
            server.acceptor.start();
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    @Override public int port() { return listener.port(); }

    @Override public int serviceThreads() { return serviceThreads; }

    private void acceptLoop() {
        while (!closed) {
            Connection c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                if (closed) return;
                System.err.println("echo server: accept failed: " + e);
                sleepQuietly(10);   // e.g. out of file descriptors: do not spin
                continue;
            }
            open.add(c);
            if (closed) {       // close() may have run between accept and add: it would have missed c
                closeQuietly(c);
                open.remove(c);
                return;
            }
            try {
                connectionThreads.newThread(() -> serve(c)).start();
            } catch (RuntimeException | Error e) {
                System.err.println("echo server: cannot start a connection thread: " + e);
                closeQuietly(c);
                open.remove(c);
            }
        }
    }

    private void serve(Connection c) {
        byte[] buffer = new byte[BUFFER_SIZE];
        try {
            while (c.echoOnce(buffer)) {
                // echoed one chunk
            }
        } catch (IOException e) {
            // the peer reset the connection, or close() closed it: either ends this connection only
        } finally {
            closeQuietly(c);
            open.remove(c);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        closeQuietly(listener);
        for (Connection c : open) closeQuietly(c);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        try {
            acceptor.join(CLOSE_WAIT_MILLIS);
            while (!open.isEmpty() && System.nanoTime() < deadline) {
                for (Connection c : open) closeQuietly(c);
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            runtime.close();
        } catch (Exception e) {
            System.err.println("echo server: closing the runtime failed: " + e);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing left to do with it
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- java.net sockets ------------------------------------------------------------------------

    /** A {@link Listener} over a {@link ServerSocket} bound to the loopback address. */
    static Listener jdkListener(ServerOptions options) throws IOException {
        ServerSocket ss = new ServerSocket();
        try {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), options.backlog());
        } catch (IOException | RuntimeException e) {
            ss.close();
            throw e;
        }
        return new Listener() {
            @Override public Connection accept() throws IOException {
                Socket s = ss.accept();
                try {
                    s.setTcpNoDelay(true);
                    return new JdkConnection(s);
                } catch (IOException | RuntimeException e) {
                    s.close();
                    throw e;
                }
            }
            @Override public int port() { return ss.getLocalPort(); }
            @Override public void close() throws IOException { ss.close(); }
        };
    }

    private static final class JdkConnection implements Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        JdkConnection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        @Override public int read(byte[] b, int off, int len) throws IOException { return in.read(b, off, len); }
        @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
        @Override public void close() throws IOException { socket.close(); }
    }
}
