package dev.bobbin.scheduler;

/**
 * Chooses how the JDK polls blocking sockets used by fibers, and keeps its pollers off Bobbin's carriers.
 *
 * <p>Implementation overview. A fiber blocked in a JDK socket ({@code java.net.Socket}, a blocking
 * {@code SocketChannel}: Jetty, Tomcat, JDBC drivers, {@code HttpClient}) parks on the JDK's poller, and the
 * poller unparks it when the descriptor is ready. The JDK (25) has two poller modes:
 * <ul>
 *   <li>{@code VTHREAD_POLLERS}, its default on Linux: a platform "master" thread waits in
 *       {@code epoll_wait}, then unparks a sub-poller <em>virtual thread</em> on the JDK's own
 *       ForkJoinPool, which polls again and unparks the waiting thread. For the JDK's own virtual threads
 *       the sub-poller shares their carriers, so its unparks are local pushes.</li>
 *   <li>{@code SYSTEM_THREADS}: platform poller threads wait in {@code epoll_wait} and unpark the waiting
 *       thread directly.</li>
 * </ul>
 * A Bobbin fiber is never on the JDK's carriers, so under the first mode every readiness event costs a
 * hop onto a JDK carrier (a ForkJoinPool wake-up on a CPU Bobbin's carriers want) before the hop onto a
 * Bobbin carrier. The second mode has one hop, which Bobbin pays in either mode. So when the application
 * has not chosen ({@value #POLLER_MODE_PROPERTY} unset) and nothing has polled a socket yet, Bobbin selects
 * {@code SYSTEM_THREADS} before the JDK's poller class initializes: at 1,000 connections that took
 * JDK-socket echo in fibers from 1.25x to 1.04x the server CPU per round trip of the same server on JDK
 * virtual threads, with no measurable change at 100 (bench/README.md, "Outside starts and JDK
 * sockets"). The JDK's own
 * virtual threads in the same JVM then use those platform pollers too. An explicit
 * {@code -Djdk.pollerMode=2} keeps the JDK's default; so does any socket I/O before the first scheduler.
 *
 * <p>Whatever the mode, the poller class is initialized from a fresh platform thread, once per JVM and
 * before the first carrier starts. Under {@code VTHREAD_POLLERS} the JDK creates its sub-pollers with a
 * plain {@code Thread.ofVirtual()} builder, which inherits the scheduler of the virtual thread that calls
 * it: had the first caller been a Bobbin fiber, the pollers would run on Bobbin's carriers forever after
 * and would stop polling when that scheduler shut down.
 */
public final class SocketPollers {
    /** The JDK's (undocumented) system property that selects its poller mode; read once, when its poller class initializes. */
    static final String POLLER_MODE_PROPERTY = "jdk.pollerMode";
    /** The JDK's name (and number) for platform-thread pollers. */
    private static final String SYSTEM_THREADS = "1";

    private static volatile boolean initialized;   // set once the poller class is initialized

    private SocketPollers() { }

    static void initializeOutsideBobbin() {
        if (initialized) return;
        synchronized (SocketPollers.class) {
            if (initialized) return;
            choosePollerMode();
            Thread t = Thread.ofPlatform().daemon().name("bobbin-poller-init").inheritInheritableThreadLocals(false).unstarted(() -> {
                try {
                    Class.forName("sun.nio.ch.Poller", true, ClassLoader.getPlatformClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    // a JDK without this class has nothing to keep off our carriers
                }
            });
            t.start();
            boolean interrupted = false;
            for (;;) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            initialized = true;
        }
    }

    /** Selects platform-thread pollers unless the application chose a mode or the pollers already exist. */
    private static void choosePollerMode() {
        if (System.getProperty(POLLER_MODE_PROPERTY) != null) return;      // the application's choice
        if (pollersRunning()) return;                                       // too late: the JDK read it already
        System.setProperty(POLLER_MODE_PROPERTY, SYSTEM_THREADS);
    }

    /**
     * Whether the JDK's pollers are already running (so it read its mode): each mode starts a platform
     * thread of a known name when the poller class initializes ({@code MasterPoller} or
     * {@code Read-Poller}). Platform threads only, listed from the root thread group.
     */
    private static boolean pollersRunning() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) root = root.getParent();
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n = root.enumerate(threads, true);
        for (int i = 0; i < n; i++) {
            String name = threads[i].getName();
            if (name.equals("MasterPoller") || name.equals("Read-Poller") || name.equals("Write-Poller")) return true;
        }
        return false;
    }
}
