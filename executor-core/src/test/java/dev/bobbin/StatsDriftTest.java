package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(120)
class StatsDriftTest {
    @Test
    void fiberParksNeverGoesNegative() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("drift").parallelism(2).build())) {
            int n = 300_000;
            CountDownLatch done = new CountDownLatch(n);
            AtomicBoolean stop = new AtomicBoolean();
            long[] min = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
            String[] worst = new String[1];
            Thread reader = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    SchedulerStats st = s.stats();
                    if (st.fiberParks() < min[0]) { min[0] = st.fiberParks(); worst[0] = st.toString(); }
                    min[1] = Math.min(min[1], st.liveFibers());
                    for (var c : st.carriers()) min[2] = Math.min(min[2], c.tasksRun() - c.fibersCompleted());
                }
            });
            for (int i = 0; i < n; i++) s.start(done::countDown);
            assertTrue(done.await(60, TimeUnit.SECONDS));
            stop.set(true);
            reader.join();
            assertTrue(min[0] >= 0, "fiberParks went to " + min[0] + ": " + worst[0]);
            assertTrue(min[1] >= 0, "liveFibers went to " + min[1]);
            assertTrue(min[2] >= 0, "a carrier's runs minus completions went to " + min[2]);
        }
    }
}
