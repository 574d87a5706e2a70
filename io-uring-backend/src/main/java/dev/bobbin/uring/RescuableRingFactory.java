package dev.bobbin.uring;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.util.concurrent.ThreadAwareExecutor;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Makes the io_uring handlers of rescuable loops: Netty's handler, with its ring remade in the kernel's
 * cooperative task-run mode.
 *
 * <p>Why. A loop that a rescuer thread may drive while its carrier is stalled (the driver package's
 * "Ring rescue") needs a ring without IORING_SETUP_SINGLE_ISSUER, which only its creating thread may
 * enter. Netty 4.2 makes such a ring with neither DEFER_TASKRUN (which needs single-issuer mode) nor
 * COOP_TASKRUN. The kernel then finishes every completion that needs task work (a socket read armed on
 * poll, say) by interrupting the thread that submitted the request (TWA_SIGNAL: an inter-processor
 * interrupt when that thread is running), which measured 1.4-2.6x the server CPU per echo round trip of a
 * single-issuer ring. With IORING_SETUP_COOP_TASKRUN (Linux 5.19) the kernel only flags the work: the
 * submitting thread runs it at its next kernel entry or exit, and a thread asleep in an interruptible
 * wait is still woken for it. IORING_SETUP_TASKRUN_FLAG makes the kernel say so in the ring's flags
 * (IORING_SQ_TASKRUN), which Netty's loop reads on each pass: with nothing to submit it enters the ring
 * only when that flag (or an overflow) is up, so without it finished reads could wait for the carrier's
 * next system call. With more than one issuer the flag is a hint for the ring, not for one thread (another
 * thread's entry may clear it); work it misses still runs at the submitter's next kernel exit. A carrier
 * hogged by a fiber runs its requests' work at its next timer interrupt, one scheduler tick later (on a
 * {@code nohz_full} CPU, whose lone task gets about one tick a second, up to a second later), after which
 * the rescuer reaps the completions. A cooperative multi-issuer ring measured the CPU per round trip of a
 * single-issuer one (bench/README.md, "Rescuable io_uring rings"), so ring rescue is on by default on
 * io_uring as on epoll and NIO.
 *
 * <p>How. Netty has no option for these flags, so this factory lets Netty build its handler (with a
 * multi-issuer ring), makes a second ring with Netty's own setup flags for a multi-issuer ring plus
 * COOP_TASKRUN and TASKRUN_FLAG, stores it in the handler's ring field and closes the first. That is safe because it
 * happens before the handler is initialized (Netty creates rings disabled and enables them, and registers
 * the ring's descriptor for the loop thread, in {@code initialize}), and the handler's config registers
 * nothing on the first ring (no buffer rings, no io-wq worker limits: {@link #of} refuses a config that
 * does). The ring field is final, set reflectively, which JDK 25 permits silently; later JDKs warn about
 * such writes and are to refuse them (JEP 500), so the remake is made on JDK 25 only.
 *
 * <p>Fallback. {@link #SUPPORTED} is false on another JDK, when this Netty lacks the members used here,
 * io_uring is not available, or the kernel refuses the flag; then ring rescue is off by default on io_uring (a rescuable
 * ring would cost the CPU above) and a user who asks for it gets Netty's plain multi-issuer rings. If a
 * remake fails at run time the handler keeps Netty's ring: rescue still works, at that CPU cost, and one
 * WARNING per process says so.
 */
final class RescuableRingFactory implements IoHandlerFactory {
    private static final System.Logger LOG = System.getLogger("dev.bobbin.uring");

    /** Kernel ABI (include/uapi/linux/io_uring.h): setup flags this factory adds or checks. */
    static final int IORING_SETUP_CQSIZE = 1 << 3, IORING_SETUP_COOP_TASKRUN = 1 << 8, IORING_SETUP_TASKRUN_FLAG = 1 << 9,
            IORING_SETUP_SINGLE_ISSUER = 1 << 12, IORING_SETUP_DEFER_TASKRUN = 1 << 13;

    /** The last JDK feature release that lets reflection write a final field without a warning (JEP 500). */
    private static final int FINAL_FIELD_WRITES_SILENT_UP_TO = 25;
    private static final Field RING_BUFFER;            // IoUringIoHandler.ringBuffer (final)
    private static final Method CREATE_RING, CLOSE_RING; // Native.createRingBuffer, RingBuffer.close
    /** The setup flags of a remade ring: Netty's for a multi-issuer ring, CQSIZE, COOP_TASKRUN and
     *  TASKRUN_FLAG; 0 if unsupported. */
    static final int FLAGS;
    /** Whether rescuable io_uring rings can be made cooperative here: this Netty's internals and the kernel allow it. */
    static final boolean SUPPORTED;
    private static final AtomicBoolean remakeFailureLogged = new AtomicBoolean();
    private static final AtomicBoolean closeFailureLogged = new AtomicBoolean();
    /** Rings remade so far (tests). */
    static final LongAdder remade = new LongAdder();

    static {
        Field ringBuffer = null;
        Method setupFlags = null, create = null, close = null;
        int flags = 0;
        try {
            if (Runtime.version().feature() == FINAL_FIELD_WRITES_SILENT_UP_TO
                    && IoUring.isAvailable()) {        // loads Netty's native library before Native is touched
                Class<?> handler = IoUringIoHandler.class;
                Class<?> nativeClass = Class.forName("io.netty.channel.uring.Native");
                Class<?> ring = Class.forName("io.netty.channel.uring.RingBuffer");
                ringBuffer = handler.getDeclaredField("ringBuffer");
                setupFlags = nativeClass.getDeclaredMethod("setupFlags", boolean.class);
                create = nativeClass.getDeclaredMethod("createRingBuffer", int.class, int.class, int.class);
                close = ring.getDeclaredMethod("close");
                Method supports = nativeClass.getDeclaredMethod("ioUringSetupSupportsFlags", int.class);
                for (java.lang.reflect.AccessibleObject o : new java.lang.reflect.AccessibleObject[] {
                        ringBuffer, setupFlags, create, close, supports}) o.setAccessible(true);
                if (ringBuffer.getType() != ring || create.getReturnType() != ring) throw new NoSuchFieldException("ringBuffer");
                int f = (int) setupFlags.invoke(null, false) | IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN
                        | IORING_SETUP_TASKRUN_FLAG;
                if ((f & (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN)) == 0
                        && (boolean) supports.invoke(null, f)) flags = f;
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "bobbin: no cooperative io_uring rings with this Netty", e);
            flags = 0;
        }
        RING_BUFFER = ringBuffer; CREATE_RING = create; CLOSE_RING = close;
        FLAGS = flags;
        SUPPORTED = flags != 0;
    }

    private final IoHandlerFactory netty;
    private final int ringSize, cqSize;

    private RescuableRingFactory(IoHandlerFactory netty, int ringSize, int cqSize) {
        this.netty = netty;
        this.ringSize = ringSize;
        this.cqSize = cqSize;
    }

    /**
     * A factory of io_uring handlers for rescuable loops with {@code config}, which must be multi-issuer and
     * register nothing on a ring; Netty's own factory when {@link #SUPPORTED} is false.
     *
     * @throws IllegalArgumentException if {@code config} registers buffer rings or io-wq worker limits
     */
    static IoHandlerFactory of(IoUringIoHandlerConfig config) {
        Objects.requireNonNull(config, "config");
        java.util.List<?> bufferRings;
        try {
            bufferRings = config.getBufferRingConfigs();
        } catch (NullPointerException none) {          // Netty 4.2.18 throws this when there are none
            bufferRings = null;
        }
        if ((bufferRings != null && !bufferRings.isEmpty()) || config.getMaxBoundedWorker() > 0
                || config.getMaxUnboundedWorker() > 0)
            throw new IllegalArgumentException("a remade ring would lose what the config registers on Netty's ring");
        IoHandlerFactory netty = IoUringIoHandler.newFactory(config.setSingleIssuer(false));
        return SUPPORTED ? new RescuableRingFactory(netty, config.getRingSize(), config.getCqSize()) : netty;
    }

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        IoHandler handler = netty.newHandler(executor);
        Object first, ring;
        try {
            first = RING_BUFFER.get(handler);
            ring = CREATE_RING.invoke(null, ringSize, cqSize, FLAGS);
        } catch (ReflectiveOperationException | RuntimeException e) {
            remakeFailed(e);
            return handler;                            // Netty's multi-issuer ring: rescuable, dearer
        }
        try {
            RING_BUFFER.set(handler, ring);
        } catch (IllegalAccessException | RuntimeException e) {
            closeRing(ring);
            remakeFailed(e);
            return handler;
        }
        closeRing(first);                              // disabled, unregistered, never entered
        remade.increment();
        return handler;
    }

    @Override
    public boolean isChangingThreadSupported() {
        return netty.isChangingThreadSupported();
    }

    private static void closeRing(Object ring) {
        try {
            CLOSE_RING.invoke(ring);
        } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
            Throwable cause = cause(e);
            if (closeFailureLogged.compareAndSet(false, true)) {   // its descriptor and mappings stay behind
                LOG.log(System.Logger.Level.WARNING, "bobbin: an unused io_uring ring could not be closed and leaks ("
                        + cause + ")");
            }
            LOG.log(System.Logger.Level.DEBUG, "bobbin: closing an io_uring ring failed", cause);
        }
    }

    /** What a reflective call failed with: the invoked method's own exception, unwrapped. */
    private static Throwable cause(Exception e) {
        return e instanceof InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : e;
    }

    private static void remakeFailed(Exception e) {
        Throwable cause = cause(e);
        if (remakeFailureLogged.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "bobbin: io_uring ring rescue uses Netty's multi-issuer rings, which cost"
                    + " more CPU per completion, since a cooperative ring could not be made (" + cause
                    + "); -D" + dev.bobbin.uring.driver.IoTunables.RESCUE_PROPERTY + "=false turns rescue off");
        }
        LOG.log(System.Logger.Level.DEBUG, "bobbin: cooperative io_uring ring not made", cause);
    }
}
