package dev.bobbin.scheduler;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stall WARNING's "where": the stalled fiber's top frame, plus the first frame of the calling code
 * when the top one is the JDK's (a spin loop caught inside {@code System.nanoTime} must still name the
 * loop).
 */
class StallWhereTest {
    private static final StackTraceElement NANO_TIME =
            new StackTraceElement(null, "java.base", null, "java.lang.System", "nanoTime", null, -2);
    private static final StackTraceElement LOCK_SUPPORT =
            new StackTraceElement(null, "java.base", null, "java.util.concurrent.locks.LockSupport", "park", "LockSupport.java", 371);
    private static final StackTraceElement APP =
            new StackTraceElement("app", null, null, "com.example.Spinner", "spin", "Spinner.java", 12);
    private static final StackTraceElement MAIN =
            new StackTraceElement("app", null, null, "com.example.Main", "run", "Main.java", 3);

    @Test
    void aJdkTopFrameIsFollowedByTheFirstFrameOfTheCallingCode() {
        String where = StallMonitor.where(new StackTraceElement[] {NANO_TIME, LOCK_SUPPORT, APP, MAIN});
        assertEquals(" at " + NANO_TIME + ", in " + APP, where);
    }

    @Test
    void anApplicationTopFrameIsNamedAlone() {
        assertEquals(" at " + APP, StallMonitor.where(new StackTraceElement[] {APP, MAIN}));
    }

    @Test
    void aStackOfJdkFramesOnlyOrNoStackAtAll() {
        assertEquals(" at " + NANO_TIME, StallMonitor.where(new StackTraceElement[] {NANO_TIME, LOCK_SUPPORT}));
        assertEquals("", StallMonitor.where(new StackTraceElement[0]));
    }
}
