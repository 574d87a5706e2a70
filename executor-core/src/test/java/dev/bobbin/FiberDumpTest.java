package dev.bobbin;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static dev.bobbin.TelemetryTest.await;
import static org.junit.jupiter.api.Assertions.*;

class FiberDumpTest {

    /** A distinctive frame to look for in the dump. */
    static void parkInDistinctiveFrame(CountDownLatch parked, AtomicBoolean release) {
        parked.countDown();
        while (!release.get()) LockSupport.park();
    }

    static void spinInDistinctiveFrame(CountDownLatch spinning, AtomicBoolean release) {
        spinning.countDown();
        while (!release.get()) Thread.onSpinWait();
    }

    @Test
    void listsAParkedFiberWithItsStackAsTextAndJson() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump").parallelism(2)
                .trackFibers(true).build())) {
            CountDownLatch parked = new CountDownLatch(1);
            AtomicBoolean release = new AtomicBoolean();
            Thread fiber = s.ofVirtual().name("sleepy \"one\"").start(() -> parkInDistinctiveFrame(parked, release));
            parked.await();
            await("fiber parked", () -> fiber.getState() == Thread.State.WAITING);
            LockSupport.parkNanos(5_000_000);

            FiberDump dump = s.dumpFibers();
            assertTrue(dump.complete());
            assertEquals("dump", dump.schedulerName());
            FiberDump.Entry e = dump.fibers().stream().filter(x -> x.id() == fiber.threadId()).findFirst()
                    .orElseThrow(() -> new AssertionError("parked fiber missing from " + dump.toText()));
            assertEquals("sleepy \"one\"", e.name());
            assertEquals(Thread.State.WAITING, e.state());
            assertEquals(-1, e.carrier(), "a parked fiber is on no carrier");
            assertTrue(e.sinceLastRunNanos() >= 5_000_000L, "since last run: " + e.sinceLastRunNanos());
            assertTrue(e.stackTrace().stream().anyMatch(f -> f.getMethodName().equals("parkInDistinctiveFrame")),
                    "stack: " + e.stackTrace());

            String text = dump.toText();
            assertTrue(text.contains("\"sleepy \"one\"\" #" + fiber.threadId() + " WAITING"), text);
            assertTrue(text.contains("parkInDistinctiveFrame"), text);
            String json = dump.toJson();
            assertTrue(json.contains("\"name\":\"sleepy \\\"one\\\"\""), json);
            assertTrue(json.contains("\"id\":" + fiber.threadId() + ",\"state\":\"WAITING\",\"carrier\":null"), json);
            assertTrue(json.contains("FiberDumpTest.parkInDistinctiveFrame("), json);
            assertTrue(json.startsWith("{\"scheduler\":\"dump\"") && json.endsWith("]}"), json);

            release.set(true);
            LockSupport.unpark(fiber);
            fiber.join();
            await("registry emptied", () -> s.dumpFibers().fibers().isEmpty());
        }
    }

    @Test
    void withoutTrackingListsEveryFiberButNoLastRunTime() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump2").parallelism(2).build())) {
            CountDownLatch parked = new CountDownLatch(1), spinning = new CountDownLatch(1);
            AtomicBoolean release = new AtomicBoolean();
            Thread sleeper = s.start(() -> parkInDistinctiveFrame(parked, release));
            Thread spinner = s.start(() -> spinInDistinctiveFrame(spinning, release));
            parked.await();
            spinning.await();
            FiberDump dump = s.dumpFibers();
            assertFalse(dump.complete());
            FiberDump.Entry parkedEntry = dump.fibers().stream().filter(x -> x.id() == sleeper.threadId()).findFirst()
                    .orElseThrow(() -> new AssertionError("parked fiber missing from " + dump.toText()));
            assertEquals(-1, parkedEntry.sinceLastRunNanos());
            assertTrue(parkedEntry.stackTrace().stream().anyMatch(f -> f.getMethodName().equals("parkInDistinctiveFrame")));
            FiberDump.Entry e = dump.fibers().stream().filter(x -> x.id() == spinner.threadId()).findFirst()
                    .orElseThrow(() -> new AssertionError("mounted fiber missing from " + dump.toText()));
            assertTrue(e.carrier() >= 0 && e.carrier() < 2);
            assertEquals(-1, e.sinceLastRunNanos());
            assertTrue(e.stackTrace().stream().anyMatch(f -> f.getMethodName().equals("spinInDistinctiveFrame")));
            assertTrue(dump.toText().contains("on carrier " + e.carrier()));
            release.set(true);
            LockSupport.unpark(sleeper);
            sleeper.join();
            spinner.join();
        }
    }

    /**
     * A carrier frozen while it holds part of the live-fiber registry (a debugger) cannot hang a fiber
     * dump: the dump leaves that part out, lists the rest and says it is partial. Its broken twin, a dump
     * that waits for every stripe, is still blocked when this one has long returned.
     */
    @Test
    void aDumpDoesNotWaitForAStripeAFrozenCarrierHolds() throws Exception {
        try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("dump3").parallelism(2).build())) {
            CountDownLatch parked = new CountDownLatch(40);
            AtomicBoolean release = new AtomicBoolean();
            java.util.List<Thread> fibers = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) fibers.add(s.start(() -> parkInDistinctiveFrame(parked, release)));
            parked.await();
            Thread held = fibers.get(0);
            Runnable unlock = dev.bobbin.scheduler.RegistryStripes.hold(s.registry(), held);
            java.util.concurrent.atomic.AtomicReference<FiberDump> dump = new java.util.concurrent.atomic.AtomicReference<>();
            Thread blockingTwin = Thread.ofPlatform().daemon().start(() -> s.registry().snapshot(new java.util.ArrayList<>(), null));
            try {
                Thread dumper = Thread.ofPlatform().start(() -> dump.set(s.dumpFibers()));
                dumper.join(30_000);
                assertFalse(dumper.isAlive(), "the dump waited for the held stripe");
                FiberDump d = dump.get();
                assertTrue(d.partial());
                assertTrue(d.fibers().stream().noneMatch(e -> e.id() == held.threadId()), "the held stripe's fibers are left out");
                long listed = fibers.stream().filter(f -> d.fibers().stream().anyMatch(e -> e.id() == f.threadId())).count();
                assertTrue(listed > 0 && listed < fibers.size(), "the other stripes' fibers are listed: " + listed);
                assertTrue(d.toText().contains("(partial:"), d.toText());
                assertTrue(d.toJson().contains("\"partial\":true"), d.toJson());
                assertTrue(blockingTwin.isAlive(), "the blocking twin returned while the stripe was held");
            } finally {
                unlock.run();
            }
            blockingTwin.join(30_000);
            FiberDump after = s.dumpFibers();
            assertFalse(after.partial());
            assertTrue(after.toJson().contains("\"partial\":false"));
            for (Thread f : fibers) {
                assertTrue(after.fibers().stream().anyMatch(e -> e.id() == f.threadId()), "fiber " + f + " listed again");
            }
            release.set(true);
            for (Thread f : fibers) LockSupport.unpark(f);
            for (Thread f : fibers) f.join();
        }
    }
}
