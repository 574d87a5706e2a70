package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./bobbin example echo [port [clients [round-trips]]]}: a bad argument gets a usage line and exit
 * code 2, a port already taken one line and exit code 1; never a stack trace.
 */
class EchoServerExampleArgumentsTest {

    @Test
    void aNegativePortIsRefusedWithAUsageLine() throws Exception {
        assertRefused("-1");
    }

    @Test
    void aPortAbove65535IsRefusedWithAUsageLine() throws Exception {
        assertRefused("70000");
    }

    @Test
    void aNegativeClientCountIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "-5");
    }

    @Test
    void aNegativeRoundTripCountIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "1", "-3");
    }

    @Test
    void anExtraArgumentIsRefusedWithAUsageLine() throws Exception {
        assertRefused("0", "1", "1", "extra");
    }

    @Test
    void aPortInUseIsReportedInOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(0));
            ExampleRun r = run(String.valueOf(taken.getLocalPort()), "1", "1");
            assertEquals(1, r.exit(), r.output());
            assertTrue(r.output().contains("cannot listen on port " + taken.getLocalPort()), r.output());
            assertFalse(r.output().contains("\tat "), r.output());
        }
    }

    @Test
    void validArgumentsRun() throws Exception {
        ExampleRun r = run("0", "2", "3");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("6 exchanges"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
    }

    private static void assertRefused(String... args) throws Exception {
        run(args).assertRefusedWith("usage: ./bobbin example echo");
    }

    private static ExampleRun run(String... args) throws Exception {
        return ExampleRun.of(EchoServerExample.class, args);
    }
}
