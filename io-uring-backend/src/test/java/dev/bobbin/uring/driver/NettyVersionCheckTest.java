package dev.bobbin.uring.driver;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class NettyVersionCheckTest {

    @Test
    void netty41IsRefusedWithAMessageNamingFoundAndNeeded() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> NettyVersionCheck.check(
                Map.of("netty-common", "4.1.115.Final", "netty-transport", "4.1.115.Final")));
        assertTrue(e.getMessage().contains("4.1.115.Final"), e.getMessage());
        assertTrue(e.getMessage().contains("needs Netty 4.2"), e.getMessage());
    }

    @Test
    void netty42AndUnknownVersionsPass() {
        NettyVersionCheck.check(Map.of("netty-common", "4.2.18.Final", "netty-transport", "4.2.18.Final"));
        NettyVersionCheck.check(Map.of("netty-transport", "5.0.0.Alpha1"));
        NettyVersionCheck.check(Map.of());                       // a shaded jar without the versions file
        NettyVersionCheck.check(Map.of("netty-codec-http", "4.1.100.Final")); // other artifacts are not judged
    }

    @Test
    void theClassPathOfThisBuildPasses() {
        NettyVersionCheck.require();
    }
}
