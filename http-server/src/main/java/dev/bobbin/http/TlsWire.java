package dev.bobbin.http;

import dev.bobbin.uring.FiberSocket;
import io.netty.buffer.ByteBuf;

import javax.net.ssl.SSLEngine;
import java.io.IOException;
import java.net.InetSocketAddress;

/** TEMPORARY until the TLS wire lands: refuses TLS connections. */
final class TlsWire implements Wire {
    private final FiberSocket socket;

    TlsWire(FiberSocket socket, SSLEngine engine) {
        this.socket = socket;
    }

    @Override public ByteBuf receive() throws IOException { throw new IOException("TLS not available yet"); }
    @Override public void write(ByteBuf buf) throws IOException { buf.release(); throw new IOException("TLS not available yet"); }
    @Override public void flush() { }
    @Override public void shutdownOutput() { }
    @Override public void close() { socket.close(); }
    @Override public InetSocketAddress remoteAddress() { return socket.remoteAddress(); }
    @Override public InetSocketAddress localAddress() { return socket.localAddress(); }
}
