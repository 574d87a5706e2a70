package dev.bobbin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A carrier-local value "lives as long as the carrier", "like a ThreadLocal": once the carrier threads
 * have exited (the scheduler terminated), the values must not stay reachable through the scheduler, as
 * a ThreadLocal value is not reachable through its terminated Thread (JDK control).
 */
@Timeout(60)
class CarrierLocalReleaseTest {

    private static boolean collected(WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return ref.get() == null;
    }

    @Test
    void jdkControlThreadLocalValueIsCollectableOnceItsThreadEnded() throws Exception {
        ThreadLocal<byte[]> tl = new ThreadLocal<>();
        AtomicReference<WeakReference<byte[]>> ref = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            byte[] v = new byte[1 << 20];
            tl.set(v);
            ref.set(new WeakReference<>(v));
        });
        t.join();
        assertTrue(collected(ref.get()), "the JDK drops a terminated thread's ThreadLocal values");
        Reference.reachabilityFence(t);
        Reference.reachabilityFence(tl);
    }

    @Test
    void carrierLocalValuesAreCollectableOnceTheSchedulerTerminated() throws Exception {
        List<WeakReference<byte[]>> refs = new CopyOnWriteArrayList<>();
        CarrierLocal<byte[]> local = CarrierLocal.withInitial(() -> {
            byte[] v = new byte[1 << 20];
            refs.add(new WeakReference<>(v));
            return v;
        });
        FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("local-release").parallelism(2).build());
        s.start(() -> local.with(v -> v.length)).join();
        s.close();
        assertTrue(s.isTerminated());
        assertFalse(refs.isEmpty());
        for (WeakReference<byte[]> r : refs) {
            assertTrue(collected(r), "a carrier-local value is still reachable after its carrier exited: " + s);
        }
        Reference.reachabilityFence(s);
        Reference.reachabilityFence(local);
    }
}
