package dev.bobbin.spi;

/**
 * Creates the {@link CarrierDriver} of each carrier of a scheduler. {@link #open} runs on the carrier
 * thread itself, before the carrier runs any fiber, so a driver may bind thread-affine resources (an
 * io_uring ring, an epoll fd) to it. If {@code open} throws, the scheduler fails to start and reports
 * the exception.
 */
@FunctionalInterface
public interface CarrierDriverFactory {

    /**
     * Opens the driver for one carrier.
     *
     * @param carrier what the driver may know about its carrier
     * @return the driver; never null
     */
    CarrierDriver open(CarrierContext carrier);

    /** The driver of a plain CPU scheduler: parks with {@link java.util.concurrent.locks.LockSupport}. */
    static CarrierDriverFactory parking() {
        return ParkingDriver.FACTORY;
    }
}
