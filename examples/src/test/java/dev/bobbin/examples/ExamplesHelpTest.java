package dev.bobbin.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** Every example answers {@code --help} and {@code -h} with its usage line and exit code 0, and runs nothing. */
class ExamplesHelpTest {

    @ParameterizedTest
    @ValueSource(classes = {EchoServerExample.class, HttpServerExample.class, MigrationDemo.class,
            ExecutorExample.class, MetricsExample.class, ThreadModelExample.class})
    void helpPrintsTheUsageAndExitsZero(Class<?> example) throws Exception {
        for (String help : new String[] {"--help", "-h"}) {
            ExampleRun r = ExampleRun.of(example, help);
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().startsWith("usage: ./bobbin example "), r.output());
            assertEquals(1, r.output().lines().count(), "the usage line only: " + r.output());
        }
    }
}
