package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./bobbin example http [port] [--check]}: a bad port gets a usage line and exit code 2, a port
 * already taken one line and exit code 1; never a stack trace.
 */
class HttpServerExampleArgumentsTest {

    @Test
    void aNegativePortIsRefusedWithAUsageLine() throws Exception {
        assertRefused("-1", "--check");
    }

    @Test
    void aPortAbove65535IsRefusedWithAUsageLine() throws Exception {
        assertRefused("70000", "--check");
    }

    @Test
    void aSecondPortIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "0", "--check");
    }

    @Test
    void aPortInUseIsReportedInOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ExampleRun r = run(String.valueOf(taken.getLocalPort()), "--check");
            assertEquals(1, r.exit(), r.output());
            assertTrue(r.output().contains("cannot listen on port " + taken.getLocalPort()), r.output());
            assertFalse(r.output().contains("\tat "), r.output());
        }
    }

    @Test
    void checkRunsEveryContextAndEnds() throws Exception {
        ExampleRun r = run("0", "--check");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("GET /metrics -> 200"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
    }

    private static void assertRefused(String... args) throws Exception {
        run(args).assertRefusedWith("usage: ./bobbin example http");
    }

    private static ExampleRun run(String... args) throws Exception {
        return ExampleRun.of(HttpServerExample.class, args);
    }
}
