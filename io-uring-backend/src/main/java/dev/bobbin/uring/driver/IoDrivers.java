package dev.bobbin.uring.driver;

import dev.bobbin.base.VarHandles;
import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.CarrierDriverFactory;
import dev.bobbin.spi.PinnedSection;
import io.netty.channel.Channel;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The driver side of one I/O runtime ({@code FiberIo}): the factory of its carriers' drivers, where a socket's
 * first operation places it (placement), how an operation reaches the loop its socket lives on (routing),
 * the fallback loop for threads that are not its fibers, and the settings its drivers read (rescue,
 * placement slack). Not API.
 *
 * <p>One instance per runtime, made by {@code FiberIo} and returned by its {@code driverFactory()}.
 * Settings and counters are read by any thread; the routing methods are called by the socket side from
 * any thread; {@link #open} runs on the carrier thread it opens a driver for.
 */
public final class IoDrivers implements CarrierDriverFactory {
    private final String transport;                   // the transport's id: io_uring, epoll or nio
    private final boolean ioUring;
    private final HandlerFactories handlerFactories;
    private final Sockets sockets;
    private final Map<Object, LoopGroup> groups = new ConcurrentHashMap<>(); // per running scheduler (CarrierContext.scheduler)
    private volatile IoEventLoopGroup fallback;       // created on first use by a non-carrier thread
    private final LongAdder localOps = new LongAdder();  // operations queued by a fiber on the socket's carrier
    private final LongAdder routedOps = new LongAdder(); // operations handed to another thread's loop
    private final AtomicBoolean rescueUnavailableLogged = new AtomicBoolean(); // its WARNING is logged once
    private final AtomicBoolean spareWithoutLoopLogged = new AtomicBoolean(); // likewise
    /** The placement slack of this runtime's schedulers (LoopGroup): {@value IoTunables#PLACEMENT_SLACK_PROPERTY}
     *  or {@link IoTunables#PLACEMENT_SLACK}. Volatile and settable so that tests can compare placements. */
    public volatile int placementSlack = placementSlackProperty();
    /** Whether the carriers of schedulers created from now on have their loops rescued while stalled
     *  (IoCarrierDriver), if this Netty allows it: {@value IoTunables#RESCUE_PROPERTY}, by default on
     *  unless rescuable loops cost CPU on this transport ({@link #rescueSetting}). Read once per carrier
     *  driver, when its loop is made (an io_uring ring's mode is fixed then). Volatile and settable for tests. */
    public volatile boolean rescue;
    /** Whether fibers queue tasks on this runtime's loops pinned ({@link #execute}): where waking a loop takes
     *  a JDK monitor that the loop's own carrier takes too (NIO). Volatile and settable so that a test can
     *  show the deadlock it prevents. */
    public volatile boolean pinLoopWakeups;

    /** Makes the Netty handler factory of each new event loop of a runtime. */
    @FunctionalInterface
    public interface HandlerFactories {
        /**
         * A handler factory for one new loop; {@code rescuable}: a rescuer thread may drive the loop while
         * its carrier is stalled (on io_uring that takes a ring without the kernel's single-issuer mode).
         */
        IoHandlerFactory newFactory(boolean rescuable);
    }

    /**
     * What the drivers need of the runtime's sockets: a stopping or aborting carrier closes the ones that
     * live on its loop.
     */
    @FunctionalInterface
    public interface Sockets {
        /**
         * Loop thread of {@code driver}: adopts the sockets the driver's carrier opened that no operation
         * has used yet (so they live on its loop), closes every socket living on its loop at once (failing
         * its waiters) and returns their channels, so that the caller can wait for their descriptors'
         * closes. A failure to close one is reported ({@link IoDrivers#reportError}) and its channel
         * still returned.
         */
        List<Channel> closeLivingOn(IoCarrierDriver driver);
    }

    /**
     * The driver side of a runtime on the transport whose id is {@code transport} (io_uring, epoll or
     * nio); {@code ioUring} says whether that is io_uring; {@code rescueCostsCpu}, whether a loop that a
     * rescuer may drive costs more CPU per completion there (io_uring rings that cannot be made in
     * cooperative task-run mode), which turns rescue off unless asked for. {@code wakeupTakesMonitor}: whether
     * waking a loop of this transport takes a JDK monitor that the loop's own thread takes too (NIO's selector
     * wakeup lock), so fibers queue tasks on loops pinned ({@link #execute}). {@code handlerFactories} makes the Netty handler
     * factory of each event loop (a carrier's or the fallback loop), called only when a loop is created.
     * {@code sockets} closes the runtime's sockets living on a stopping carrier's loop. Reads the rescue
     * property ({@value IoTunables#RESCUE_PROPERTY}) and the placement slack property now.
     *
     * @throws IllegalStateException if one of the properties has an invalid value
     */
    public IoDrivers(String transport, boolean ioUring, boolean rescueCostsCpu, boolean wakeupTakesMonitor,
                     HandlerFactories handlerFactories, Sockets sockets) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.ioUring = ioUring;
        this.pinLoopWakeups = wakeupTakesMonitor;
        this.handlerFactories = Objects.requireNonNull(handlerFactories, "handlerFactories");
        this.sockets = Objects.requireNonNull(sockets, "sockets");
        this.rescue = rescueSetting(rescueCostsCpu, System.getProperty(IoTunables.RESCUE_PROPERTY));
    }

    /**
     * Carrier thread: this carrier's own event loop on the runtime's transport. A spare whose loop cannot be
     * made (its ring, epoll instance or selector needs descriptors, and a spare starts while regular carriers
     * are stalled, when the process may have none left) runs without one, with a parking driver: it is there
     * to run the fibers waiting behind the stall, which need no loop of its own; a socket first used on it
     * lives on the fallback loop, as for any thread that is not a carrier of this runtime (placement and
     * routing find no {@link IoCarrierDriver} there). One WARNING per runtime says so, the rest go to DEBUG.
     * A regular carrier's failure is thrown: the scheduler fails to start.
     */
    @Override
    public CarrierDriver open(CarrierContext carrier) {
        try {
            return new IoCarrierDriver(this, carrier);
        } catch (Throwable t) {
            if (!carrier.isSpare() || t instanceof VirtualMachineError) throw t;
            String what = "bobbin: spare carrier " + carrier.carrierThread().getName() + " runs without an event loop of its"
                    + " own (" + transport + ": " + t + "); sockets first used there live on the fallback loop";
            if (spareWithoutLoopLogged.compareAndSet(false, true)) LOG.log(System.Logger.Level.WARNING, what);
            else LOG.log(System.Logger.Level.DEBUG, what, t);
            return CarrierDriverFactory.parking().open(carrier);
        }
    }

    /** The id of the runtime's transport: io_uring, epoll or nio. */
    public String transport() {
        return transport;
    }

    /** Whether the runtime's transport is io_uring (single-issuer rings unless rescue is on). */
    boolean ioUring() {
        return ioUring;
    }

    /** Operations fibers queued on their own carrier's loop so far. */
    public long localOperations() {
        return localOps.sum();
    }

    /** Operations handed to another thread's loop so far. */
    public long routedOperations() {
        return routedOps.sum();
    }

    Sockets sockets() {
        return sockets;
    }

    private static int placementSlackProperty() {
        String v = System.getProperty(IoTunables.PLACEMENT_SLACK_PROPERTY);
        if (v == null || v.isBlank()) return IoTunables.PLACEMENT_SLACK;
        try {
            int slack = Integer.parseInt(v.strip());
            if (slack >= 0) return slack;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalStateException("-D" + IoTunables.PLACEMENT_SLACK_PROPERTY + " must be a number of sockets >= 0: " + v);
    }

    /**
     * The rescue setting, given the property's value {@code v} (null: unset) and whether rescuable loops
     * cost more CPU per completion on the transport ({@code rescueCostsCpu}). Unset, it is on unless they
     * do: epoll and NIO lose nothing by it, nor do io_uring's rescuable rings in cooperative task-run mode;
     * io_uring's plain multi-issuer rings cost CPU on every completion (IoCarrierDriver, "Kernel side").
     *
     * @throws IllegalStateException if {@code v} is neither true nor false
     */
    public static boolean rescueSetting(boolean rescueCostsCpu, String v) {
        if (v == null || v.isBlank()) return !rescueCostsCpu;
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalStateException("-D" + IoTunables.RESCUE_PROPERTY + " must be true or false: " + v);
        };
    }

    /** A Netty handler factory for a new event loop on the runtime's transport (a carrier's or the fallback
     *  loop); {@code rescuable}: see {@link HandlerFactories}. */
    IoHandlerFactory handlerFactory(boolean rescuable) {
        return handlerFactories.newFactory(rescuable);
    }

    // ---- placement ----------------------------------------------------------------------------------

    /**
     * The carrier driver whose loop a socket first used by the caller will live on: its own carrier's (for
     * a socket accepted on a loop of the same scheduler, {@code acceptedOn}'s), or a less loaded one of
     * that scheduler (LoopGroup); null off the carriers (the fallback loop).
     */
    public IoCarrierDriver placeNewSocket(IoCarrierDriver acceptedOn) {
        IoCarrierDriver d = IoCarrierDriver.current(this);
        return d != null ? d.placeNewSocket(acceptedOn) : null;
    }

    LoopGroup joinGroup(Object scheduler, IoCarrierDriver d) {
        LoopGroup g = groups.computeIfAbsent(scheduler, s -> new LoopGroup(this));
        g.join(d);
        return g;
    }

    void leaveGroup(Object scheduler, LoopGroup g, IoCarrierDriver d) {
        if (g.leave(d)) groups.remove(scheduler, g);
    }

    // ---- routing ------------------------------------------------------------------------------------

    /**
     * {@code loop.execute(task)} from any thread. Where waking the loop takes a JDK monitor that the loop's
     * own carrier takes too (NIO: {@code Selector.wakeup()} and the selecting thread's event processing
     * share the selector's wakeup lock), a fiber does it pinned ({@link PinnedSection}): unmounted while
     * contending that monitor, a fiber bound to, or queued on, the carrier that waits for the same monitor
     * would never run again, and neither would the carrier.
     *
     * @throws RejectedExecutionException as {@code loop.execute} does
     */
    void execute(IoEventLoop loop, Runnable task) {
        if (pinLoopWakeups) PinnedSection.run(() -> loop.execute(task));
        else loop.execute(task);
    }

    /**
     * Queues {@code op} for {@code loop} on the caller's carrier if the caller is mounted on the carrier
     * that drives {@code loop} (no lock, no task queue, no wakeup); false, and nothing queued, otherwise,
     * and while a rescuer drives that loop (the caller then routes {@code op}).
     */
    public boolean submitLocal(IoEventLoop loop, Runnable op) {
        IoCarrierDriver here = IoCarrierDriver.current(this);
        if (here == null || here.loop != loop || !here.submitLocal(op)) return false;
        localOps.increment();
        return true;
    }

    /**
     * Runs {@code op} on {@code loop} through the loop's task queue, from any thread.
     *
     * @throws RejectedExecutionException if the loop terminated before running {@code op}
     */
    public void submitRouted(IoEventLoop loop, Runnable op) {
        routedOps.increment();
        route(loop, op);
    }

    /**
     * Hands {@code op} to another thread's loop. What a Netty loop that is shutting down does with a task
     * depends on when it lands: it runs it, or rejects it ({@code RejectedExecutionException} from
     * {@code execute}, which reaches the caller), and a task queued after the loop's last drain would never
     * run. A caller must never be left waiting forever for an operation that never ran, so the task is
     * claimable ({@link Routed}): if the loop is shutting
     * down once the task is queued, the caller waits until the loop took the task or says it terminated;
     * a terminated loop runs nothing more, so the caller then takes the task back and rejects it. A task
     * can only be lost if it was queued after the loop's last drain, which comes after the loop started
     * shutting down: such a caller always sees the shutdown and waits.
     */
    private void route(IoEventLoop loop, Runnable op) {
        Routed task = new Routed(op);
        execute(loop, task);
        if (!loop.isShuttingDown()) return;
        while (!task.isTaken()) {
            if (loop.isTerminated()) {
                if (task.take()) throw new RejectedExecutionException("the event loop terminated: " + loop);
                return;
            }
            LockSupport.parkNanos(IoTunables.SHUTDOWN_TASK_POLL_NANOS);
        }
    }

    /** A task routed to a loop that runs at most once: the loop runs it unless its submitter took it back. */
    private static final class Routed implements Runnable {
        private static final VarHandle TAKEN = VarHandles.field(MethodHandles.lookup(), Routed.class, "taken", boolean.class);
        private final Runnable op;
        @SuppressWarnings("unused") private volatile boolean taken;

        Routed(Runnable op) {
            this.op = op;
        }

        /** Takes the task: true for the one caller (the loop, or the submitter giving up) that did. */
        boolean take() {
            return TAKEN.compareAndSet(this, false, true);         // CAS: free -> taken
        }

        boolean isTaken() {
            return (boolean) TAKEN.getVolatile(this);               // pairs with the CAS in take()
        }

        @Override
        public void run() {
            if (take()) op.run();
        }
    }

    /** Whether the caller is mounted on the carrier that drives {@code loop}. */
    public boolean onCarrierOf(IoEventLoop loop) {
        IoCarrierDriver here = IoCarrierDriver.current(this);
        return here != null && here.loop == loop;
    }

    /** The loop of the threads that are not fibers of this runtime's schedulers: one thread, made on first use. */
    public IoEventLoop fallbackLoop() {
        IoEventLoopGroup g = fallback;
        if (g == null) {
            synchronized (this) {
                g = fallback;
                if (g == null) {
                    g = FallbackGroup.create(this);
                    fallback = g;
                }
            }
        }
        return g.next();
    }

    /**
     * Creates the fallback loop group. A class of its own so that verifying this class loads no Netty 4.2
     * type (the assignment of the new group would), which with Netty 4.1 would fail before
     * {@link NettyVersionCheck} runs.
     */
    private static final class FallbackGroup {
        static IoEventLoopGroup create(IoDrivers drivers) {
            return new MultiThreadIoEventLoopGroup(1,
                    new DefaultThreadFactory("bobbin-io-" + drivers.transport, true), drivers.handlerFactory(false));
        }
    }

    /** A driver could not be made rescuable although rescue is on (this Netty's internals differ): one WARNING per runtime. */
    void rescueUnavailable() {
        if (rescueUnavailableLogged.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "bobbin: ring rescue (-D" + IoTunables.RESCUE_PROPERTY
                    + ") is not available with this Netty on " + transport + "; stalled carriers' sockets wait for them");
        }
    }

    /** Logs an unexpected failure of an I/O operation or a loop task (logger {@code dev.bobbin.uring}). Any thread. */
    public static void reportError(Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "unexpected error in a Bobbin I/O operation", t);
    }

    private static final System.Logger LOG = System.getLogger("dev.bobbin.uring");

    @Override
    public String toString() {
        return "IoDrivers[" + transport + "]";
    }
}
