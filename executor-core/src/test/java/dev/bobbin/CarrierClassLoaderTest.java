package dev.bobbin;

import dev.bobbin.spi.CarrierDriverFactory;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Carriers use the system class loader as their context loader, as the JDK's default scheduler's carriers
 * do, whatever loader the thread that created the scheduler (or woke a spare) had: a carrier must not keep
 * an application's loader (a redeployed web application's, say) reachable. (A carrier is a
 * {@code ForkJoinWorkerThread} that does not preserve thread locals, which the JDK gives the system loader.)
 * Fibers inherit their creator's loader, as JDK virtual threads do.
 */
class CarrierClassLoaderTest {

    @Test
    void carriersUseTheSystemLoaderAndFibersTheirCreators() throws Exception {
        ClassLoader app = new URLClassLoader("app", new URL[0], ClassLoader.getSystemClassLoader());
        Set<ClassLoader> carrierLoaders = ConcurrentHashMap.newKeySet();
        CarrierDriverFactory recording = ctx -> {
            carrierLoaders.add(Thread.currentThread().getContextClassLoader());   // open runs on the carrier
            return CarrierDriverFactory.parking().open(ctx);
        };
        AtomicReference<FiberScheduler> created = new AtomicReference<>();
        Thread creator = Thread.ofPlatform().unstarted(() -> created.set(FiberScheduler.create(
                SchedulerConfig.builder().name("ccl").parallelism(2).driverFactory(recording).build())));
        creator.setContextClassLoader(app);
        creator.start();
        creator.join();
        try (FiberScheduler s = created.get()) {
            assertEquals(Set.of(ClassLoader.getSystemClassLoader()), carrierLoaders, "the carriers' context loaders");
            AtomicReference<ClassLoader> inFiber = new AtomicReference<>();
            Thread starter = Thread.ofPlatform().unstarted(() -> {
                Thread f = s.start(() -> inFiber.set(Thread.currentThread().getContextClassLoader()));
                try {
                    assertTrue(f.join(Duration.ofSeconds(10)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            starter.setContextClassLoader(app);
            starter.start();
            starter.join();
            assertSame(app, inFiber.get(), "a fiber has its creator's loader, as a JDK virtual thread does");
        }
    }
}
