package dev.bobbin.uring;

/** The socket suite on the NIO transport, the last resort available everywhere. */
class NioSocketTest extends FiberSocketContract {
    @Override IoTransport transport() { return IoTransport.NIO; }
}
