package dev.bobbin.uring;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A connect to the wildcard address (0.0.0.0, or ::) reaches the loopback address of its family, as
 * {@code SocketChannel.connect} does (the JDK is the control): so a listener bound to 127.0.0.1 only is
 * reached, whatever the transport's socket family, and the remote address is the loopback one.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WildcardConnectTest {
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aConnectToTheWildcardAddressReachesTheLoopbackAsOnTheJdk(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        try (ServerSocket v4only = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            InetSocketAddress wildcard = new InetSocketAddress("0.0.0.0", v4only.getLocalPort());
            SocketAddress control;
            try (SocketChannel c = SocketChannel.open(wildcard)) {
                control = c.getRemoteAddress();
            }
            v4only.accept().close();
            try (FiberSocket c = FiberIo.of(t).connect(wildcard, Duration.ofSeconds(5))) {
                assertEquals(control, c.remoteAddress(), t.id());
                v4only.accept().close();
            }
        }
    }
}
