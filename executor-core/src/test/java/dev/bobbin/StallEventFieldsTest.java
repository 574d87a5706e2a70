package dev.bobbin;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/** The dev.bobbin.CarrierStall event's "Fiber Name" field carries the fiber's name, as the DEBUG line does. */
class StallEventFieldsTest {
    @Test
    void theFiberNameFieldIsTheFibersName() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        try (Recording recording = new Recording()) {
            recording.enable("dev.bobbin.CarrierStall");
            recording.start();
            Thread hog;
            try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("named-hog").parallelism(1)
                    .stallThreshold(Duration.ofMillis(50)).build())) {
                CountDownLatch hogging = new CountDownLatch(1);
                hog = s.ofVirtual().name("cruncher").start(() -> {
                    hogging.countDown();
                    StallProtectionTest.spinUntilReleased(release, System.nanoTime() + 400_000_000L);
                });
                hogging.await();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (s.pool().monitor.reportsDone() < 1) {
                    assertTrue(System.nanoTime() < deadline, "a stall reported");
                    Thread.sleep(5);
                }
                release.set(true);
                hog.join();
            }
            recording.stop();
            Path file = Files.createTempFile("bobbin-stall", ".jfr");
            try {
                recording.dump(file);
                List<RecordedEvent> events = RecordingFile.readAllEvents(file);
                assertFalse(events.isEmpty(), "a CarrierStall event recorded");
                for (RecordedEvent e : events) {                  // the stall may be reported more than once
                    assertEquals("cruncher", e.getThread("fiber").getJavaName(), "the fiber field");
                    assertEquals("cruncher", e.getString("fiberName"), "the Fiber Name field");
                }
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }
}
