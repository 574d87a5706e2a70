package dev.bobbin.scheduler;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.util.concurrent.Executor;

/**
 * The one place where Bobbin reaches into {@code java.lang} internals of JDK 25.
 *
 * <p>Implementation overview. A virtual thread hands its scheduler a {@code Runnable} (its
 * {@code runContinuation} method reference) each time it becomes runnable; the scheduler runs it on a
 * platform thread, which mounts the virtual thread there. Bobbin needs four things the JDK does not
 * make public:
 * <ol>
 *   <li>the virtual-thread builder constructor that takes an {@link Executor} as scheduler;</li>
 *   <li>{@code Thread.currentCarrierThread()}, to tell which carrier a running fiber is mounted on
 *       (an intrinsic: as cheap as {@code Thread.currentThread()});</li>
 *   <li>the fiber behind a submitted {@code Runnable}: the method reference is a hidden class with one
 *       field holding the {@code VirtualThread};</li>
 *   <li>the fiber's {@code state}, to tell a first start from a resumption and to see termination.</li>
 * </ol>
 * All four need {@code --add-opens java.base/java.lang=ALL-UNNAMED}. Without it {@link #check()}
 * throws an {@link IllegalStateException} naming the flag; nothing else in Bobbin touches these
 * handles before {@code check()} has passed.
 *
 * <p>Thread containers. The JDK groups threads in containers for its thread dumps ({@code jcmd
 * Thread.dump_to_file}, {@code HotSpotDiagnosticMXBean.dumpThreads}): a virtual thread started with
 * {@link Thread#start()} lands in the JDK's root container, which (by default) keeps a set of every such
 * thread; a JDK executor starts its threads in a container of its own. Bobbin starts its fibers in a
 * {@link FiberContainer} of their scheduler or executor through the package-private
 * {@code Thread.start(ThreadContainer)}, which needs {@code jdk.internal.vm} exported to Bobbin: the
 * java.lang add-opens lets Bobbin export it to its own module ({@code Module.implAddExports}) when this
 * class initializes; on the class path that module is the class loader's unnamed one, so all class-path
 * code can then see the package, which the add-opens of java.lang already gives it in effect. Where
 * the export or the container class fails to link (a JDK without these members), fibers start in the
 * root container as {@code Thread.start()} puts them, and the reason is logged once at DEBUG.
 *
 * <p>Pinning. The same export gives {@code Continuation.pin()}/{@code unpin()}, the JDK's own critical
 * section that keeps a virtual thread on its carrier; {@link #runPinned} uses them for
 * {@link dev.bobbin.spi.PinnedSection}. Without them (the export failed) the action runs unpinned, and the
 * reason is logged once at DEBUG.
 */
public final class JdkVirtualThreads {
    /**
     * The JVM flag Bobbin needs; named in every error about it. On the class path java.lang is opened to
     * ALL-UNNAMED; on the module path Bobbin is a named (automatic) module, which ALL-UNNAMED does not cover,
     * so the flag names that module.
     */
    static final String ADD_OPENS_FLAG = "--add-opens java.base/java.lang="
            + (JdkVirtualThreads.class.getModule().isNamed() ? JdkVirtualThreads.class.getModule().getName() : "ALL-UNNAMED");

    // VirtualThread state constants (java.lang.VirtualThread, JDK 25)
    static final int STARTED = 1;
    static final int TERMINATED = 99;
    private static final int RUNNING = 2;              // mounted; Thread.getState() is then the carrier's state
    private static final int PINNED = 5;               // parked on its carrier (mounted)
    private static final int TIMED_PINNED = 8;         // parked with a timeout on its carrier (mounted)
    private static final int SUSPENDED_BIT = 1 << 8;

    private static final MethodHandle BUILDER;          // (Executor) -> Thread.Builder.OfVirtual
    private static final MethodHandle CURRENT_CARRIER;  // () -> Thread
    private static final MethodHandle STATE;            // (Thread) -> int: volatile read of VirtualThread.state
    private static final Class<?> RUN_CONTINUATION_CLASS; // hidden class of VirtualThread::runContinuation
    private static final MethodHandle FIBER_OF_RUNNABLE; // (Runnable) -> Thread, for that class only
    private static final Class<?> VIRTUAL_THREAD_CLASS;
    private static final RuntimeException FAILURE;      // why the handles are missing, or null
    private static final MethodHandle START_IN;         // (Thread, Object) -> void: Thread.start(ThreadContainer), or null
    private static final MethodHandle CONTAINER_OF;     // (Thread) -> Object: Thread.threadContainer(), or null
    private static final MethodHandle PIN;              // () -> void: Continuation.pin(), or null
    private static final MethodHandle UNPIN;            // () -> void: Continuation.unpin(), or null
    private static final System.Logger LOG = System.getLogger("dev.bobbin");

