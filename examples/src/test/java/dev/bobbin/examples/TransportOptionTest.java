package dev.bobbin.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * README: {@code ./bobbin example echo -- -Dbobbin.io.transport=epoll} forces a transport. A misspelt one is
 * bad input: one line naming the property, a non-zero exit, no stack trace.
 */
class TransportOptionTest {

    @ParameterizedTest
    @ValueSource(classes = {EchoServerExample.class, HttpServerExample.class})
    void anUnknownTransportIsReportedInOneLine(Class<?> example) throws Exception {
        String[] args = example == EchoServerExample.class ? new String[] {"0", "1", "1"} : new String[] {"0", "--check"};
        ExampleRun r = ExampleRun.withJvmOptions(List.of("-Dbobbin.io.transport=foo"), example, args);
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("-Dbobbin.io.transport: unknown transport 'foo'"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
        assertFalse(r.output().contains("Exception"), r.output());
    }
}
