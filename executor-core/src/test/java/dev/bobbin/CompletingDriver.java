package dev.bobbin;

import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A test driver whose "completions" are delivered by the test and run on the carrier thread inside
 * {@code poll} and {@code park}, as an io_uring driver reaps completions (used by
 * {@code DriverResumedFibersTest} and {@code dev.bobbin.scheduler.SpilledFirstTest}).
 */
public final class CompletingDriver implements CarrierDriver {
    final Thread carrier;
    final ConcurrentLinkedQueue<Runnable> completions = new ConcurrentLinkedQueue<>();
    final AtomicInteger wakeups = new AtomicInteger();
    volatile boolean permit;
    volatile boolean inPark;

    public CompletingDriver(CarrierContext c) {
        this.carrier = c.carrierThread();
    }

    /** Any thread: queues a completion and interrupts the carrier's wait without a {@link #wakeup}. */
    public void complete(Runnable r) {
        completions.add(r);
        LockSupport.unpark(carrier);
    }

    private int runCompletions() {
        int n = 0;
        for (Runnable r; (r = completions.poll()) != null; n++) r.run();
        return n;
    }

    @Override public int poll() { return runCompletions(); }

    @Override public void park(long timeoutNanos) {
        inPark = true;
        if (!permit && completions.isEmpty()) {
            if (timeoutNanos < 0) LockSupport.park(this);
            else if (timeoutNanos > 0) LockSupport.parkNanos(this, timeoutNanos);
        }
        permit = false;
        inPark = false;
        runCompletions();
    }

    @Override public void wakeup() {
        wakeups.incrementAndGet();
        permit = true;
        LockSupport.unpark(carrier);
    }

    @Override public void close() { runCompletions(); }
}
