package dev.bobbin.uring.driver;

import dev.bobbin.uring.FiberIo;

/** Test access to a runtime's driver side, which the driver package's main code cannot name. */
final class RuntimeDrivers {
    private RuntimeDrivers() { }

    /** The driver side of {@code io} (its driver factory). */
    static IoDrivers of(FiberIo io) {
        return (IoDrivers) io.driverFactory();
    }
}
