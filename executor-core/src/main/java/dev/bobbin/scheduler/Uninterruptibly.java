package dev.bobbin.scheduler;

import java.util.concurrent.CountDownLatch;

/**
 * Waits the engine must finish even when interrupted (a scheduler's start, the JDK poller's
 * initialization): they wait on, and keep the interrupt for the caller to see afterwards.
 */
final class Uninterruptibly {
    private Uninterruptibly() { }

    /** A wait that may be interrupted. */
    private interface Wait {
        void run() throws InterruptedException;
    }

    static void join(Thread t) {
        waitThrough(t::join);
    }

    static void await(CountDownLatch latch) {
        waitThrough(latch::await);
    }

    private static void waitThrough(Wait w) {
        boolean interrupted = false;
        for (;;) {
            try {
                w.run();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
