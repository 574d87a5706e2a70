package dev.bobbin.uring;

import io.netty.channel.IoEventLoop;

/** Test access, for the driver's tests in another package, to where a socket lives (package-private state). */
public final class SocketHomes {
    private SocketHomes() { }

    /** Whether {@code s} lives on {@code loop}: its first operation picked that loop. */
    public static boolean livesOn(FiberSocket s, IoEventLoop loop) {
        return s.livesOn(loop);
    }
}
