package dev.bobbin.uring;

import dev.bobbin.uring.driver.IoTunables;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.UnixChannelOption;

import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The network transports a {@link FiberIo} can run on, best first. Each is one of Netty's transports:
 * io_uring (Linux 5.x+ with io_uring enabled), epoll (Linux), and NIO (any JDK; the last resort).
 */
public enum IoTransport {
    /** Netty's io_uring transport: each carrier owns an io_uring ring. */
    IO_URING("io_uring"),
    /** Netty's native epoll transport: each carrier owns an epoll instance. */
    EPOLL("epoll"),
    /** Netty's NIO transport over the JDK's selectors: works everywhere. */
    NIO("nio");

    /** Netty's property for multishot read polls. */
    static final String MULTISHOT_POLLS_PROPERTY = "io.netty.iouring.pollAddMultishotEnabled";
    /** Whether this class turned Netty's multishot read polls off (neither the user nor rescue's setting said otherwise). */
    private static final boolean SINGLE_SHOT_POLLS_ASKED;
    private static final AtomicBoolean MULTISHOT_POLLS_WARNED = new AtomicBoolean();
    private static final System.Logger LOG = System.getLogger("dev.bobbin.uring");

    /**
     * Netty's io_uring server channels accept in multishot mode by default, and re-arm a multishot accept
     * that the kernel ended as soon as it ends, whatever the channel's read interest: when descriptors run
     * out (EMFILE) every re-armed accept fails at once and the loop spins on it, which a server's accept
     * back-off ({@code FiberServerSocket}) cannot stop. Single-shot accepts follow the read interest, so
     * Bobbin turns multishot accepts off unless the user set the property.
     *
     * <p>Multishot read polls are off too, unless the user set Netty's property or turned ring rescue off
     * ({@code -Dbobbin.io.rescue=false}). The kernel finishes every completion of an io_uring request (its
     * task work) on the thread that submitted it, and a rescuer thread submits for a stalled carrier's
     * ring (see {@code IoCarrierDriver}). A multishot poll stays armed for its socket's whole life, so a
     * socket whose first read a rescuer armed woke that rescuer for every event it ever had, long after
     * the stall: at 100 echo connections after one stall at start-up, 7-13 thousand rescuer wake-ups a
     * second, a quarter to a third of a core and 1.3-1.4x the CPU per round trip. A single-shot poll is
     * re-armed by whoever serves the socket next, the carrier once the stall is over. It costs one
     * submission per wait for data: about 3 % of the CPU per round trip at 100 echo connections, within
     * the noise (bench/README.md, "A rescue's polls outlived it").
     *
     * <p>Both are read when Netty's {@code IoUring} class initializes, so they are set before (an enum
     * constant of this class is needed to reach it). If the application initialized Netty's io_uring
     * transport before any Bobbin class, multishot polls stay on: the first rescuable ring says so in one
     * WARNING line ({@link #warnIfMultishotPolls}).
     */
    static {
        String p = "io.netty.iouring.acceptMultiShotEnabled";
        if (System.getProperty(p) == null) System.setProperty(p, "false");
        boolean asked = System.getProperty(MULTISHOT_POLLS_PROPERTY) == null
                && !"false".equals(System.getProperty(IoTunables.RESCUE_PROPERTY));
        if (asked) System.setProperty(MULTISHOT_POLLS_PROPERTY, "false");
        SINGLE_SHOT_POLLS_ASKED = asked;
    }

    private final String id;

    IoTransport(String id) {
        this.id = id;
    }

    /** The transport's short name, as accepted by the {@value FiberIo#TRANSPORT_PROPERTY} property. */
    public String id() {
        return id;
    }

    /** Whether this transport can run on this machine and JVM. */
    public boolean isAvailable() {
        return unavailabilityCause().isEmpty();
    }

    /** Why this transport cannot run here, or empty if it can. */
    public Optional<Throwable> unavailabilityCause() {
        try {
            return switch (this) {
                case IO_URING -> IoUring.isAvailable() ? Optional.empty() : Optional.of(namingTheFlag(IoUring.unavailabilityCause()));
                case EPOLL -> Epoll.isAvailable() ? Optional.empty() : Optional.of(namingTheFlag(Epoll.unavailabilityCause()));
                case NIO -> Optional.empty();
            };
        } catch (Throwable t) {                 // e.g. NoClassDefFoundError: the native jar is missing
            return Optional.of(t);
        }
    }

    /**
     * {@code cause}, or where the JVM refused Netty native access (--illegal-native-access=deny, the default
     * of JDK releases to come) a failure that names the flag the JVM lacks: Netty's own error says only that
     * it "could not load a native library", which sends the user looking for a missing .so file.
     */
    private static Throwable namingTheFlag(Throwable cause) {
        if (!refusedNativeAccess(cause, 0)) return cause;
        Module netty = io.netty.util.internal.NativeLibraryLoader.class.getModule();
        String flag = "--enable-native-access=" + (netty.isNamed() ? netty.getName() : "ALL-UNNAMED");
        return new IllegalStateException("the JVM refused Netty native access; run it with " + flag
                + " (README.md, \"JVM flags\")", cause);
    }

