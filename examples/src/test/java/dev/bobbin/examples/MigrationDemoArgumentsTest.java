package dev.bobbin.examples;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ./bobbin example migration [fibers]}: a bad argument gets a usage line and exit code 2, not a stack trace. */
class MigrationDemoArgumentsTest {

    @Test
    void aNonNumberIsRefusedWithAUsageLine() throws Exception {
        assertRefused("x");
    }

    @Test
    void aNegativeCountIsRefusedWithAUsageLine() throws Exception {
        assertRefused("-1");
    }

    @Test
    void anExtraArgumentIsRefusedWithAUsageLine() throws Exception {
        assertRefused("2", "3");
    }

    @Test
    void aValidCountRuns() throws Exception {
        ExampleRun r = run("2");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("identity stable: true"), r.output());
    }

    private static void assertRefused(String... args) throws Exception {
        run(args).assertRefusedWith("usage: ./bobbin example migration");
    }

    private static ExampleRun run(String... args) throws Exception {
        return ExampleRun.of(MigrationDemo.class, args);
    }
}
