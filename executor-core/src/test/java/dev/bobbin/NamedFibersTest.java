package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fibers are named {@code <prefix><n>} from 0 ({@link NamedFibers}): a scheduler's as
 * {@code <name>-fiber-<n>}, an executor's tasks as {@code <name>-<n>}; concurrent factories' names never
 * repeat, as with the JDK's counting builder.
 */
class NamedFibersTest {

    @Test
    void namesCountFromZeroInCreationOrder() {
        ThreadFactory f = new NamedFibers(Thread.ofVirtual().factory(), "p-");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) names.add(f.newThread(() -> { }).getName());
        assertEquals(List.of("p-0", "p-1", "p-2"), names);
        assertThrows(NullPointerException.class, () -> new NamedFibers(null, "p-"));
        assertThrows(NullPointerException.class, () -> new NamedFibers(Thread.ofVirtual().factory(), null));
    }

    @Test
    void namesFromManyThreadsAtOnceAreDistinct() throws Exception {
        ThreadFactory f = new NamedFibers(Thread.ofVirtual().factory(), "c-");
        Set<String> names = ConcurrentHashMap.newKeySet();
        List<Thread> makers = new ArrayList<>();
        for (int m = 0; m < 4; m++) {
            makers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 5_000; i++) names.add(f.newThread(() -> { }).getName());
            }));
        }
        for (Thread t : makers) t.join();
        assertEquals(20_000, names.size());
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 20_000; i++) expected.add("c-" + i);
        assertEquals(expected, names);
    }

    @Test
    void aSchedulersAndAnExecutorsFibersCarryTheirNames() throws Exception {
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("named").parallelism(1).build());
             FiberExecutor executor = FiberExecutor.builder().name("jobs").scheduler(scheduler).build()) {
            Thread a = scheduler.start(() -> { }), b = scheduler.start(() -> { });
            a.join();
            b.join();
            assertEquals(List.of("named-fiber-0", "named-fiber-1"), List.of(a.getName(), b.getName()));
            Future<String> first = executor.submit(() -> Thread.currentThread().getName());
            assertEquals("jobs-0", first.get());
            assertTrue(executor.threadFactory().newThread(() -> { }).getName().startsWith("jobs-"));
        }
    }
}
