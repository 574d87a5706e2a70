package dev.bobbin;

import dev.bobbin.scheduler.StealBurstEvent;
import dev.bobbin.scheduler.Tunables;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StealBurstEventTest {

    /**
     * One fiber fans out short CPU-bound children on its carrier; fewer than a local queue holds, so none
     * spill to the injection queue and the other carrier can only get them by stealing.
     */
    static void skewedFanOut(FiberScheduler s, int children) throws InterruptedException {
        s.start(() -> {
            List<Thread> kids = new ArrayList<>();
            for (int i = 0; i < children; i++) {
                kids.add(s.ofVirtual().start(() -> {
                    long t0 = System.nanoTime();
                    while (System.nanoTime() - t0 < 300_000) Thread.onSpinWait();
                }));
            }
            for (Thread k : kids) {
                try {
                    k.join();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }
        }).join();
    }

    @Test
    void aLargeStealIsRecordedAsAJfrEvent(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("steals.jfr");
        try (Recording recording = new Recording();
             FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("jfr").parallelism(2).build())) {
            recording.enable(StealBurstEvent.NAME);
            recording.start();
            skewedFanOut(s, 200);
            recording.stop();
            recording.dump(file);
            assertTrue(s.stats().stolenTasks() >= Tunables.STEAL_BURST_MIN_FIBERS, "the load was skewed enough");
        }
        List<RecordedEvent> bursts = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.bobbin.StealBurst")).toList();
        assertFalse(bursts.isEmpty(), "no steal-burst event recorded");
        for (RecordedEvent e : bursts) {
            assertEquals("jfr", e.getString("scheduler"));
            assertTrue(e.getInt("fibersMoved") >= Tunables.STEAL_BURST_MIN_FIBERS);
            assertNotEquals(e.getInt("thief"), e.getInt("victim"));
            assertTrue(e.getInt("victimQueueLeft") >= 0);
        }
    }
}