    private static boolean refusedNativeAccess(Throwable t, int depth) {
        if (t == null || depth > 8) return false;
        if (t instanceof IllegalCallerException) return true;
        for (Throwable s : t.getSuppressed()) if (refusedNativeAccess(s, depth + 1)) return true;
        return refusedNativeAccess(t.getCause(), depth + 1);
    }

    /** Parses a transport name ("io_uring", "iouring", "epoll", "nio"; case-insensitive). */
    public static IoTransport fromId(String id) {
        Objects.requireNonNull(id, "id");
        String s = id.trim().toLowerCase(Locale.ROOT).replace("-", "_");
        return switch (s) {
            case "io_uring", "iouring", "uring" -> IO_URING;
            case "epoll" -> EPOLL;
            case "nio" -> NIO;
            default -> throw new IllegalArgumentException("unknown transport '" + id + "'; expected io_uring, epoll or nio");
        };
    }

    // ---- Netty plumbing (package-private) -----------------------------------------------------------

    /**
     * A Netty handler factory for a new event loop on this transport (a carrier's or the fallback loop).
     * {@code rescuable}: an io_uring ring that a stalled carrier's rescuer thread may enter too, so made
     * without the kernel's single-issuer mode, in cooperative task-run mode where this Netty and kernel
     * allow it ({@link RescuableRingFactory}). Other transports ignore it.
     */
    IoHandlerFactory handlerFactory(boolean rescuable) {
        return switch (this) {
            case IO_URING -> {
                IoUringIoHandlerConfig config = new IoUringIoHandlerConfig().setCqSize(IoTunables.URING_CQ_ENTRIES);
                if (rescuable) warnIfMultishotPolls();
                yield rescuable ? RescuableRingFactory.of(config) : IoUringIoHandler.newFactory(config.setSingleIssuer(true));
            }
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
    }

    /**
     * A ring a rescuer may drive while Netty's multishot read polls are on although this class turned them
     * off: Netty's io_uring classes initialized first, with Netty's default. One WARNING per JVM, naming
     * the property that fixes it.
     */
    private static void warnIfMultishotPolls() {
        if (!SINGLE_SHOT_POLLS_ASKED || !NettyReadPolls.MULTISHOT || !MULTISHOT_POLLS_WARNED.compareAndSet(false, true)) return;
        LOG.log(System.Logger.Level.WARNING, "bobbin: Netty's io_uring transport was initialized before Bobbin's, with"
                + " multishot read polls: after a carrier stall, its rescuer thread is woken for every event of the"
                + " sockets whose reads it armed; start the JVM with -D" + MULTISHOT_POLLS_PROPERTY + "=false");
    }

    /** Netty's read-poll mode, read once: Netty fixes it when its {@code IoUring} class initializes, which
     *  precedes any io_uring ring. */
    private static final class NettyReadPolls {
        static final boolean MULTISHOT = nettyMultishotPolls();
    }

    /** Whether Netty's io_uring transport uses multishot read polls (Netty's own reading of its property; a
     *  package-private method of Netty's, false if it cannot be read). */
    static boolean nettyMultishotPolls() {
        try {
            java.lang.reflect.Method m = IoUring.class.getDeclaredMethod("isPollAddMultishotEnabled");
            m.setAccessible(true);
            return (boolean) m.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Whether a loop that a rescuer may drive costs more CPU per completion on this transport: on io_uring
     *  when its rescuable rings cannot be made cooperative ({@link RescuableRingFactory#SUPPORTED}). */
    boolean rescueCostsCpu() {
        return this == IO_URING && !RescuableRingFactory.SUPPORTED;
    }

    /**
     * Whether waking this transport's loop from another thread takes a JDK monitor that the loop's thread
     * takes too: NIO's {@code Selector.wakeup()} and the selecting thread share the selector's wakeup lock
     * (Netty's epoll and io_uring loops are woken through an eventfd and an atomic flag).
     */
    boolean wakeupTakesMonitor() {
        return this == NIO;
    }

    SocketChannel newSocketChannel() {
        return switch (this) {
            case IO_URING -> new IoUringSocketChannel();
            case EPOLL -> new EpollSocketChannel();
            case NIO -> new NioSocketChannel();
        };
    }

    ServerSocketChannel newServerSocketChannel() {
        return switch (this) {
            case IO_URING -> new IoUringServerSocketChannel();
            case EPOLL -> new EpollServerSocketChannel();
            case NIO -> new NioServerSocketChannel();
        };
    }

    /** The Netty channel option for a JDK socket option, or null when the transport has none. */
    @SuppressWarnings("unchecked")
    <T> ChannelOption<T> channelOption(SocketOption<T> option) {
        Object o;
        if (option == StandardSocketOptions.TCP_NODELAY) o = ChannelOption.TCP_NODELAY;
        else if (option == StandardSocketOptions.SO_REUSEADDR) o = ChannelOption.SO_REUSEADDR;
        else if (option == StandardSocketOptions.SO_KEEPALIVE) o = ChannelOption.SO_KEEPALIVE;
        // NIO: the JDK channel's own option, which takes 0 as the JDK's sockets do; Netty's SO_SNDBUF and
        // SO_RCVBUF go through Socket.setSendBufferSize/setReceiveBufferSize on NIO, which refuse it
        else if (option == StandardSocketOptions.SO_SNDBUF) o = this == NIO ? NioChannelOption.of(StandardSocketOptions.SO_SNDBUF) : ChannelOption.SO_SNDBUF;
        else if (option == StandardSocketOptions.SO_RCVBUF) o = this == NIO ? NioChannelOption.of(StandardSocketOptions.SO_RCVBUF) : ChannelOption.SO_RCVBUF;
        else if (option == StandardSocketOptions.SO_LINGER) o = ChannelOption.SO_LINGER;
        else if (option == StandardSocketOptions.IP_TOS) o = ChannelOption.IP_TOS;
        else if (option == StandardSocketOptions.SO_REUSEPORT) {
            o = this == NIO ? NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT) : UnixChannelOption.SO_REUSEPORT;
        } else o = null;
        return (ChannelOption<T>) o;
    }

    /**
     * Sets a JDK socket option on a channel of this transport.
     *
     * @throws UnsupportedOperationException if the transport lacks the option
     */
    <T> void setOption(io.netty.channel.ChannelConfig config, SocketOption<T> option, T value) {
        Objects.requireNonNull(option, "option");
        checkType(option, value);
        checkValue(option, value);
        if (option == StandardSocketOptions.SO_LINGER && (Integer) value > 65_535) {
            @SuppressWarnings("unchecked") T max = (T) Integer.valueOf(65_535);   // as the JDK's sockets clamp it
            value = max;
        }
        if (usesRawReusePort(config, option)) {
            if (!config.setOption(RAW_SO_REUSEPORT, (Boolean) value ? 1 : 0)) throw unsupported(option);
            return;
        }
        ChannelOption<T> o = channelOption(option);
        if (o == null || !config.setOption(o, value)) throw unsupported(option);
    }

    /**
     * Reads a JDK socket option from a channel of this transport.
     *
     * @throws UnsupportedOperationException if the transport lacks the option
     */
    <T> T getOption(io.netty.channel.ChannelConfig config, SocketOption<T> option) {
        Objects.requireNonNull(option, "option");
        if (usesRawReusePort(config, option)) {
            Integer raw = config.getOption(RAW_SO_REUSEPORT);
            if (raw == null) throw unsupported(option);
            @SuppressWarnings("unchecked") T v = (T) Boolean.valueOf(raw != 0);
            return v;
        }
        ChannelOption<T> o = channelOption(option);
        T v = o == null ? null : config.getOption(o);
        if (v == null) throw unsupported(option);
        if (this != NIO && (option == StandardSocketOptions.SO_RCVBUF || option == StandardSocketOptions.SO_SNDBUF)) {
            // Linux reports twice the size set (its bookkeeping overhead); the JDK's sockets, and so NIO,
            // halve it so that the value set is the value read: Netty's native transports do not
            @SuppressWarnings("unchecked") T half = (T) Integer.valueOf((Integer) v / 2);
            return half;
        }
        return v;
    }

    /** SO_REUSEPORT as a raw Linux option (SOL_SOCKET = 1, SO_REUSEPORT = 15): Netty's epoll and io_uring
     *  socket configs lack {@link UnixChannelOption#SO_REUSEPORT}, which only their server configs know. */
    private static final IntegerUnixChannelOption RAW_SO_REUSEPORT = new IntegerUnixChannelOption("SO_REUSEPORT", 1, 15);

    /** Whether {@code option} is SO_REUSEPORT on an epoll or io_uring connection, set through {@link #RAW_SO_REUSEPORT}. */
    private boolean usesRawReusePort(io.netty.channel.ChannelConfig config, SocketOption<?> option) {
        return option == StandardSocketOptions.SO_REUSEPORT && this != NIO
                && config instanceof io.netty.channel.socket.SocketChannelConfig;
    }

    /**
     * Rejects a null value or one not of the option's type as the JDK's sockets do: an
     * {@link IllegalArgumentException}, not a NullPointerException or a ClassCastException from the channel.
     */
    static void checkType(SocketOption<?> option, Object value) {
        if (!option.type().isInstance(value)) throw new IllegalArgumentException("Invalid value '" + value + "'");
    }

    /** Rejects the values the JDK's sockets reject, with the JDK's exception. */
    private static void checkValue(SocketOption<?> option, Object value) {
        if ((option == java.net.StandardSocketOptions.SO_RCVBUF || option == java.net.StandardSocketOptions.SO_SNDBUF)
                && value instanceof Integer i && i < 0) {
            throw new IllegalArgumentException("Invalid send/receive buffer size: " + i);
        }
        if (option == java.net.StandardSocketOptions.IP_TOS && value instanceof Integer i && (i < 0 || i > 255)) {
            throw new IllegalArgumentException("Invalid IP_TOS value: " + i);
        }
    }

    private UnsupportedOperationException unsupported(SocketOption<?> option) {
        return new UnsupportedOperationException("'" + option.name() + "' not supported on " + id());
    }
}
