package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import dev.bobbin.http.HttpServerConformanceTest.Provider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.Closeable;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code HttpServer.create(addr, backlog)} and {@code bind} declare IOException: with no descriptor left for the listening socket the JDK's
 * provider says so with an IOException ("Too many open files"), as FiberIo.connect now does, not with
 * Netty's unchecked ChannelException that a caller handling I/O errors does not catch.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.bobbin.http.HttpServerConformanceTest#providers")
@Timeout(value = 30, unit = SECONDS)
class BindWithoutDescriptorsConformanceTest {
    private final Provider provider;

    BindWithoutDescriptorsConformanceTest(Provider provider) {
        this.provider = provider;
    }

    @Test
    void aBindWithoutDescriptorsIsAnIOException() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        // load every class the bind uses while descriptors are plentiful
        HttpServer warm = provider.factory().get().createHttpServer(any, 0);
        warm.stop(0);
        Object outcome;
        List<Closeable> filler = new ArrayList<>();
        try {
            try {
                for (;;) filler.add(new FileInputStream("/dev/null"));
            } catch (IOException exhausted) {
                // no descriptor left
            }
            try {
                provider.factory().get().createHttpServer(any, 0).stop(0);
                outcome = "bound";
            } catch (Throwable t) {
                outcome = t;
            }
        } finally {
            for (Closeable c : filler) c.close();
        }
        Object o = outcome;
        assertInstanceOf(IOException.class, o, () -> provider + ": create and bind without descriptors threw " + o);
    }
}
