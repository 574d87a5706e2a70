package dev.bobbin.uring;

import org.junit.jupiter.api.BeforeAll;

/** The socket suite on Netty's epoll transport (required on Linux). */
class EpollSocketTest extends FiberSocketContract {
    @Override IoTransport transport() { return IoTransport.EPOLL; }

    @BeforeAll
    static void requireEpoll() {
        TransportSelectionTest.assumeOrRequire(IoTransport.EPOLL);
    }
}
