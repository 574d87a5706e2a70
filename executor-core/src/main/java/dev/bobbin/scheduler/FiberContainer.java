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
 * JDK's root container and is listed there. An executor's container names its scheduler's as its parent;
 * a scheduler's has the root as parent. Containers are registered with the JDK while open; the JDK holds
 * them weakly, so one never closed goes with its owner.
 *
 * <p>Loaded only through {@link JdkVirtualThreads#openContainer}, once {@code jdk.internal.vm} is
 * exported to Bobbin.
 */
final class FiberContainer extends ThreadContainer {
    private final String name;
    private final ThreadContainer parent;          // null: the JDK's root
    private final Consumer<List<Thread>> members;  // adds fibers that may be in this container
    private volatile Object key;                   // the JDK's registration; written once after registering

    private FiberContainer(String name, ThreadContainer parent, Consumer<List<Thread>> members) {
        super(true);                               // shared: no owner thread
        this.name = name;
        this.parent = parent;
        this.members = members;
    }

    static Object open(String name, Object parent, Consumer<List<Thread>> members) {
        FiberContainer c = new FiberContainer(name, (ThreadContainer) parent, members);
        c.key = ThreadContainers.registerContainer(c);
        return c;
    }

    static void close(Object container) {
        FiberContainer c = (FiberContainer) container;
        Object k = c.key;
        if (k != null) ThreadContainers.deregisterContainer(k);
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
