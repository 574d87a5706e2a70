package dev.bobbin.uring;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * FiberServerSocket.bind checks its state before its address, as ServerSocketChannel.bind does (the JDK
 * is the control): a closed server throws ClosedChannelException and a bound one AlreadyBoundException,
 * whatever address is passed, never the address exceptions that would send the caller to fix the address.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BindCheckOrderTest {
    static final SocketAddress[] BAD = {
        InetSocketAddress.createUnresolved("no.such.host.invalid", 80),
        UnixDomainSocketAddress.of("/tmp/x.sock"),
    };

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aClosedServerRefusesABindAsClosedWhateverTheAddress(IoTransport t) throws Exception {
        Assumptions.assumeTrue(t.unavailabilityCause().isEmpty());
        FiberIo io = FiberIo.of(t);
        for (SocketAddress bad : BAD) {
            ServerSocketChannel jdk = ServerSocketChannel.open();
            jdk.close();
            assertThrows(ClosedChannelException.class, () -> jdk.bind(bad), "control");
            FiberServerSocket s = io.openServer();
            s.close();
            assertThrows(ClosedChannelException.class, () -> s.bind(bad), bad.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aBoundServerRefusesASecondBindAsAlreadyBoundWhateverTheAddress(IoTransport t) throws Exception {
        Assumptions.assumeTrue(t.unavailabilityCause().isEmpty());
        FiberIo io = FiberIo.of(t);
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        for (SocketAddress bad : BAD) {
            try (ServerSocketChannel jdk = ServerSocketChannel.open().bind(loopback);
                 FiberServerSocket s = io.openServer().bind(loopback)) {
                assertThrows(AlreadyBoundException.class, () -> jdk.bind(bad), "control");
                assertThrows(AlreadyBoundException.class, () -> s.bind(bad), bad.toString());
            }
        }
    }
}
