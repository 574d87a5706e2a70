package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** A capsule whose owner ended without handing it over must not be lost: claim() takes it. */
@Timeout(60)
class ConfinedOwnerDeathTest {

    @Test
    void aCapsuleWhoseOwnerTerminatedCanBeClaimed() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("confined-death").parallelism(2).build())) {
            AtomicReference<Confined<List<String>>> capsule = new AtomicReference<>();
            Thread owner = s.start(() -> {
                Confined<List<String>> c = Confined.of(new ArrayList<>());
                c.use(l -> l.add("written by the owner"));
                capsule.set(c);                                 // and ends without transferTo or release
            });
            owner.join();
            Confined<List<String>> c = capsule.get();
            assertTrue(c.claim(), "the owner " + owner + " is terminated, yet the capsule cannot be claimed: " + c);
            assertEquals(List.of("written by the owner"), c.get());
        }
    }

    @Test
    void aLiveOrUnstartedOwnerKeepsTheCapsule() throws Exception {
        Thread unstarted = Thread.ofVirtual().unstarted(() -> { });
        Confined<Object> c = Confined.of(new Object());
        c.transferTo(unstarted);
        assertFalse(c.claim(), "an owner that has not started yet keeps the capsule");

        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread live = Thread.ofVirtual().start(() -> {
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Confined<Object> held = Confined.of(new Object());
        held.transferTo(live);
        assertFalse(held.claim(), "a live owner keeps the capsule");
        done.countDown();
        live.join();
        assertTrue(held.claim(), "and gives it up by terminating");
    }
}
