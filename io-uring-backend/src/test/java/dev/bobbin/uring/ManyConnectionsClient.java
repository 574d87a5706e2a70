package dev.bobbin.uring;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The client side of the many-connections test, run in its own JVM so that each process stays within the
 * descriptor limit: opens N connections, then sends one byte on each, then reads each echo, then closes
 * them all. Prints "OK n" on success.
 */
public final class ManyConnectionsClient {
    public static void main(String[] args) throws Exception {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int n = Integer.parseInt(args[2]);
        SocketChannel[] conns = new SocketChannel[n];
        try {
            for (int i = 0; i < n; i++) conns[i] = SocketChannel.open(server);
            ByteBuffer b = ByteBuffer.allocate(1);
            for (int i = 0; i < n; i++) {
                conns[i].write(b.clear().put((byte) i).flip());
            }
            for (int i = 0; i < n; i++) {
                b.clear();
                while (b.hasRemaining()) {
                    if (conns[i].read(b) < 0) throw new IllegalStateException("EOF on connection " + i);
                }
                if (b.get(0) != (byte) i) throw new IllegalStateException("wrong echo on connection " + i);
            }
            System.out.println("OK " + n);
        } finally {
            for (SocketChannel c : conns) if (c != null) c.close();
        }
    }
}
