package dev.bobbin.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The examples that take no arguments refuse one with a usage line and exit code 2, instead of ignoring it
 * ({@code ./bobbin example executor 100} does not run 100 of anything).
 */
class ExamplesWithoutArgumentsTest {

    @ParameterizedTest
    @ValueSource(classes = {ExecutorExample.class, MetricsExample.class, ThreadModelExample.class})
    void anArgumentIsRefusedWithAUsageLine(Class<?> example) throws Exception {
        ExampleRun r = ExampleRun.of(example, "100");
        r.assertRefusedWith("usage: ./bobbin example ");
        assertTrue(r.output().contains("takes no arguments"), r.output());
    }
}
