package dev.bobbin.uring;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Socket errors carry the JDK's messages, Netty's system-call text only in the cause: a bind to an address
 * no interface has (EADDRNOTAVAIL) reads as the JDK's ServerSocketChannel.bind says it (the control).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BindErrorMessageTest {

    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void aBindToAForeignAddressHasTheJdksMessage(IoTransport t) throws Exception {
        TransportSelectionTest.assumeOrRequire(t);
        InetSocketAddress foreign = new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 0);  // TEST-NET-1
        String jdk;
        try (ServerSocketChannel c = ServerSocketChannel.open()) {
            jdk = assertThrows(BindException.class, () -> c.bind(foreign)).getMessage();
        }
        BindException e;
        try (FiberServerSocket s = FiberIo.of(t).openServer()) {
            e = assertThrows(BindException.class, () -> s.bind(foreign));
        }
        assertEquals(jdk, e.getMessage(), t + ": " + e);
    }
}
