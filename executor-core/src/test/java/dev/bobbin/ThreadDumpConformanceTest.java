package dev.bobbin;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where the JDK's thread dump (what {@code jcmd <pid> Thread.dump_to_file} writes) lists a task's
 * thread. The control: a JDK virtual-thread-per-task executor lists its threads under a container of
 * its own, not the root. Bobbin lists an executor's fibers under a container named after the executor,
 * whose parent is its scheduler's; fibers a scheduler starts itself under the scheduler's. Each thread
 * is listed once. Deliberate difference: a fiber started with {@link Thread#start()} from a scheduler's
 * thread factory is in the JDK's root container, as any virtual thread started that way is.
 */
@Timeout(value = 30, unit = SECONDS)
class ThreadDumpConformanceTest {
    private static final FiberScheduler SCHEDULER =
            FiberScheduler.create(SchedulerConfig.builder().name("dumped").parallelism(2).build());

    @AfterAll
    static void close() {
        SCHEDULER.close();
    }

    /** One container of a JSON thread dump: its name, its parent's name (null for the root) and its threads' ids. */
    record Container(String name, String parent, List<Long> tids) { }

    @Test
    void jdkExecutorListsItsThreadsInAContainerOfItsOwn() throws Exception {
        try (ExecutorService e = Executors.newVirtualThreadPerTaskExecutor()) {
            Container c = containerOfParkedTask(e);
            assertNotEquals("<root>", c.name());
            assertTrue(c.name().contains("ThreadPerTaskExecutor"), c.toString());
            assertEquals("<root>", c.parent(), c.toString());
        }
    }

    @Test
    void fiberExecutorListsItsFibersUnderItselfUnderItsScheduler() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("dump-pool").scheduler(SCHEDULER).build()) {
            Container c = containerOfParkedTask(e);
            assertTrue(c.name().startsWith("FiberExecutor[dump-pool]"), c.toString());
            assertTrue(c.parent() != null && c.parent().startsWith("FiberScheduler[dumped]"), c.toString());
        }
    }

    @Test
    void executorWithItsOwnSchedulerNestsUnderThatScheduler() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("dump-own")
                .ownScheduler(SchedulerConfig.builder().name("dump-own-scheduler").parallelism(1).build()).build()) {
            Container c = containerOfParkedTask(e);
            assertTrue(c.name().startsWith("FiberExecutor[dump-own]"), c.toString());
            assertTrue(c.parent() != null && c.parent().startsWith("FiberScheduler[dump-own-scheduler]"), c.toString());
        }
    }

    @Test
    void schedulerListsTheFibersItStarts() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch parked = new CountDownLatch(2);
        Runnable park = () -> {
            parked.countDown();
            awaitQuietly(release);
        };
        Thread f = SCHEDULER.start(park);
        Thread bound = SCHEDULER.startOn(1, park);
        try {
            assertTrue(parked.await(10, SECONDS));
            String json = dump();
            for (Thread t : List.of(f, bound)) {
                Container c = containerOf(t.threadId(), json);
                assertTrue(c.name().startsWith("FiberScheduler[dumped]"), c.toString());
                assertEquals("<root>", c.parent(), c.toString());
            }
        } finally {
            release.countDown();
        }
        assertTrue(f.join(java.time.Duration.ofSeconds(10)));
        assertTrue(bound.join(java.time.Duration.ofSeconds(10)));
    }

    @Test
    void anExecutorRegistersAtItsFirstTask() throws Exception {
        try (FiberExecutor e = FiberExecutor.builder().name("dump-idle").scheduler(SCHEDULER).build()) {
            for (Container c : parse(dump())) assertTrue(!c.name().startsWith("FiberExecutor[dump-idle]"), c.toString());
            assertTrue(containerOfParkedTask(e).name().startsWith("FiberExecutor[dump-idle]"));
        }
    }

    /** The JVM's default, jdk.trackAllThreads=true: with false the JDK's root container lists no virtual thread at all. */
    @Test
    void aFiberStartedByThreadStartIsInTheRootContainerAsOnTheJdk() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch parked = new CountDownLatch(1);
        Thread f = SCHEDULER.threadFactory().newThread(() -> {
            parked.countDown();
            awaitQuietly(release);
        });
        f.start();
        try {
            assertTrue(parked.await(10, SECONDS));
            assertEquals("<root>", containerOf(f.threadId(), dump()).name());
        } finally {
            release.countDown();
        }
        assertTrue(f.join(java.time.Duration.ofSeconds(10)));
    }

    @Test
    void aClosedExecutorLeavesTheDump() throws Exception {
        String name;
        try (FiberExecutor e = FiberExecutor.builder().name("dump-closed").scheduler(SCHEDULER).build()) {
            name = containerOfParkedTask(e).name();
        }
        for (Container c : parse(dump())) assertNotEquals(name, c.name(), "a closed executor's container is still registered");
    }

    /** Submits a task that parks, dumps, and returns the container that lists its thread (once). */
    private static Container containerOfParkedTask(ExecutorService e) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch parked = new CountDownLatch(1);
        AtomicReference<Thread> thread = new AtomicReference<>();
        Future<?> task = e.submit(() -> {
            thread.set(Thread.currentThread());
            parked.countDown();
            awaitQuietly(release);
        });
        try {
            assertTrue(parked.await(10, SECONDS));
            return containerOf(thread.get().threadId(), dump());
        } finally {
            release.countDown();
            task.get(10, SECONDS);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private static Container containerOf(long tid, String json) {
        List<Container> listing = new ArrayList<>();
        for (Container c : parse(json)) {
            if (c.tids().contains(tid)) listing.add(c);
        }
        assertEquals(1, listing.size(), "containers listing thread " + tid + ": " + listing);
        assertEquals(1, listing.get(0).tids().stream().filter(t -> t == tid).count(), "listed twice: " + listing);
        return listing.get(0);
    }

    private static String dump() throws IOException {
        Path file = Files.createTempDirectory("bobbin-dump").resolve("threads.json").toAbsolutePath();
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            return Files.readString(file);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        }
    }

    private static final Pattern CONTAINER = Pattern.compile("\"container\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern PARENT = Pattern.compile("\"parent\"\\s*:\\s*(null|\"([^\"]*)\")");
    private static final Pattern TID = Pattern.compile("\"tid\"\\s*:\\s*\"?(\\d+)\"?");

    /** The containers of a JSON dump, in order; each object's text runs to the next container's name. */
    static List<Container> parse(String json) {
        List<Container> out = new ArrayList<>();
        Matcher m = CONTAINER.matcher(json);
        List<int[]> spans = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.end(), 0});
            names.add(m.group(1));
        }
        for (int i = 0; i < spans.size(); i++) {
            int from = spans.get(i)[0];
            int to = i + 1 < spans.size() ? spans.get(i + 1)[0] : json.length();
            String body = json.substring(from, to);
            Matcher p = PARENT.matcher(body);
            String parent = p.find() ? p.group(2) : null;
            List<Long> tids = new ArrayList<>();
            Matcher t = TID.matcher(body);
            while (t.find()) tids.add(Long.parseLong(t.group(1)));
            out.add(new Container(names.get(i), parent, tids));
        }
        assertTrue(!out.isEmpty() && out.get(0).name().equals("<root>"), "a dump starts with the root container");
        return out;
    }
}
