package dev.bobbin.bench.echo;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The closed-loop load generator of the echo benchmark: {@code connections} TCP connections, each sending
 * one message, waiting for all of its echo, checking it byte for byte, and sending the next; a warmup,
 * then a measured window.
 *
 * <p>Implementation overview. Connections are opened up front (blocking connect with a timeout, then
 * non-blocking) and dealt round-robin to {@code threads} workers, each with its own NIO
 * {@link Selector}, so a worker is one thread multiplexing many connections and the client's CPU use
 * does not grow with the connection count. Every message is {@code messageSize} bytes: an 8-byte
 * per-connection sequence number followed by a pattern that depends on the connection and the sequence
 * number, so a lost, duplicated, reordered or corrupted byte is caught. A round trip is counted, and its
 * latency (send to last echoed byte, {@link System#nanoTime()}) recorded, when it completes inside the
 * window. The window is bounded by two samples of CPU ticks from {@code /proc}: the server process's
 * (if its pid is given), this process's, and the machine's. Every wait is bounded: selects time out
 * every {@value #SELECT_TIMEOUT_MILLIS} ms to check the phase, connects time out, and the run ends
 * after warmup + window whether or not the server answers.
 */
final class EchoClient {
    private static final long SELECT_TIMEOUT_MILLIS = 100;
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private static final long CONNECT_ALL_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long WORKER_JOIN_MILLIS = 5_000;
    /** Highest latency the histogram tracks exactly; larger values are clamped to it. */
    private static final long MAX_TRACKED_NANOS = TimeUnit.SECONDS.toNanos(60);

    private static final int WARMUP = 0, MEASURE = 1, STOP = 2;

    /**
     * What to run.
     *
     * @param target              the server's address (loopback)
     * @param connections         concurrent connections, each with one message in flight; at least 1
     * @param messageSize         bytes per message, 8 to 65536
     * @param threads             selector threads, 1 to {@code connections}
     * @param warmup              run before measuring; not negative
     * @param window              the measured window; positive
     * @param serverPid           the server's pid for its CPU time, or 0 to skip it
     * @param clockTicksPerSecond {@code getconf CLK_TCK}
     */
    record Config(InetSocketAddress target, int connections, int messageSize, int threads,
                  Duration warmup, Duration window, long serverPid, long clockTicksPerSecond) {
        Config {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(warmup, "warmup");
            Objects.requireNonNull(window, "window");
            if (connections < 1) throw new IllegalArgumentException("connections must be at least 1: " + connections);
            if (messageSize < 8 || messageSize > 65_536) throw new IllegalArgumentException("messageSize must be 8 to 65536: " + messageSize);
            if (threads < 1 || threads > connections) throw new IllegalArgumentException("threads must be 1 to connections: " + threads);
            if (warmup.isNegative()) throw new IllegalArgumentException("warmup must not be negative: " + warmup);
            if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("window must be positive: " + window);
            if (serverPid < 0) throw new IllegalArgumentException("serverPid must be 0 (none) or a pid: " + serverPid);
            if (clockTicksPerSecond < 1) throw new IllegalArgumentException("clockTicksPerSecond must be positive: " + clockTicksPerSecond);
        }
    }

    /**
     * What a run measured. CPU tick counts are -1 when not measured.
     *
     * @param windowNanos       the measured window's actual length
     * @param roundTrips        round trips completed in the window
     * @param latencyNanos      latency of those round trips
     * @param errors            connections that failed (closed early, wrong bytes, I/O error)
     * @param firstError        the first failure, or null
     * @param serverCpuTicks    the server process's CPU ticks in the window
     * @param clientCpuTicks    this process's CPU ticks in the window
     * @param machineBusyTicks  all CPUs' busy ticks in the window (any process)
     * @param machineTotalTicks all CPUs' ticks in the window
     * @param allServedNanos    from the first message sent to the first echo of the last connection to get one
     *                          (how long a server busy with the first connections took to serve them all,
     *                          accepts included); -1 if some connection never got one
     */
    record Result(Config config, long windowNanos, long roundTrips, Histogram latencyNanos, long errors, String firstError,
                  long serverCpuTicks, long clientCpuTicks, long machineBusyTicks, long machineTotalTicks,
                  long allServedNanos) {

        double seconds() { return windowNanos / 1e9; }

        double roundTripsPerSecond() { return roundTrips / seconds(); }

        double latencyMicros(double percentile) {
            return latencyNanos.getTotalCount() == 0 ? Double.NaN : latencyNanos.getValueAtPercentile(percentile) / 1e3;
        }

        /** CPU seconds of {@code ticks} per second of window: how many cores were busy on average. */
        double cores(long ticks) {
            return ticks < 0 ? Double.NaN : ticks / (double) config.clockTicksPerSecond() / seconds();
        }

        /** Server CPU time per round trip, in microseconds. */
        double serverCpuMicrosPerRoundTrip() {
            return serverCpuTicks < 0 || roundTrips == 0 ? Double.NaN
                    : serverCpuTicks * 1e6 / config.clockTicksPerSecond() / roundTrips;
        }

        /** Client CPU time per round trip, in microseconds. */
        double clientCpuMicrosPerRoundTrip() {
            return clientCpuTicks < 0 || roundTrips == 0 ? Double.NaN
                    : clientCpuTicks * 1e6 / config.clockTicksPerSecond() / roundTrips;
        }

        /** {@code allServedNanos} in milliseconds; NaN if some connection never got an echo. */
        double allServedMillis() {
            return allServedNanos < 0 ? Double.NaN : allServedNanos / 1e6;
        }

        /** Busy CPUs of the whole machine on average over the window (server, client and anything else). */
        double machineBusyCores() {
            return machineTotalTicks <= 0 ? Double.NaN : cores(machineBusyTicks);
        }
    }

    private final Config config;
    private volatile int phase = WARMUP;   // written by run(), read by the workers at every round trip

    private EchoClient(Config config) {
        this.config = config;
    }

    /** Runs the load described by {@code config} and returns what it measured. */
    static Result run(Config config) throws IOException, InterruptedException {
        Objects.requireNonNull(config, "config");
        return new EchoClient(config).run();
    }

    private Result run() throws IOException, InterruptedException {
        List<Worker> workers = new ArrayList<>(config.threads());
        List<SocketChannel> channels = new ArrayList<>(config.connections());
        try {
            for (int t = 0; t < config.threads(); t++) workers.add(new Worker(Selector.open()));
            long deadline = System.nanoTime() + CONNECT_ALL_TIMEOUT_NANOS;
            for (int i = 0; i < config.connections(); i++) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("could not open " + config.connections() + " connections within "
                            + TimeUnit.NANOSECONDS.toSeconds(CONNECT_ALL_TIMEOUT_NANOS) + " s (opened " + i + ")");
                }
                SocketChannel ch = SocketChannel.open();
                channels.add(ch);
                ch.socket().setTcpNoDelay(true);
                ch.socket().connect(config.target(), CONNECT_TIMEOUT_MILLIS);
                ch.configureBlocking(false);
                workers.get(i % config.threads()).add(new Connection(i, ch, config.messageSize()));
            }

            List<Thread> threads = new ArrayList<>();
            long start = System.nanoTime();                // before the first message: workers send at once
            for (int t = 0; t < workers.size(); t++) {
                threads.add(Thread.ofPlatform().name("echo-client-" + t).start(workers.get(t)));
            }
            Thread.sleep(config.warmup().toMillis());

            long self = ProcessHandle.current().pid();
            long server0 = serverTicks(), client0 = ProcStat.processCpuTicks(self);
            ProcStat.MachineTicks machine0 = ProcStat.machineTicks();
            long t0 = System.nanoTime();
            phase = MEASURE;
            Thread.sleep(config.window().toMillis());
            long server1 = serverTicks(), client1 = ProcStat.processCpuTicks(self);
            ProcStat.MachineTicks machine1 = ProcStat.machineTicks();
            long t1 = System.nanoTime();
            phase = STOP;

            long roundTrips = 0, errors = 0, served = 0, lastFirstEcho = start;
            String firstError = null;
            Histogram latency = new Histogram(MAX_TRACKED_NANOS, 3);
            for (int t = 0; t < threads.size(); t++) {
                Thread th = threads.get(t);
                th.join(WORKER_JOIN_MILLIS);
                Worker w = workers.get(t);
                if (th.isAlive()) {
                    errors++;
                    if (firstError == null) firstError = th.getName() + " did not stop";
                    continue;
                }
                roundTrips += w.roundTrips;
                errors += w.errors;
                served += w.firstEchoes;
                lastFirstEcho = Math.max(lastFirstEcho, w.lastFirstEcho);
                if (firstError == null) firstError = w.firstError;
                latency.add(w.latency);
            }
            return new Result(config, t1 - t0, roundTrips, latency, errors, firstError,
                    server0 < 0 ? -1 : server1 - server0, client1 - client0,
                    machine1.busy() - machine0.busy(), machine1.total() - machine0.total(),
                    served == config.connections() ? lastFirstEcho - start : -1);
        } finally {
            phase = STOP;
            for (SocketChannel ch : channels) closeQuietly(ch);
            for (Worker w : workers) closeQuietly(w.selector);
        }
    }

    private long serverTicks() throws IOException {
        return config.serverPid() == 0 ? -1 : ProcStat.processCpuTicks(config.serverPid());
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing at the end of the run: nothing to do
        }
    }

    /** One connection's state; owned by one worker thread. */
    private static final class Connection {
        final int index;
        final SocketChannel channel;
        final ByteBuffer out;       // the message in flight; after a full write position == limit == size
        final ByteBuffer in;        // echoed bytes so far; twice the size, so an over-long echo is seen
        final int size;
        SelectionKey key;
        long sequence;
        long sentAt;

        Connection(int index, SocketChannel channel, int size) {
            this.index = index;
            this.channel = channel;
            this.size = size;
            this.out = ByteBuffer.allocateDirect(size);
            this.in = ByteBuffer.allocateDirect(2 * size);
        }

        void fillNext() {
            out.clear();
            out.putLong(sequence);
            byte b = (byte) (index * 31 + sequence);
            while (out.hasRemaining()) out.put(b++);
            out.flip();
        }
    }

    /** A selector thread driving its share of the connections. */
    private final class Worker implements Runnable {
        final Selector selector;
        final List<Connection> connections = new ArrayList<>();
        final Histogram latency = new Histogram(MAX_TRACKED_NANOS, 3);
        long roundTrips;             // in the window
        long firstEchoes;            // connections that got their first echo
        long lastFirstEcho;          // System.nanoTime of the latest of those
        long errors;
        String firstError;

        Worker(Selector selector) {
            this.selector = selector;
        }

        void add(Connection c) throws IOException {
            c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
            connections.add(c);
        }

        @Override
        public void run() {
            try {
                for (Connection c : connections) send(c);
                while (phase != STOP) {
                    if (selector.select(SELECT_TIMEOUT_MILLIS) == 0) continue;
                    Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                    while (it.hasNext()) {
                        SelectionKey k = it.next();
                        it.remove();
                        Connection c = (Connection) k.attachment();
                        try {
                            if (!k.isValid()) continue;
                            if (k.isWritable()) continueWrite(c);
                            if (k.isValid() && k.isReadable()) read(c);
                        } catch (IOException e) {
                            fail(c, e.toString());
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                errors++;
                if (firstError == null) firstError = Thread.currentThread().getName() + ": " + e;
            }
        }

        private void send(Connection c) throws IOException {
            c.fillNext();
            c.sentAt = System.nanoTime();
            c.channel.write(c.out);
            if (c.out.hasRemaining()) c.key.interestOps(SelectionKey.OP_WRITE);
        }

        private void continueWrite(Connection c) throws IOException {
            c.channel.write(c.out);
            if (!c.out.hasRemaining()) c.key.interestOps(SelectionKey.OP_READ);
        }

        private void read(Connection c) throws IOException {
            int n = c.channel.read(c.in);
            if (n < 0) {
                fail(c, "connection " + c.index + ": server closed it");
                return;
            }
            int got = c.in.position();
            if (got < c.size) return;
            if (got > c.size) {
                fail(c, "connection " + c.index + ": " + got + " bytes echoed for a " + c.size + "-byte message");
                return;
            }
            long now = System.nanoTime();
            c.in.flip();
            int mismatch = c.in.mismatch(c.out.duplicate().rewind());
            if (mismatch >= 0) {
                fail(c, "connection " + c.index + ": echo differs from message " + c.sequence + " at byte " + mismatch);
                return;
            }
            if (c.sequence == 0) {
                firstEchoes++;
                lastFirstEcho = now;
            }
            if (phase == MEASURE) {
                roundTrips++;
                latency.recordValue(Math.min(now - c.sentAt, MAX_TRACKED_NANOS));
            }
            c.in.clear();
            c.sequence++;
            send(c);
        }

        private void fail(Connection c, String why) {
            errors++;
            if (firstError == null) firstError = why;
            c.key.cancel();
            closeQuietly(c.channel);
        }
    }
}
