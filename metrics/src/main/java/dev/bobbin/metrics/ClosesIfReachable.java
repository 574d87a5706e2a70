package dev.bobbin.metrics;

import java.lang.ref.WeakReference;

/**
 * A termination action that closes a binder if it is still reachable: the scheduler or executor that
 * keeps the action keeps no binder alive that was closed and dropped before the end.
 */
record ClosesIfReachable(WeakReference<AutoCloseable> binder) implements Runnable {
    static Runnable of(AutoCloseable binder) {
        return new ClosesIfReachable(new WeakReference<>(binder));
    }

    @Override
    public void run() {
        AutoCloseable b = binder.get();
        if (b == null) return;
        try {
            b.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + b, e);   // the binders' close() throws nothing checked
        }
    }
}
