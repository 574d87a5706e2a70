package dev.bobbin.uring;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An IPv6 peer's address reads as a JDK socket reads it: no scope id on a loopback (or any global)
 * address. Netty's io_uring transport gives an accepted socket's peer a scope id of 0 ("%0"), which a
 * string comparison of addresses (allow lists, access logs) would trip on.
 */
@Timeout(30)
class Ipv6PeerAddressTest {

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void anAcceptedIpv6PeerHasTheAddressAJdkSocketReports(IoTransport transport) throws Exception {
        assumeTrue(transport.isAvailable(), transport + " is not available here");
        InetAddress loopback6 = InetAddress.getByName("::1");
        String jdk;
        try (ServerSocket control = new ServerSocket(0, 50, loopback6);
             Socket client = new Socket(loopback6, control.getLocalPort());
             Socket accepted = control.accept()) {
            jdk = accepted.getInetAddress().getHostAddress();
            assertEquals(client.getLocalAddress().getHostAddress(), jdk, "the control");
        }
        FiberIo io = FiberIo.of(transport);
        try (FiberServerSocket server = io.openServer().bind(new InetSocketAddress(loopback6, 0), 50);
             Socket client = new Socket(loopback6, server.localAddress().getPort());
             FiberSocket accepted = server.accept()) {
            InetSocketAddress remote = accepted.remoteAddress();
            assertInstanceOf(Inet6Address.class, remote.getAddress());
            assertEquals(jdk, remote.getAddress().getHostAddress(), transport + ": " + remote);
            assertEquals(client.getLocalPort(), remote.getPort());
            assertEquals(new InetSocketAddress(client.getLocalAddress(), client.getLocalPort()), remote);
        }
    }
}
