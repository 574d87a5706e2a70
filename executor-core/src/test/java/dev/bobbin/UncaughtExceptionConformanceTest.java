package dev.bobbin;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber's uncaught-exception handling is the JDK's: run over a plain JDK virtual thread (the control) and
 * a Bobbin fiber. Bobbin counts failures on the side, without taking the per-thread handler.
 */
@Tag("reliability")
class UncaughtExceptionConformanceTest {

    enum Threads {
        JDK, BOBBIN;

        ThreadFactory factory() {
            return this == JDK ? Thread.ofVirtual().factory() : scheduler.threadFactory();
        }
    }

    private static FiberScheduler scheduler;
    private static final List<Throwable> defaultHandled = new CopyOnWriteArrayList<>();
    private static Thread.UncaughtExceptionHandler previousDefault;

    @BeforeAll
    static void setUp() {
        scheduler = FiberScheduler.create(SchedulerConfig.builder().name("uncaught").parallelism(2).build());
        previousDefault = Thread.getDefaultUncaughtExceptionHandler();
        // the JDK's default path (thread group -> default handler), observed without printing
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> defaultHandled.add(e));
    }

    @AfterAll
    static void tearDown() {
        Thread.setDefaultUncaughtExceptionHandler(previousDefault);
        scheduler.close();
    }

    private static Runnable failing(RuntimeException e) {
        return () -> { throw e; };
    }

    @ParameterizedTest
    @EnumSource(Threads.class)
    void withoutAHandlerTheThreadGroupAnswersAndHandlesTheFailure(Threads threads) throws Exception {
        RuntimeException boom = new RuntimeException("boom " + threads);
        long failedBefore = scheduler.stats().fibersFailed();
        Thread t = threads.factory().newThread(failing(boom));
        assertSame(t.getThreadGroup(), t.getUncaughtExceptionHandler(),
                "with no handler set, the thread group is the handler (the JDK's answer)");
        t.start();
        t.join();
        assertTrue(defaultHandled.contains(boom), "the failure reached the default handler through the group");
        if (threads == Threads.BOBBIN) assertEquals(failedBefore + 1, scheduler.stats().fibersFailed());
    }

    @ParameterizedTest
    @EnumSource(Threads.class)
    void aHandlerTheApplicationSetsGetsTheFailureAndBobbinStillCountsIt(Threads threads) throws Exception {
        RuntimeException boom = new RuntimeException("boom2 " + threads);
        List<Throwable> mine = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler handler = (th, e) -> mine.add(e);
        long failedBefore = scheduler.stats().fibersFailed();
        Thread t = threads.factory().newThread(failing(boom));
        t.setUncaughtExceptionHandler(handler);
        assertSame(handler, t.getUncaughtExceptionHandler());
        t.start();
        t.join();
        assertEquals(List.of(boom), mine, "the application's handler saw exactly the failure");
        assertFalse(defaultHandled.contains(boom), "a thread's own handler replaces the group's path");
        if (threads == Threads.BOBBIN) {
            assertEquals(failedBefore + 1, scheduler.stats().fibersFailed(), "counted although the handler is the application's");
        }
    }

    @ParameterizedTest
    @EnumSource(Threads.class)
    void aFiberThatCompletesNormallyIsNotAFailure(Threads threads) throws Exception {
        long failedBefore = scheduler.stats().fibersFailed();
        Thread t = threads.factory().newThread(() -> { });
        t.start();
        t.join();
        if (threads == Threads.BOBBIN) assertEquals(failedBefore, scheduler.stats().fibersFailed());
    }
}
