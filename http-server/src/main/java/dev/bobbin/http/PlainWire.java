package dev.bobbin.http;

import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.net.InetSocketAddress;

/** A plain TCP connection: every call goes straight to the {@link FiberSocket}. */
final class PlainWire implements Wire {
    private final FiberSocket socket;

    PlainWire(FiberSocket socket) {
        this.socket = socket;
    }

    @Override public ByteBuf receive() throws IOException { return socket.receive(); }
    @Override public void write(ByteBuf buf) throws IOException { socket.write(buf); }
    @Override public void flush() throws IOException { socket.flush(); }
    @Override public void shutdownOutput() throws IOException { socket.shutdownOutput(); }
    @Override public void close() { socket.close(); }
    @Override public InetSocketAddress remoteAddress() { return socket.remoteAddress(); }
    @Override public InetSocketAddress localAddress() { return socket.localAddress(); }
}
