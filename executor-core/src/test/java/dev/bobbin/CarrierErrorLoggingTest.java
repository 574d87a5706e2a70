package dev.bobbin;

import dev.bobbin.spi.CarrierDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.bobbin.SchedulingPolicyTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The default carrier error handler reports through {@code System.Logger} (logger {@code dev.bobbin}, level
 * ERROR, the throwable attached), not on {@code System.err}: provoked with a driver whose stall notice
 * throws, observed through the JDK logging backend that {@code System.Logger} uses by default.
 */
class CarrierErrorLoggingTest {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger("dev.bobbin");
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { records.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    };
    private boolean previousUseParent;

    @BeforeEach
    void capture() {
        previousUseParent = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);                   // keep the expected errors out of the build log
        logger.addHandler(capture);
    }

    @AfterEach
    void release() {
        logger.removeHandler(capture);
        logger.setUseParentHandlers(previousUseParent);
    }

    /** A parking driver whose {@link #carrierStalled()} fails, as a faulty I/O backend's might. */
    private static final class FailingStallNoticeDriver implements CarrierDriver {
        private final Thread carrier;

        FailingStallNoticeDriver(Thread carrier) { this.carrier = carrier; }

        @Override public int poll() { return 0; }
        @Override public void park(long t) { if (t < 0) LockSupport.park(); else LockSupport.parkNanos(t); }
        @Override public void wakeup() { LockSupport.unpark(carrier); }
        @Override public void close() { }
        @Override public void carrierStalled() { throw new IllegalStateException("stall notice failed"); }
    }

    @Test
    void theDefaultHandlerLogsCarrierErrorsAtErrorOnDevBobbinAndWritesNothingToStderr() throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("faulty").parallelism(1)
                .stallThreshold(Duration.ofMillis(200)).maxSpareCarriers(0)
                .driverFactory(ctx -> new FailingStallNoticeDriver(ctx.carrierThread())).build())) {
            s.start(() -> {                                   // holds the carrier past the time slice
                long end = System.nanoTime() + 100_000_000L;
                while (System.nanoTime() < end) Thread.onSpinWait();
            }).join();
            waitUntil(() -> records.stream().anyMatch(r -> r.getLevel() == Level.SEVERE));
        } finally {
            System.setErr(stderr);
        }
        LogRecord error = records.stream().filter(r -> r.getLevel() == Level.SEVERE).findFirst().orElseThrow();
        assertTrue(error.getMessage().contains("error on carrier"), error.getMessage());
        assertInstanceOf(IllegalStateException.class, error.getThrown());
        assertEquals("stall notice failed", error.getThrown().getMessage());
        assertEquals("", err.toString(StandardCharsets.UTF_8), "nothing on System.err");
    }
}
