package dev.bobbin.spi;

import java.util.List;

/** The {@link DriverStats} of a driver that does no I/O. */
enum NoDriverStats implements DriverStats {
    INSTANCE;

    @Override public String transport() { return "none"; }

    @Override public List<String> counterNames() { return List.of(); }

    @Override public long counter(int index) {
        throw new IndexOutOfBoundsException("no driver counters: " + index);
    }
}
