package dev.bobbin.scheduler;

/**
 * Chooses how the JDK polls blocking sockets used by fibers, and where its pollers run.
 *
 * <p>Implementation overview. A fiber blocked in a JDK socket ({@code java.net.Socket}, a blocking
 * {@code SocketChannel}: Jetty, Tomcat, JDBC drivers, {@code HttpClient}) parks on the JDK's poller, and the
 * poller unparks it when the descriptor is ready. The JDK (25) has two poller modes:
 * <ul>
 *   <li>{@code VTHREAD_POLLERS}, its default on Linux: a platform "master" thread waits in
 *       {@code epoll_wait}, then unparks a sub-poller <em>virtual thread</em>, which polls without blocking
 *       and unparks every thread whose descriptor is ready, yielding and polling again while events keep
 *       coming. The JDK creates the sub-pollers with a plain {@code Thread.ofVirtual()} builder, so they
 *       inherit the scheduler of the virtual thread that first touches a socket.</li>
 *   <li>{@code SYSTEM_THREADS}: platform poller threads wait in {@code epoll_wait} and unpark each waiting
 *       thread directly.</li>
 * </ul>
 * The sub-pollers are best placed on the carriers of the threads they unpark: one cross-thread hop per
 * batch of events (the master's unpark), and every other unpark a local push. So, by default
 * ({@value #JDK_POLLERS_PROPERTY}{@code =fibers}), the first Bobbin pool of the JVM <em>hosts</em> them:
 * once its carriers run, it sets {@code VTHREAD_POLLERS} and initializes the JDK's poller class from one of
 * its own fibers ({@link CarrierPool#hostJdkPollers}). JDK-socket echo in fibers then costs 0.80x (100
 * connections) and 0.93x (1,000) the server CPU per round trip of the same server on JDK virtual threads,
 * against 1.15x and 1.21x with platform-thread pollers (medians of three rounds; bench/README.md, "JDK
 * sockets: the JDK's pollers on Bobbin's carriers").
 * Sub-pollers outlive their host ({@link OutlivingFibers}): when it terminates they move to a runner thread
 * of their own, so JDK sockets keep working in every other scheduler and thread of the JVM, now at the cost
 * of a hop per event. Only a work-stealing pool with a second regular carrier to move them to (a spare is
 * not enough) and stall protection on hosts them ({@link CarrierPool#canHostJdkPollers}), so that one
 * fiber hogging a carrier does not stop the JVM's socket wake-ups: the stall monitor moves that carrier's
 * queued work to the others; when fibers hog every carrier in service, the monitor runs the sub-pollers'
 * queued tasks off the pool, on their runner thread ({@link OutlivingFibers#rescue}), as it puts a spare
 * into service, which then takes the later ones (unless it stalls too). A host that is busy without
 * stalling delays them like any other fiber: a woken sub-poller waits for a carrier's turn at the injection
 * queue, and one that yielded after a batch of events waits behind its carrier's whole queue (README.md,
 * "Known limitations"); {@code =threads} keeps other schedulers' socket latency apart from
 * the host's load. Any other first pool (single thread, thread per core, one carrier
 * with or without spares, stall protection off) gets {@code SYSTEM_THREADS}, as does
 * {@code =threads}, which selects it outright (nothing on Bobbin's
 * carriers, a hop per event). The JDK's own virtual threads use the same pollers either way.
 *
 * <p>The application's choice wins: with {@value #POLLER_MODE_PROPERTY} set, or with the JDK's pollers
 * already running (some thread used a socket before the first Bobbin pool started), Bobbin leaves the mode
 * as it is and, if the poller class is not initialized yet, initializes it from a fresh platform thread, so
 * that sub-pollers never land on a pool by accident (a pool not prepared to host them would stop them when
 * it terminates).
 */
public final class SocketPollers {
    /** The JDK's (undocumented) system property that selects its poller mode; read once, when its poller class initializes. */
    static final String POLLER_MODE_PROPERTY = "jdk.pollerMode";
    /** Where the JDK's socket pollers run: {@code fibers} (default) or {@code threads}; read once per JVM. */
    public static final String JDK_POLLERS_PROPERTY = "bobbin.jdkPollers";
    /** The JDK's numbers for platform-thread pollers and virtual-thread sub-pollers. */
    private static final String SYSTEM_THREADS = "1", VTHREAD_POLLERS = "2";
    private static final String POLLER_CLASS = "sun.nio.ch.Poller";

    private static volatile boolean initialized;   // set once the poller class is initialized

    private SocketPollers() { }

    /**
     * Called by every pool once its carriers run, before it accepts fibers: the first call of the JVM
     * decides the mode and initializes the JDK's pollers, hosted by {@code pool} or on platform threads.
     * Throws {@link IllegalArgumentException} for a bad {@value #JDK_POLLERS_PROPERTY} (which
     * {@code FiberScheduler.create} reports as the cause of its IllegalStateException).
     */
    static void initialize(CarrierPool pool) {
        if (initialized) return;
        synchronized (SocketPollers.class) {
            if (initialized) return;
            String choice = choice();
            boolean free = System.getProperty(POLLER_MODE_PROPERTY) == null && !pollersRunning();
            boolean host = free && choice.equals("fibers") && pool.canHostJdkPollers();
            if (free) System.setProperty(POLLER_MODE_PROPERTY, host ? VTHREAD_POLLERS : SYSTEM_THREADS);
            if (host) pool.hostJdkPollers(SocketPollers::initializePollerClass);
            else initializeFromPlatformThread();
            initialized = true;
        }
    }

    /**
     * The value of {@value #JDK_POLLERS_PROPERTY}: {@code fibers} unless set. Pools call it before they
     * start their carriers, so a bad value fails the scheduler's creation with nothing left running.
     */
    static String choice() {
        String choice = System.getProperty(JDK_POLLERS_PROPERTY, "fibers");
        if (!choice.equals("fibers") && !choice.equals("threads")) {
            throw new IllegalArgumentException("-D" + JDK_POLLERS_PROPERTY + " must be fibers or threads, got '"
                    + choice + "'");
        }
        return choice;
    }

    private static void initializePollerClass() {
        try {
            Class.forName(POLLER_CLASS, true, ClassLoader.getPlatformClassLoader());
        } catch (ClassNotFoundException e) {
            // a JDK without this class polls some other way; nothing to place
            System.getLogger("dev.bobbin").log(System.Logger.Level.DEBUG, "JDK poller class not found", e);
        } catch (LinkageError e) {
            // its initialization failed (e.g. no descriptor left for its epoll instance): the JDK's blocking
            // sockets in virtual threads fail from now on, with no cause of their own to show
            System.Logger log = System.getLogger("dev.bobbin");
            log.log(System.Logger.Level.WARNING, "the JDK's socket pollers failed to start; blocking sockets in virtual threads will fail: " + e);
            log.log(System.Logger.Level.DEBUG, "JDK poller initialization failure", e);
        }
    }

    private static void initializeFromPlatformThread() {
        Uninterruptibly.join(Thread.ofPlatform().daemon().name("bobbin-poller-init").inheritInheritableThreadLocals(false)
                .start(SocketPollers::initializePollerClass));
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
