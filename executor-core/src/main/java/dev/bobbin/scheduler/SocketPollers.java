package dev.bobbin.scheduler;

/**
 * Keeps the JDK's socket pollers off Bobbin's carriers.
 *
 * <p>On Linux the JDK (25) runs its read/write pollers as virtual threads created with a plain
 * {@code Thread.ofVirtual()} builder the first time any thread does blocking socket I/O, and such a
 * builder inherits the scheduler of the virtual thread that calls it. If that first caller were a Bobbin
 * fiber, the JDK's pollers would run on Bobbin's carriers forever after, and would stop polling when the
 * scheduler shut down. Initializing the poller class from a fresh platform thread, once per JVM and
 * before the first carrier starts, makes them virtual threads of the JDK's own scheduler.
 */
public final class SocketPollers {
    private static volatile boolean initialized;   // set once the poller class is initialized

    private SocketPollers() { }

    static void initializeOutsideBobbin() {
        if (initialized) return;
        synchronized (SocketPollers.class) {
            if (initialized) return;
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
}