    static {
        MethodHandle builder = null, carrier = null, fiberOf = null;
        MethodHandle state = null;
        Class<?> rcClass = null, vtClass = null;
        RuntimeException failure = null;
        try {
            MethodHandles.Lookup self = MethodHandles.lookup();
            Class<?> builderClass = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder");
            builder = MethodHandles.privateLookupIn(builderClass, self)
                    .findConstructor(builderClass, MethodType.methodType(void.class, Executor.class))
                    .asType(MethodType.methodType(Thread.Builder.OfVirtual.class, Executor.class));
            carrier = MethodHandles.privateLookupIn(Thread.class, self)
                    .findStatic(Thread.class, "currentCarrierThread", MethodType.methodType(Thread.class));
            vtClass = Class.forName("java.lang.VirtualThread");
            MethodHandles.Lookup vt = MethodHandles.privateLookupIn(vtClass, self);
            // exact (Thread)int type so the hot call sites link without a per-call type adaptation
            state = vt.findVarHandle(vtClass, "state", int.class)
                    .toMethodHandle(VarHandle.AccessMode.GET_VOLATILE)
                    .asType(MethodType.methodType(int.class, Thread.class));
            VarHandle runContinuation = vt.findVarHandle(vtClass, "runContinuation", Runnable.class);
            // Learn the hidden class of the runContinuation method reference from a throwaway fiber.
            Thread.Builder.OfVirtual b = (Thread.Builder.OfVirtual) builder.invokeExact((Executor) Runnable::run);
            Thread probe = b.inheritInheritableThreadLocals(false).unstarted(() -> { });
            Runnable rc = (Runnable) runContinuation.get(probe);
            rcClass = rc.getClass();
            Field captured = null;
            for (Field f : rcClass.getDeclaredFields()) {
                if (f.getType() == vtClass) captured = f;
            }
            if (captured == null) {
                throw new IllegalStateException("unsupported JDK: the virtual thread continuation task "
                        + rcClass + " holds no VirtualThread field");
            }
            fiberOf = MethodHandles.privateLookupIn(rcClass, self).unreflectGetter(captured)
                    .asType(MethodType.methodType(Thread.class, Runnable.class));
            if ((Thread) fiberOf.invokeExact(rc) != probe) {
                throw new IllegalStateException("unsupported JDK: cannot map a continuation task to its fiber");
            }
        } catch (IllegalAccessException | java.lang.reflect.InaccessibleObjectException e) {
            failure = new IllegalStateException("Bobbin needs the JVM flag " + ADD_OPENS_FLAG
                    + " to schedule virtual threads on its own carriers; add it to the java command line"
                    + " (and to surefire's argLine for tests)", e);
        } catch (RuntimeException e) {
            failure = e;
        } catch (Throwable t) {
            failure = new IllegalStateException("Bobbin cannot run on this JDK ("
                    + Runtime.version() + "); JDK 25 or newer is required", t);
        }
        MethodHandle startIn = null, containerOf = null, pin = null, unpin = null;
        if (failure == null) {
            try {
                MethodHandles.Lookup self = MethodHandles.lookup();
                MethodHandle export = MethodHandles.privateLookupIn(Module.class, self).findVirtual(Module.class,
                        "implAddExports", MethodType.methodType(void.class, String.class, Module.class));
                export.invokeExact(Object.class.getModule(), "jdk.internal.vm", JdkVirtualThreads.class.getModule());
                Class<?> continuation = Class.forName("jdk.internal.vm.Continuation");
                pin = self.findStatic(continuation, "pin", MethodType.methodType(void.class));
                unpin = self.findStatic(continuation, "unpin", MethodType.methodType(void.class));
                Class<?> containerClass = Class.forName("jdk.internal.vm.ThreadContainer");
                MethodHandles.Lookup thread = MethodHandles.privateLookupIn(Thread.class, self);
                startIn = thread.findVirtual(Thread.class, "start", MethodType.methodType(void.class, containerClass))
                        .asType(MethodType.methodType(void.class, Thread.class, Object.class));
                containerOf = thread.findVirtual(Thread.class, "threadContainer", MethodType.methodType(containerClass))
                        .asType(MethodType.methodType(Object.class, Thread.class));
                FiberContainer.linkCheck();
            } catch (Throwable t) {
                startIn = null;
                containerOf = null;
                LOG.log(System.Logger.Level.DEBUG, "fibers start in the JDK's root thread container"
                        + (pin == null ? " and pinned sections run unpinned" : "") + ": " + t);
            }
        }
        START_IN = startIn;
        CONTAINER_OF = containerOf;
        PIN = pin;
        UNPIN = unpin;
        BUILDER = builder;
        CURRENT_CARRIER = carrier;
        STATE = state;
        RUN_CONTINUATION_CLASS = rcClass;
        FIBER_OF_RUNNABLE = fiberOf;
        VIRTUAL_THREAD_CLASS = vtClass;
        FAILURE = failure;
    }

