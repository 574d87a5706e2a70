package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bobbin turns Netty's multishot read polls off while ring rescue is on (see {@code RescuedPollTest} for
 * why), through Netty's property, which Netty reads once. These check that the setting takes effect, and
 * that an application which initialized Netty's io_uring transport first hears of it in one WARNING line
 * (a child JVM each: Netty's reading is per JVM), while one that asked for multishot polls hears nothing.
 */
class MultishotPollWarningTest {
    private static final String WARNING = "was initialized before Bobbin's, with multishot read polls";

    @Test
    void bobbinsDefaultReachesNetty() {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        FiberIo.of(IoTransport.IO_URING);
        assertFalse(IoTransport.nettyMultishotPolls(), "Netty reads Bobbin's default: single-shot read polls");
    }

    @Test
    void nettyInitializedFirstKeepsMultishotPollsAndOneWarningSaysSo() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        String out = child(List.of(), "netty-first");
        assertTrue(out.contains("multishot=true"), out);
        assertEquals(1, out.split(WARNING, -1).length - 1, "one WARNING line for two schedulers: " + out);
        assertTrue(out.contains("-D" + IoTransport.MULTISHOT_POLLS_PROPERTY + "=false"), "the line names the property: " + out);
    }

    @Test
    void multishotPollsAskedForAreKeptWithoutAWarning() throws Exception {
        TransportSelectionTest.assumeOrRequire(IoTransport.IO_URING);
        String out = child(List.of("-D" + IoTransport.MULTISHOT_POLLS_PROPERTY + "=true"), "bobbin-first");
        assertTrue(out.contains("multishot=true"), out);
        assertFalse(out.contains(WARNING), out);
    }

    private static String child(List<String> flags, String order) throws Exception {
        return ChildJvm.run(flags, Child.class, order);
    }

    /** Initializes Netty's io_uring first ({@code netty-first}) or not, then starts two schedulers on io_uring. */
    public static final class Child {
        private Child() { }

        public static void main(String[] args) throws Exception {
            if (args[0].equals("netty-first") && !IoUring.isAvailable()) throw new IllegalStateException("no io_uring");
            FiberIo io = FiberIo.of(IoTransport.IO_URING);
            for (int i = 0; i < 2; i++) {
                try (FiberScheduler s = FiberScheduler.create(io.schedulerConfig().name("mp" + i).parallelism(2).build())) {
                    s.start(() -> { }).join();
                }
            }
            System.out.println("multishot=" + IoTransport.nettyMultishotPolls());
        }
    }
}
