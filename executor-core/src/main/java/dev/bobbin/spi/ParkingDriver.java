package dev.bobbin.spi;

import java.util.concurrent.locks.LockSupport;

/**
 * The driver of a carrier without I/O duties: {@code poll} does nothing and {@code park} parks the
 * carrier thread. {@link LockSupport} keeps a permit, which gives the required wakeup-before-park
 * semantics.
 */
final class ParkingDriver implements CarrierDriver {
    static final CarrierDriverFactory FACTORY = ParkingDriver::new;

    private final Thread carrier;   // the owning carrier thread, target of unpark

    private ParkingDriver(CarrierContext context) {
        this.carrier = context.carrierThread();
    }

    @Override public int poll() { return 0; }

    @Override public void park(long timeoutNanos) {
        if (timeoutNanos < 0) LockSupport.park(this);
        else LockSupport.parkNanos(this, timeoutNanos);
    }

    @Override public void wakeup() { LockSupport.unpark(carrier); }
    @Override public boolean spinsWhenIdle() { return true; }   // a futex wake is what the spin saves

    @Override public void close() { }
}