    private JdkVirtualThreads() { }

    /** Throws the reason Bobbin cannot schedule fibers here (typically the missing add-opens flag). */
    static void check() {
        if (FAILURE != null) {
            throw new IllegalStateException(FAILURE.getMessage(), FAILURE);
        }
    }

    /** Whether the handles are usable (the JVM has the add-opens flag and a supported JDK). */
    public static boolean isAvailable() {
        return FAILURE == null;
    }

    /** A JDK virtual-thread builder whose fibers are scheduled by {@code scheduler}. */
    public static Thread.Builder.OfVirtual newBuilder(Executor scheduler) {
        check();
        try {
            return (Thread.Builder.OfVirtual) BUILDER.invokeExact(scheduler);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot create a virtual thread builder", t);
        }
    }

    /** The platform thread the caller runs on: itself, or the carrier of the mounted fiber. */
    public static Thread currentCarrier() {
        try {
            return (Thread) CURRENT_CARRIER.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Runs {@code action} with the calling virtual thread pinned to its carrier ({@code Continuation.pin}):
     * a monitor it contends meanwhile blocks the carrier instead of unmounting it. Platform threads, and
     * a JDK without the handles, run it as it is.
     */
    public static void runPinned(Runnable action) {
        if (PIN == null || !Thread.currentThread().isVirtual()) {
            action.run();
            return;
        }
        try {
            PIN.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        try {
            action.run();
        } finally {
            try {
                UNPIN.invokeExact();
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    /** The fiber whose continuation task {@code task} is, or null for any other Runnable. */
    static Thread fiberOf(Runnable task) {
        if (task.getClass() != RUN_CONTINUATION_CLASS) return null;
        try {
            return (Thread) FIBER_OF_RUNNABLE.invokeExact(task);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Whether a virtual thread is parked while pinned, i.e. waiting but still mounted on its carrier. */
    public static boolean parkedOnCarrier(Thread fiber) {
        int s = state(fiber);
        return s == PINNED || s == TIMED_PINNED;
    }

    /**
     * Whether a virtual thread is mounted: running, parked while pinned, or blocked in a monitor or
     * {@code Object.wait} while pinned (the JDK leaves it RUNNING then, and {@link Thread#getState()}
     * reports its carrier's BLOCKED or WAITING).
     */
    public static boolean onCarrier(Thread fiber) {
        int s = state(fiber);
        return s == RUNNING || s == PINNED || s == TIMED_PINNED;
    }

    /** The JDK state of a virtual thread, without the suspension bit. Volatile read. */
    static int state(Thread fiber) {
        try {
            return ((int) STATE.invokeExact(fiber)) & ~SUSPENDED_BIT;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * A thread container for the fibers that {@code members} lists and that were started in it, named
     * {@code name}, under {@code parent} (another such container, or null for the JDK's root); or null
     * where the JDK's containers are out of reach. It registers with the JDK's thread dumps at the first
     * {@link #start} in it; {@link #closeContainer} deregisters it. {@code enrolsBeforeStart}: every
     * fiber started in it is enrolled in its scheduler's registry before its start (a
     * {@code FiberExecutor}'s jobs), so the start itself adds nothing there.
     */
    public static Object openContainer(String name, Object parent, java.util.function.Consumer<java.util.List<Thread>> members,
                                       boolean enrolsBeforeStart) {
        return START_IN == null ? null : new FiberContainer(name, parent, members, enrolsBeforeStart);
    }

    /** Deregisters a container from {@link #openContainer}: it no longer appears in thread dumps. Null: nothing. */
    public static void closeContainer(Object container) {
        if (container != null) ((FiberContainer) container).close();
    }

    /**
     * Starts {@code fiber} in {@code container} (from {@link #openContainer}), or as {@link Thread#start()}
     * does when it is null. Throws what {@code Thread.start} throws.
     */
    public static void start(Thread fiber, Object container) {
        if (container == null) {
            fiber.start();
            return;
        }
        ((FiberContainer) container).registerOnFirstStart();
        try {
            START_IN.invokeExact(fiber, container);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot start " + fiber, t);
        }
    }

    /**
     * Whether {@code fiber}, being started, was enrolled in its scheduler's registry before its start:
     * it starts in a container opened with {@code enrolsBeforeStart}.
     */
    static boolean enrolledBeforeStart(Thread fiber) {
        return CONTAINER_OF != null && containerOf(fiber) instanceof FiberContainer c && c.enrolsBeforeStart;
    }

    /** The container {@code thread} was started in (null before its start). */
    static Object containerOf(Thread thread) {
        try {
            return (Object) CONTAINER_OF.invokeExact(thread);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static boolean isVirtualThread(Thread t) {
        return t.getClass() == VIRTUAL_THREAD_CLASS;
    }
}
