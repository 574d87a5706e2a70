package dev.bobbin.uring;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SO_RCVBUF and SO_SNDBUF read back as the JDK's sockets read them back on every transport (the JDK is the
 * control): Linux reports twice the size set (its bookkeeping overhead) and the JDK halves that, so a
 * value set is the value read; Netty's native transports report the kernel's doubled value.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BufferSizeReadBackTest {
    static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    static final int SIZE = 65536;

    record Sizes(int serverRcvBuf, int clientRcvBuf, int clientSndBuf) { }

    static Sizes jdk() throws Exception {
        try (ServerSocketChannel s = ServerSocketChannel.open()) {
            s.setOption(StandardSocketOptions.SO_RCVBUF, SIZE).bind(LOOPBACK);
            try (SocketChannel c = SocketChannel.open(s.getLocalAddress())) {
                c.setOption(StandardSocketOptions.SO_RCVBUF, SIZE).setOption(StandardSocketOptions.SO_SNDBUF, SIZE);
                s.accept().close();
                return new Sizes(s.getOption(StandardSocketOptions.SO_RCVBUF),
                        c.getOption(StandardSocketOptions.SO_RCVBUF), c.getOption(StandardSocketOptions.SO_SNDBUF));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aBufferSizeSetIsTheSizeReadBack(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        Sizes control = jdk();
        assertEquals(new Sizes(SIZE, SIZE, SIZE), control, "control");
        FiberIo io = FiberIo.of(t);
        try (FiberServerSocket s = io.openServer()) {
            s.setOption(StandardSocketOptions.SO_RCVBUF, SIZE).bind(LOOPBACK);
            try (FiberSocket c = io.openSocket()) {
                c.setOption(StandardSocketOptions.SO_RCVBUF, SIZE);
                c.setOption(StandardSocketOptions.SO_SNDBUF, SIZE);
                c.connect(s.localAddress(), Duration.ofSeconds(5));
                s.accept(Duration.ofSeconds(5)).close();
                Sizes got = new Sizes(s.getOption(StandardSocketOptions.SO_RCVBUF),
                        c.getOption(StandardSocketOptions.SO_RCVBUF), c.getOption(StandardSocketOptions.SO_SNDBUF));
                assertEquals(control, got, t.id());
            }
        }
    }
}
