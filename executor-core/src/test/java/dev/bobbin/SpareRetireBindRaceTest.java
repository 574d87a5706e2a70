package dev.bobbin;

import dev.bobbin.scheduler.Carrier;
import dev.bobbin.scheduler.CarrierPool;
import dev.bobbin.spi.CarrierContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fiber bound to a spare carrier just as that spare retires must still run. The window: a fiber on the
 * spare enters {@code CarrierLocal.with}, which takes the spare as its home and then records the binding;
 * if recording it blocks (a contended bin of the bindings map, where the JDK unmounts the fiber), the
 * spare runs out of work and retires with no fiber bound yet, and the fiber, resumed elsewhere, queues
 * itself in the retired spare's inbox. The test holds that map bin's lock (through the map's internals:
 * it is the only point in the window where a fiber can block) until the spare has retired.
 */
@Timeout(120)
class SpareRetireBindRaceTest {
    @Test
    void fiberBoundToASpareThatRetiresStillRuns() throws Exception {
        FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("race").parallelism(1)
                .stallThreshold(Duration.ofMillis(20)).maxSpareCarriers(1).build());
        CarrierPool pool = scheduler.pool();
        Carrier spare = pool.carriers[1];
        AtomicBoolean release = new AtomicBoolean();
        CountDownLatch hogging = new CountDownLatch(1);
        Thread hog = scheduler.start(() -> { hogging.countDown(); StallProtectionTest.spinUntilReleased(release); });
        hogging.await();

        CarrierLocal<Object> local = CarrierLocal.withInitial(Object::new);
        AtomicBoolean ranOnSpare = new AtomicBoolean();
        CountDownLatch withRan = new CountDownLatch(1);
        Thread f = scheduler.threadFactory().newThread(() -> {
            ranOnSpare.set(CarrierContext.current().isSpare());
            local.with(v -> { withRan.countDown(); return "x"; });
        });

        // a dummy key in the bin F's key maps to, then hold that bin's lock
        Field bf = CarrierPool.class.getDeclaredField("bindings");
        bf.setAccessible(true);
        @SuppressWarnings("unchecked") ConcurrentHashMap<Thread, Carrier> bindings = (ConcurrentHashMap<Thread, Carrier>) bf.get(pool);
        bindings.put(Thread.ofVirtual().unstarted(() -> { }), pool.carriers[0]);  // initialise the table
        Field tf = ConcurrentHashMap.class.getDeclaredField("table");
        tf.setAccessible(true);
        Object[] table = (Object[]) tf.get(bindings);
        int n = table.length;
        int bin = spread(f.hashCode()) & (n - 1);
        bindings.clear();
        Thread dummy;
        do { dummy = Thread.ofVirtual().unstarted(() -> { }); } while ((spread(dummy.hashCode()) & (n - 1)) != bin);
        bindings.put(dummy, pool.carriers[0]);
        Object head = ((Object[]) tf.get(bindings))[bin];
        assertNotNull(head);

        synchronized (head) {
            f.start();                                   // injected: only the spare can run it
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (f.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) Thread.sleep(1);
            assertEquals(Thread.State.BLOCKED, f.getState(), "F did not block in bindings.put");
            release.set(true);
            hog.join();
            while (!spareRetired(spare) && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(5)) Thread.sleep(1);
            assertTrue(spareRetired(spare), "spare did not retire");
        }
        bindings.remove(dummy);
        boolean ran = withRan.await(5, TimeUnit.SECONDS);
        assertTrue(ranOnSpare.get(), "F did not start on the spare");
        String diag = "spare retired=" + spareRetired(spare) + " inbox=" + spare.inbox.size()
                + " homeOfF=" + (pool.homeOf(f) == null ? null : pool.homeOf(f).getName());
        if (!ran) {
            scheduler.shutdown();
            boolean term = scheduler.awaitTermination(Duration.ofSeconds(2));
            fail("bound fiber lost in a retired spare's inbox: " + diag + " terminatedAfterShutdown=" + term);
        }
        f.join();
        scheduler.close();
    }

    private static boolean spareRetired(Carrier c) { return c.everStarted() && !c.isActiveSpare(); }

    private static int spread(int h) { return (h ^ (h >>> 16)) & 0x7fffffff; }
}
