package dev.bobbin.scheduler;

import jdk.internal.vm.ThreadContainer;
import jdk.internal.vm.ThreadContainers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The JDK thread container of one scheduler's or one executor's fibers: where they appear in the JDK's
 * thread dumps ({@code jcmd <pid> Thread.dump_to_file}, {@code HotSpotDiagnosticMXBean.dumpThreads}),
 * grouped as the JDK groups the threads of its own executors.
 *
 * <p>Implementation overview. A JDK container is told of each thread started in it and of its end
 * ({@code onStart}, {@code onExit}) and lists its threads for a dump. Bobbin already keeps every live
 * fiber in its scheduler's {@link FiberRegistry}, so a container keeps nothing: its start and exit
 * hooks do nothing, and a dump asks its {@code members} (the registry's fibers, or an executor's) and
 * keeps those whose container is this one, so a fiber is listed once, under the container it started
 * in. A fiber started with {@link Thread#start()} (say from a scheduler's thread factory) stays in the
 * JDK's root container and is listed there. An executor's container names its scheduler's as its parent
 * (while the scheduler runs, its container is in the dump too); a scheduler's has the root as parent.
 *
 * <p>Registration. The JDK finds containers for a dump in its registry (weak references). A container
 * registers at the first start made in it, so an executor opened and closed without a task costs no
 * registration, and deregisters when closed (its owner terminated); the JDK's weak reference lets one
 * never closed go with its owner. A container registers its parent before itself, since a dump
 * reaches a container only through its parent.
 * <pre>
 *   NEW         --first start (registerOnFirstStart)--&gt; REGISTERED
 *   NEW         --close-------------------------------&gt; CLOSED
 *   REGISTERED  --close (deregisters)-----------------&gt; CLOSED
 * </pre>
 * Both transitions run under the container's monitor (once per container); a start's check of
 * {@code settled} is one volatile read.
 *
 * <p>Loaded only through {@link JdkVirtualThreads}, once {@code jdk.internal.vm} is exported to Bobbin.
 */
final class FiberContainer extends ThreadContainer {
    private final String name;
    private final ThreadContainer parent;          // null: the JDK's root
    private final Consumer<List<Thread>> members;  // adds fibers that may be in this container
    final boolean enrolsBeforeStart;               // every fiber started here is already in the registry
    private volatile boolean settled;              // REGISTERED or CLOSED: a start has nothing to do; written under the monitor
    private Object key;                            // the JDK's registration, or null; guarded by the monitor

    FiberContainer(String name, Object parent, Consumer<List<Thread>> members, boolean enrolsBeforeStart) {
        super(true);                               // shared: no owner thread
        this.name = name;
        this.enrolsBeforeStart = enrolsBeforeStart;
        this.parent = (ThreadContainer) parent;
        this.members = members;
    }

    /** Links this class and the JDK members it uses, so a JDK that changed them fails here, not at a start. */
    static void linkCheck() {
        FiberContainer probe = new FiberContainer("link-check", null, out -> { }, false);
        probe.threads().close();
        probe.parent();
        ThreadContainers.deregisterContainer(ThreadContainers.registerContainer(probe));
    }

    /**
     * Registers with the JDK's thread dumps, unless already registered or closed, and its parent first: a
     * dump reaches a container only through its parent. Any thread; cheap after the first.
     */
    void registerOnFirstStart() {
        if (settled) return;                       // volatile read; pairs with the writes below
        if (parent instanceof FiberContainer p) p.registerOnFirstStart();
        synchronized (this) {
            if (settled) return;
            key = ThreadContainers.registerContainer(this);
            settled = true;                        // volatile write, after the key
        }
    }

    /** Deregisters (if registered); later starts register nothing. */
    synchronized void close() {
        settled = true;                            // volatile write: later starts register nothing
        if (key != null) {
            ThreadContainers.deregisterContainer(key);
            key = null;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ThreadContainer parent() {
        return parent != null ? parent : ThreadContainers.root();
    }

    @Override
    public Stream<Thread> threads() {
        List<Thread> candidates = new ArrayList<>();
        members.accept(candidates);
        return candidates.stream().filter(t -> JdkVirtualThreads.containerOf(t) == this);
    }
}
