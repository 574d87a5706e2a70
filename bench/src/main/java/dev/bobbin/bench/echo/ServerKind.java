package dev.bobbin.bench.echo;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.SchedulingPolicy;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.IoTransport;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The registry of echo servers the benchmark compares, each named by the id used on the command line
 * and in the results table. {@link EchoBench} runs every kind in declaration order unless told
 * otherwise; the table's ratio columns are relative to {@link #JDK_VTHREAD} and {@link #NETTY_URING}.
 *
 * <h2>Adding a kind</h2>
 * A kind needs an id, a one-line description, {@link #unavailableReason()} when it cannot run on this
 * machine or build, and {@link #start(ServerOptions)}, which binds to the loopback address and returns a
 * running {@link EchoServer}. Thread-per-connection kinds reuse {@link BlockingEchoServer} (same echo
 * loop, own threads and socket API); event-loop kinds implement {@link EchoServer} directly, as
 * {@link NettyEchoServer} does. {@code EchoServerSmokeTest} then echoes through the new kind
 * automatically.
 */
public enum ServerKind {

    /** {@code java.net} sockets, a JDK virtual thread per connection, the JDK's default scheduler. */
    JDK_VTHREAD("jdk-vthread", "java.net.Socket, a JDK virtual thread per connection (default scheduler)") {
        @Override EchoServer startAvailable(ServerOptions o) throws IOException {
            return BlockingEchoServer.start(BlockingEchoServer.jdkListener(o),
                    Thread.ofVirtual().name("echo-accept").factory(),
                    Thread.ofVirtual().name("echo-conn-", 0).factory(), 0, null);
        }
    },

    /** {@code java.net} sockets, a platform thread per connection. */
    PLATFORM("platform", "java.net.Socket, a platform thread per connection") {
        @Override EchoServer startAvailable(ServerOptions o) throws IOException {
            return BlockingEchoServer.start(BlockingEchoServer.jdkListener(o),
                    Thread.ofPlatform().daemon().name("echo-accept").factory(),
                    Thread.ofPlatform().daemon().name("echo-conn-", 0).factory(), 0, null);
        }
    },

    /**
     * {@code java.net} sockets, a Bobbin fiber per connection on a {@link FiberScheduler} with
     * {@code threads} carriers. Socket readiness still comes from the JDK's poller threads, so this
     * isolates Bobbin's scheduler, not its I/O path.
     */
    BOBBIN_JDKSOCKET("bobbin-jdksocket", "java.net.Socket, a Bobbin fiber per connection (parking carriers, JDK poller)") {
        @Override EchoServer startAvailable(ServerOptions o) throws IOException {
            BlockingEchoServer.Listener listener = BlockingEchoServer.jdkListener(o);
            FiberScheduler scheduler;
            try {
                scheduler = FiberScheduler.create(SchedulerConfig.builder().name("echo").parallelism(o.threads()).build());
            } catch (RuntimeException | Error e) {
                listener.close();
                throw e;
            }
            return BlockingEchoServer.start(listener,
                    scheduler.ofVirtual().name("echo-accept").factory(),
                    scheduler.threadFactory(), o.threads(), () -> shutdownBounded(scheduler));
        }
    },

    // ---- Bobbin fiber sockets (dev.bobbin.uring): the kinds the benchmark exists for ---------------

    /** Bobbin fibers on Bobbin's io_uring fiber sockets: each carrier drives its own ring; work stealing. */
    BOBBIN_URING("bobbin-uring", "Bobbin fiber sockets, a fiber per connection, carriers driving io_uring (work stealing)") {
        @Override public Optional<String> unavailableReason() { return fiberIoUnavailable(IoTransport.IO_URING); }
        @Override EchoServer startAvailable(ServerOptions o) throws IOException, InterruptedException {
            return startFiberIo(o, IoTransport.IO_URING, SchedulingPolicy.WORK_STEALING);
        }
    },

    /** The same as {@link #BOBBIN_URING} under {@link SchedulingPolicy#THREAD_PER_CORE}: a connection's fiber never leaves its carrier. */
    BOBBIN_URING_TPC("bobbin-uring-tpc", "Bobbin fiber sockets, a fiber per connection, carriers driving io_uring (thread per core)") {
        @Override public Optional<String> unavailableReason() { return fiberIoUnavailable(IoTransport.IO_URING); }
        @Override EchoServer startAvailable(ServerOptions o) throws IOException, InterruptedException {
            return startFiberIo(o, IoTransport.IO_URING, SchedulingPolicy.THREAD_PER_CORE);
        }
    },

    /** Bobbin fibers on Bobbin's epoll fiber sockets: each carrier drives its own epoll instance; work stealing. */
    BOBBIN_EPOLL("bobbin-epoll", "Bobbin fiber sockets, a fiber per connection, carriers driving epoll (work stealing)") {
        @Override public Optional<String> unavailableReason() { return fiberIoUnavailable(IoTransport.EPOLL); }
        @Override EchoServer startAvailable(ServerOptions o) throws IOException, InterruptedException {
            return startFiberIo(o, IoTransport.EPOLL, SchedulingPolicy.WORK_STEALING);
        }
    },

    /** Netty's asynchronous echo handler on io_uring, {@code threads} event loops. */
    NETTY_URING("netty-uring", "Netty 4.2 echo handler, io_uring transport, one event loop per thread") {
        @Override public Optional<String> unavailableReason() {
            return IoUring.isAvailable() ? Optional.empty() : Optional.of("io_uring unavailable: " + IoUring.unavailabilityCause());
        }
        @Override EchoServer startAvailable(ServerOptions o) throws InterruptedException {
            return NettyEchoServer.start(o, IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class);
        }
    },

    /** Netty's asynchronous echo handler on epoll, {@code threads} event loops. */
    NETTY_EPOLL("netty-epoll", "Netty 4.2 echo handler, epoll transport, one event loop per thread") {
        @Override public Optional<String> unavailableReason() {
            return Epoll.isAvailable() ? Optional.empty() : Optional.of("epoll unavailable: " + Epoll.unavailabilityCause());
        }
        @Override EchoServer startAvailable(ServerOptions o) throws InterruptedException {
            return NettyEchoServer.start(o, EpollIoHandler.newFactory(), EpollServerSocketChannel.class);
        }
    };

    private final String id;
    private final String description;

    ServerKind(String id, String description) {
        this.id = id;
        this.description = description;
    }

    /** The command-line id, e.g. {@code jdk-vthread}. */
    public String id() {
        return id;
    }

    /** One line saying what runs the connections. */
    public String description() {
        return description;
    }

    /** Empty when this kind can run on this machine and build; otherwise why not. */
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    /**
     * Starts a server of this kind on the loopback address.
     *
     * @throws UnsupportedOperationException if {@link #unavailableReason()} is present
     */
    public EchoServer start(ServerOptions options) throws IOException, InterruptedException {
        Objects.requireNonNull(options, "options");
        Optional<String> reason = unavailableReason();
        if (reason.isPresent()) throw new UnsupportedOperationException(id + ": " + reason.get());
        return startAvailable(options);
    }

    /** Whether this kind can run on this machine and build. */
    public boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    abstract EchoServer startAvailable(ServerOptions options) throws IOException, InterruptedException;

    /**
     * The kind with this id.
     *
     * @throws IllegalArgumentException naming the known ids if there is none
     */
    public static ServerKind of(String id) {
        Objects.requireNonNull(id, "id");
        for (ServerKind k : values()) if (k.id.equals(id)) return k;
        throw new IllegalArgumentException("unknown server kind '" + id + "'; known: " + ids());
    }

    /** One line per kind: id, then description, then why it is unavailable if it is. */
    public static String describeAll() {
        return Arrays.stream(values()).map(k -> String.format("  %-17s %s%s", k.id, k.description,
                k.unavailableReason().map(r -> " [" + r + "]").orElse(""))).collect(Collectors.joining("\n"));
    }

    /** Every id, comma-separated, in declaration order. */
    public static String ids() {
        return Arrays.stream(values()).map(ServerKind::id).collect(Collectors.joining(", "));
    }

    /** Why Bobbin's fiber sockets cannot run on {@code transport} here, if they cannot. */
    static Optional<String> fiberIoUnavailable(IoTransport transport) {
        return transport.unavailabilityCause().map(c -> transport.id() + " unavailable: " + c);
    }

    /**
     * A {@link BlockingEchoServer} on Bobbin's fiber sockets: a scheduler of {@code o.threads()} carriers,
     * each driving its own event loop on {@code transport}, and a fiber per connection.
     */
    static EchoServer startFiberIo(ServerOptions o, IoTransport transport, SchedulingPolicy policy)
            throws IOException, InterruptedException {
        FiberIo io = FiberIo.of(transport);
        FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig()
                .name("echo").parallelism(o.threads()).policy(policy).build());
        BlockingEchoServer.Listener listener;
        try {
            listener = FiberEchoSockets.listener(io, scheduler, o);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            shutdownBounded(scheduler);
            throw e;
        }
        Thread background = backgroundStarts(scheduler);
        return BlockingEchoServer.start(listener, scheduler.ofVirtual().name("echo-accept").factory(),
                scheduler.threadFactory(), o.threads(), () -> {
                    if (background != null) background.interrupt();
                    if (Boolean.getBoolean("bobbin.echo.stats")) {
                        System.err.println("echo server: " + io.stats());
                        System.err.println("echo server: " + scheduler.stats());
                    }
                    shutdownBounded(scheduler);
                });
    }

    /**
     * With {@code -Dbobbin.echo.backgroundStartMs=N}: a platform thread that starts an empty fiber on the
     * server's scheduler every N ms, as a server's timers or outside submissions would, each one waking
     * a parked carrier (bench/README.md, "io_uring echo at 100 connections"); null without it.
     */
    private static Thread backgroundStarts(FiberScheduler scheduler) {
        long periodMs = Long.getLong("bobbin.echo.backgroundStartMs", 0);
        if (periodMs <= 0) return null;
        return Thread.ofPlatform().daemon().name("echo-background-starts").start(() -> {
            try {
                for (;;) {
                    Thread.sleep(periodMs);
                    scheduler.start(() -> { });
                }
            } catch (InterruptedException | java.util.concurrent.RejectedExecutionException e) {
                // the server is closing
            }
        });
    }

    /** Shuts a server's scheduler down and waits a bounded time for its fibers to end. */
    static void shutdownBounded(FiberScheduler scheduler) throws InterruptedException {
        scheduler.shutdown();
        if (!scheduler.awaitTermination(Duration.ofSeconds(5))) {
            System.err.println("echo server: scheduler " + scheduler.name() + " still has fibers after 5 s");
        }
    }
}
