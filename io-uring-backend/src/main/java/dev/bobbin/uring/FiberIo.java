package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import dev.bobbin.spi.CarrierDriverFactory;
import dev.bobbin.uring.driver.IoCarrierDriver;
import dev.bobbin.uring.driver.IoDrivers;
import dev.bobbin.uring.driver.IoErrors;
import dev.bobbin.uring.driver.IoTunables;
import dev.bobbin.uring.driver.NettyVersionCheck;
import io.netty.channel.Channel;
import io.netty.channel.IoEventLoop;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bobbin's blocking-style network I/O for fibers, on one {@link IoTransport}.
 *
 * <p>A scheduler built from {@link #schedulerConfig} gives each carrier its own event loop (an io_uring
 * ring with {@link IoTransport#IO_URING}). Sockets opened here perform their I/O on the loop of the
 * carrier where they were first used; a fiber blocked in {@code read} is resumed by that carrier, in the
 * same pass that reaped the completion. Sockets work from any thread: a caller that is not a fiber on
 * this runtime's carriers (a platform thread, a fiber of another scheduler) is served by a fallback
 * event loop, one thread shared by the runtime.
 *
 * <pre>{@code
 * FiberIo io = FiberIo.system();
 * try (FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("echo").build());
 *      FiberServerSocket server = io.openServer()) {
 *     server.bind(new InetSocketAddress(7000), 1024);
 *     scheduler.start(() -> { ... server.accept() ... });
 * }
 * }</pre>
 *
 * <p>Transport choice ({@link #system()}): the system property {@value #TRANSPORT_PROPERTY}
 * ({@code io_uring}, {@code epoll} or {@code nio}) forces one, failing if it is unavailable; otherwise the
 * first available of io_uring, epoll and NIO. The choice and its reason are logged once and are
 * available from {@link #transport()} and {@link #selectionReason()}.
 *
 * <p>Other system properties, read when a runtime is first used: {@code bobbin.io.rescue} ({@code true}
 * or {@code false}; unset: on, except on io_uring when its rings cannot be made in cooperative task-run
 * mode, where rescuable rings would cost CPU on every completion) lets a rescuer thread serve a carrier's event loop while one fiber keeps the carrier busy (see the overview of the driver package,
 * {@code dev.bobbin.uring.driver}); {@code bobbin.io.placementSlack} (sockets, default 128; 0 spreads new
 * sockets over the carriers from the first one).
 */
public final class FiberIo {
    /** System property that forces a transport: {@code io_uring}, {@code epoll} or {@code nio}. */
    public static final String TRANSPORT_PROPERTY = IoTunables.TRANSPORT_PROPERTY;

    private static final System.Logger LOG = System.getLogger("dev.bobbin.uring");
    // Not an EnumMap: creating one reflects on IoTransport's methods, whose signatures name Netty 4.2 types,
    // and with Netty 4.1 that would fail here, in this class's initializer, before NettyVersionCheck can say
    // why (IoDrivers.FallbackGroup has the same reason).
    private static final Map<IoTransport, FiberIo> BY_TRANSPORT = new HashMap<>();
    private static volatile FiberIo system;
    static {
        // loaded now, while descriptors are plentiful: openServer/openSocket need it when none is left, and
        // loading a class then fails (NoClassDefFoundError, and for good: a failed resolution sticks)
        IoErrors.class.getName();
    }

    private final IoTransport transport;
    private final String reason;
    final IoDrivers drivers;                          // the driver side: driver factory, placement, routing
    final LongAdder resumedHome = new LongAdder();    // parked fibers resumed on the completing carrier
    final LongAdder resumedElsewhere = new LongAdder();
    final LongAdder completedOnHome = new LongAdder(); // parked waits completed by the socket's own loop thread
    final Set<Endpoint> open = ConcurrentHashMap.newKeySet(); // sockets whose channel is not closed yet

    private FiberIo(IoTransport transport, String reason) {
        this.transport = transport;
        this.reason = reason;
        this.drivers = new IoDrivers(transport.id(), transport == IoTransport.IO_URING, transport.rescueCostsCpu(),
                transport.wakeupTakesMonitor(), transport::handlerFactory,
                this::closeLivingOn);
    }

    /**
     * The runtime on the best transport available here, or on the one the {@value #TRANSPORT_PROPERTY}
     * property names. Logs the choice once.
     *
     * @throws IllegalStateException if the property names an unavailable or unknown transport, if the Netty
     *                               on the class path is older than 4.2, or if {@code -Dbobbin.io.rescue} or
     *                               {@code -Dbobbin.io.placementSlack} has a value it cannot use
     */
    public static FiberIo system() {
        FiberIo s = system;
        if (s != null) return s;
        NettyVersionCheck.require();
        synchronized (BY_TRANSPORT) {
            if (system == null) {
                Selection sel = select(System.getProperty(TRANSPORT_PROPERTY));
                FiberIo io = of(sel.transport(), sel.reason());
                LOG.log(System.Logger.Level.INFO, "Bobbin I/O transport: {0} ({1})", sel.transport().id(), sel.reason());
                system = io;
            }
            return system;
        }
    }

    /** A transport choice and its reason. */
    record Selection(IoTransport transport, String reason) { }

    /** The transport {@link #system()} uses given the property's value (null or blank: not set). */
    static Selection select(String forced) {
        if (forced != null && !forced.isBlank()) {
            IoTransport t;
            try {
                t = IoTransport.fromId(forced);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("-D" + TRANSPORT_PROPERTY + ": " + e.getMessage(), e);
            }
            var cause = t.unavailabilityCause();
            if (cause.isPresent()) {
                throw new IllegalStateException("-D" + TRANSPORT_PROPERTY + "=" + forced + " forces an unavailable transport: "
                        + cause.get(), cause.get());
            }
            return new Selection(t, "forced by -D" + TRANSPORT_PROPERTY + "=" + forced);
        }
        StringBuilder skipped = new StringBuilder();
        for (IoTransport t : IoTransport.values()) {
            var cause = t.unavailabilityCause();
            if (cause.isEmpty()) {
                return new Selection(t, skipped.isEmpty() ? "best available" : skipped + "so " + t.id());
            }
            skipped.append(t.id()).append(" unavailable (").append(cause.get()).append("); ");
        }
        throw new AssertionError("NIO is always available");
    }

    /**
     * The runtime on a given transport (one instance per transport), for tests and benchmarks.
     *
     * @throws IllegalStateException if the transport is unavailable here, with the reason as cause; if the
     *                               Netty on the class path is older than 4.2; or if {@code -Dbobbin.io.rescue}
     *                               or {@code -Dbobbin.io.placementSlack} has a value it cannot use
     */
    public static FiberIo of(IoTransport transport) {
        Objects.requireNonNull(transport, "transport");
        NettyVersionCheck.require();
        return of(transport, "requested explicitly");
    }

    private static FiberIo of(IoTransport transport, String reason) {
        synchronized (BY_TRANSPORT) {
            FiberIo io = BY_TRANSPORT.get(transport);
            if (io != null) return io;
            var cause = transport.unavailabilityCause();
            if (cause.isPresent()) {
                throw new IllegalStateException("transport " + transport.id() + " is unavailable: " + cause.get(), cause.get());
            }
            io = new FiberIo(transport, reason);
            BY_TRANSPORT.put(transport, io);
            return io;
        }
    }

    /** The transport this runtime runs on. */
    public IoTransport transport() {
        return transport;
    }

    /** Why this transport was chosen (for {@link #system()}: what was unavailable, or the forcing property). */
    public String selectionReason() {
        return reason;
    }

    /** The driver factory that gives each carrier of a scheduler its own event loop on this transport. */
    public CarrierDriverFactory driverFactory() {
        return drivers;
    }

    /** A scheduler configuration builder whose carriers drive this runtime's event loops. */
    public SchedulerConfig.Builder schedulerConfig() {
        return SchedulerConfig.builder().driverFactory(drivers);
    }

    /** Creates and starts a scheduler named {@code name} with {@code parallelism} I/O carriers. */
    public FiberScheduler newScheduler(String name, int parallelism) {
        return FiberScheduler.create(schedulerConfig().name(name).parallelism(parallelism).build());
    }

    /**
     * A new unbound server socket.
     *
     * @throws java.net.SocketException if no socket could be made (no descriptor left), as
     *         {@code ServerSocketChannel.open()} throws
     */
    public FiberServerSocket openServer() throws java.io.IOException {
        try {
            return new FiberServerSocket(this);
        } catch (io.netty.channel.ChannelException e) {
            throw IoErrors.socketNotCreated(e);        // no descriptor for it: an IOException, as the JDK's
        }
    }

    /**
     * A new unconnected socket; set options, then {@link FiberSocket#connect}.
     *
     * @throws java.net.SocketException if no socket could be made (no descriptor left), as
     *         {@code SocketChannel.open()} throws
     */
    public FiberSocket openSocket() throws java.io.IOException {
        try {
            return new FiberSocket(this, transport.newSocketChannel(), false);
        } catch (io.netty.channel.ChannelException e) {
            throw IoErrors.socketNotCreated(e);        // no descriptor for it: an IOException, as the JDK's
        }
    }

    /**
     * Opens a socket and connects it, waiting at most {@code timeout}.
     *
     * @throws java.net.ConnectException           if the peer refused
     * @throws java.net.SocketTimeoutException     if the timeout elapsed
     * @throws java.nio.channels.ClosedByInterruptException if the caller was interrupted
     * @throws NullPointerException                if an argument is null
     * @throws IllegalArgumentException            if {@code timeout} is negative
     * @throws java.nio.channels.UnresolvedAddressException      if {@code remote} is unresolved
     * @throws java.nio.channels.UnsupportedAddressTypeException if {@code remote} is not an {@code InetSocketAddress}
     */
    public FiberSocket connect(SocketAddress remote, Duration timeout) throws java.io.IOException {
        Objects.requireNonNull(remote, "remote");
        Endpoint.timeoutNanos(timeout);                  // bad arguments fail before a descriptor is taken
        Endpoint.checkAddress(remote);
        FiberSocket s = openSocket();
        try {
            s.connect(remote, timeout);
            return s;
        } catch (Throwable t) {
            s.close();
            throw t;
        }
    }

    /**
     * {@link #connect(SocketAddress, Duration)} to {@code host:port} with a 30 second timeout.
     *
     * @throws java.net.UnknownHostException if {@code host} does not resolve, as {@code new Socket(host, port)}
     */
    public FiberSocket connect(String host, int port) throws java.io.IOException {
        Objects.requireNonNull(host, "host");
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) throw new java.net.UnknownHostException(host);
        return connect(a, Duration.ofSeconds(30));
    }

    /** Counters of this runtime's I/O paths; cheap. */
    public IoStats stats() {
        return new IoStats(transport, open.size(), drivers.localOperations(), drivers.routedOperations(),
                completedOnHome.sum(), resumedHome.sum(), resumedElsewhere.sum());
    }

    /**
     * A snapshot of a runtime's counters.
     *
     * @param transport                  the runtime's transport
     * @param openSockets                sockets and server sockets whose descriptor is still open
     * @param localOperations            socket operations a fiber queued on its own carrier's loop (no hop)
     * @param routedOperations           operations handed to another thread's loop (task queue plus wakeup)
     * @param completedOnOwnLoop         blocked operations completed (fiber unparked) by the socket's own
     *                                   loop thread, which queues the fiber on that carrier: all of them, by design
     * @param resumedOnCompletingCarrier blocked fibers that resumed on the carrier that completed their operation
     * @param resumedElsewhere           blocked fibers that resumed anywhere else (stolen, or not on a carrier)
     */
    public record IoStats(IoTransport transport, int openSockets, long localOperations, long routedOperations,
                          long completedOnOwnLoop, long resumedOnCompletingCarrier, long resumedElsewhere) {
        /** Validates. */
        public IoStats {
            Objects.requireNonNull(transport, "transport");
        }
    }

    // ---- package-private plumbing ------------------------------------------------------------------

    /**
     * Loop thread of {@code driver}, its carrier stopping or aborting ({@link IoDrivers.Sockets}): adopts
     * the unused sockets its carrier opened, closes every socket living on its loop now, failing their
     * waiters, and returns their channels.
     */
    private List<Channel> closeLivingOn(IoCarrierDriver driver) {
        IoEventLoop loop = driver.loop();
        List<Endpoint> here = new ArrayList<>();
        for (Endpoint e : open) {
            if (e.opener == driver) e.adoptIfUnused(loop);
            if (e.livesOn(loop)) here.add(e);
        }
        List<Channel> channels = new ArrayList<>(here.size());
        for (Endpoint e : here) {
            try {
                e.closeAtShutdown();
            } catch (Throwable t) {
                IoDrivers.reportError(t);
            }
            channels.add(e.ch);
        }
        return channels;
    }

    /** Descriptions of the sockets still open, for diagnostics. */
    List<String> describeOpen() {
        return open.stream().map(Endpoint::describe).toList();
    }

    @Override
    public String toString() {
        return "FiberIo[" + transport.id() + "]";
    }
}
