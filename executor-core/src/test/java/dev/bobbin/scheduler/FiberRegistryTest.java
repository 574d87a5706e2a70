package dev.bobbin.scheduler;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class FiberRegistryTest {

    private static List<Thread> unstarted(int n) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) threads.add(Thread.ofVirtual().unstarted(() -> { }));
        return threads;
    }

    /** {@code stamped}: with last-run times (trackFibers) or without (the default). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void matchesAReferenceSetUnderRandomAddsAndRemoves(boolean stamped) {
        FiberRegistry r = new FiberRegistry(1, stamped);
        List<Thread> pool = unstarted(2_000);
        Set<Thread> reference = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Random rnd = new Random(42);
        for (int step = 0; step < 60_000; step++) {
            Thread t = pool.get(rnd.nextInt(pool.size()));
            // phases bias towards growth then shrinkage, so tables both grow and shrink
            boolean add = (step / 10_000) % 2 == 0 ? rnd.nextInt(4) != 0 : rnd.nextInt(4) == 0;
            if (add) {
                if (reference.add(t)) r.add(t, step);
            } else {
                assertEquals(reference.remove(t), r.remove(t), "remove reports presence at step " + step);
            }
            if (step % 997 == 0) {
                assertEquals(reference.size(), r.size(), "size at step " + step);
                assertEquals(reference, identitySet(r.fibers()), "members at step " + step);
            }
        }
        for (Thread t : new ArrayList<>(reference)) r.remove(t);
        assertEquals(0, r.size());
    }

    /**
     * Fibers with consecutive thread ids in one run share a stripe (so the carrier that ends a batch of
     * them finds the stripe on its own cache lines), and runs spread over the stripes.
     */
    @Test
    void consecutiveIdsShareAStripeRunByRunAndRunsSpread() {
        FiberRegistry r = new FiberRegistry(2, false);
        int run = Tunables.FIBER_REGISTRY_STRIPE_RUN;
        Map<Long, Set<Integer>> stripesOfRun = new HashMap<>();
        Set<Integer> used = new HashSet<>();
        for (Thread t : unstarted(64 * run)) {
            int stripe = r.stripeIndex(t);
            stripesOfRun.computeIfAbsent(t.threadId() / run, k -> new HashSet<>()).add(stripe);
            used.add(stripe);
        }
        stripesOfRun.forEach((k, stripes) -> assertEquals(1, stripes.size(), "run " + k + " spans stripes " + stripes));
        assertTrue(used.size() > 1, "64 runs all on one stripe: " + used);
    }

    /**
     * Inside its stripe a run takes a block of consecutive slots, in id order, so the adds and removals
     * of a run's fibers meet the same cache line. Blocks of different runs may meet and push one another
     * along (linear probing), so the check asks it of most runs, not all; slots picked per fiber would
     * give almost none.
     */
    @Test
    void aRunsFibersTakeConsecutiveSlotsOfItsStripe() {
        FiberRegistry r = new FiberRegistry(2, false);
        int run = Tunables.FIBER_REGISTRY_STRIPE_RUN;
        Map<Long, List<Thread>> runs = new HashMap<>();
        for (Thread t : unstarted(64 * run + run)) runs.computeIfAbsent(t.threadId() / run, k -> new ArrayList<>()).add(t);
        runs.values().removeIf(members -> members.size() < run);            // the partial runs at both ends
        runs.values().forEach(members -> members.forEach(t -> r.add(t, 0)));
        int consecutive = 0;
        for (List<Thread> members : runs.values()) {
            int first = r.slotIndex(members.get(0));
            boolean inOrder = true;
            for (int k = 1; k < members.size(); k++) inOrder &= r.slotIndex(members.get(k)) == first + k;
            if (inOrder) consecutive++;
        }
        assertTrue(consecutive * 2 >= runs.size(), consecutive + " of " + runs.size() + " runs in consecutive slots");
        for (List<Thread> members : runs.values()) members.forEach(t -> assertTrue(r.remove(t)));
        assertEquals(0, r.size());
    }

    /**
     * Batches that fill and drain the registry again and again (an invokeAll loop) keep the tables their
     * peak needs: a table that shrank at every trough would grow again, moving every entry, at every batch.
     */
    @Test
    void batchesThatRiseAndFallKeepTheTablesTheirPeakNeeds() {
        FiberRegistry r = new FiberRegistry(1, false);
        List<Thread> batch = unstarted(2_000);
        int sized = -1;
        for (int round = 0; round < 8; round++) {
            for (Thread t : batch) r.add(t, 0);
            int atPeak = r.capacity();
            for (Thread t : batch) assertTrue(r.remove(t));
            assertEquals(0, r.size());
            if (round == 0) {
                sized = atPeak;
                assertTrue(sized >= 4_000, "tables hold the peak at 1/2 load at most: " + sized);
            }
            assertEquals(sized, atPeak, "capacity at the peak of round " + round);
            assertEquals(sized, r.capacity(), "capacity at the trough of round " + round);
        }
    }

    /** Tables left large by a spike shrink back once fibers turn over again. */
    @Test
    void tablesLeftLargeByASpikeShrinkOnceFibersTurnOverAgain() {
        FiberRegistry r = new FiberRegistry(1, false);
        int initial = r.capacity();
        List<Thread> spike = addSpike(r, 20_000);
        assertTrue(r.capacity() >= 40_000, "grown: " + r.capacity());
        for (Thread t : spike) assertTrue(r.remove(t));
        int grown = r.capacity();
        assertEquals(grown, capacityAfterATrickle(r, 200), "a few removals at the low load shrink nothing");
        // short-lived fibers over every stripe: two windows of half a table's removals each, at a low load
        assertEquals(initial, capacityAfterATrickle(r, 200_000), "every stripe back to its initial table");
        assertEquals(0, r.size());
    }

    @Test
    void theMonitorsPassGivesBackTablesADrainedSpikeLeftAndKeepsThoseOfARepeatingLoad() {
        FiberRegistry r = new FiberRegistry(1, false);
        int initial = r.capacity();
        List<Thread> spike = addSpike(r, 20_000);
        int grown = r.capacity();
        r.trimIdle();
        assertEquals(grown, r.capacity(), "a pass leaves a table whose load is high");
        List<Thread> stay = spike.subList(0, 12);
        for (Thread t : spike.subList(stay.size(), spike.size())) assertTrue(r.remove(t));
        assertEquals(grown, r.capacity(), "the drain's own windows peaked at the spike: nothing shrank yet");
        r.trimIdle();   // then quiet: one drain is not a repeating load, and the memory goes back at once
        assertTrue(r.capacity() <= 2 * initial, "trimmed to fit the " + stay.size() + " left: " + r.capacity());
        assertEquals(stay.size(), r.size());
        for (Thread t : stay) assertTrue(r.remove(t), "every fiber still found after the trim");

        // batches that rise and fall again and again between two passes keep their tables
        List<Thread> batch = unstarted(2_000);
        for (int round = 0; round < 5; round++) {
            for (Thread t : batch) r.add(t, 0);
            for (Thread t : batch) assertTrue(r.remove(t));
        }
        int sized = r.capacity();
        assertTrue(sized >= 4_000, "grown for the batches: " + sized);
        r.trimIdle();
        assertEquals(sized, r.capacity(), "a stripe that turned over half its table since the last pass is kept");
        r.trimIdle();
        assertEquals(initial, r.capacity(), "once the batches stop, the next pass gives the tables back");
        assertEquals(0, r.size());
    }

    /** Adds {@code n} new unstarted fibers at once and returns them. */
    private static List<Thread> addSpike(FiberRegistry r, int n) {
        List<Thread> spike = unstarted(n);
        for (Thread t : spike) r.add(t, 0);
        return spike;
    }

    /**
     * Adds and removes {@code n} short-lived fibers, one at a time, and returns the capacity. They cycle
     * through 4,000 threads, 250 runs of consecutive ids, so that every stripe sees its share.
     */
    private static int capacityAfterATrickle(FiberRegistry r, int n) {
        List<Thread> trickle = unstarted(4_000);
        for (int i = 0; i < n; i++) {
            Thread t = trickle.get(i % trickle.size());
            r.add(t, 0);
            assertTrue(r.remove(t));
        }
        return r.capacity();
    }

    @Test
    void stampsFollowTheirFiberThroughDeletionsAndResizes() {
        FiberRegistry r = new FiberRegistry(1, true);
        List<Thread> threads = unstarted(500);
        for (int i = 0; i < threads.size(); i++) r.add(threads.get(i), i);
        for (int i = 0; i < threads.size(); i += 2) r.remove(threads.get(i));   // shifts survivors
        for (int i = 1; i < threads.size(); i += 2) r.ran(threads.get(i), 10_000 + i);
        List<Thread> fibers = new ArrayList<>();
        List<Long> stamps = new ArrayList<>();
        r.snapshot(fibers, stamps);
        assertEquals(250, fibers.size());
        for (int k = 0; k < fibers.size(); k++) {
            int i = threads.indexOf(fibers.get(k));
            assertEquals(1, i % 2, "only survivors remain");
            assertEquals(10_000 + i, stamps.get(k), "stamp of fiber " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void concurrentAddsAndRemovesLoseNothing(boolean stamped) throws Exception {
        FiberRegistry r = new FiberRegistry(4, stamped);
        int threads = 4, perThread = 5_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        List<List<Thread>> kept = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            List<Thread> mine = unstarted(perThread);
            List<Thread> keep = new ArrayList<>();
            kept.add(keep);
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < mine.size(); i++) {
                        r.add(mine.get(i), i);
                        if (i % 3 != 0) r.remove(mine.get(i)); else keep.add(mine.get(i));
                        if (i % 5 == 0) r.ran(mine.get(i), i);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) w.join();
        assertNull(failure.get());
        Set<Thread> expected = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        kept.forEach(expected::addAll);
        assertEquals(expected, identitySet(r.fibers()));
    }

    /** An owner that counts the exits it hears of, per fiber. */
    private static final class CountingOwner implements FiberRegistry.Owner {
        final java.util.Map<Thread, Integer> exits = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void exited(Thread fiber) {
            exits.merge(fiber, 1, Integer::sum);
        }
    }

    /**
     * An enrolled fiber keeps its owner through the start's own add, through the shifts of deletions and
     * through resizes; its owner hears of its removal once, an unowned fiber's removal tells no one, and
     * a withdrawal removes without telling.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void ownersFollowTheirFibersAndHearOfEachExitOnce(boolean stamped) {
        FiberRegistry r = new FiberRegistry(1, stamped);
        CountingOwner a = new CountingOwner(), b = new CountingOwner();
        List<Thread> threads = unstarted(3_000);
        for (int i = 0; i < threads.size(); i++) {
            Thread t = threads.get(i);
            switch (i % 3) {
                case 0 -> { r.enrol(t, a); r.add(t, i); }        // enrolled, then the start's add
                case 1 -> r.enrol(t, b);
                default -> r.add(t, i);                          // a fiber no executor owns
            }
        }
        Set<Thread> removed = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < threads.size(); i += 2) {             // shifts survivors, shrinks the tables
            assertTrue(r.remove(threads.get(i)));
            removed.add(threads.get(i));
        }
        Thread withdrawn = threads.get(1);                        // b's, still present
        assertTrue(r.withdraw(withdrawn));
        assertFalse(r.withdraw(withdrawn), "a second withdrawal finds nothing");
        assertFalse(r.remove(withdrawn), "a withdrawn fiber is gone");
        assertFalse(r.withdraw(threads.get(0)), "a removed fiber cannot be withdrawn");

        for (int i = 0; i < threads.size(); i++) {
            Thread t = threads.get(i);
            CountingOwner owner = i % 3 == 0 ? a : i % 3 == 1 ? b : null;
            Integer expected = owner != null && removed.contains(t) ? 1 : null;
            if (owner != null) assertEquals(expected, owner.exits.get(t), "exits heard for fiber " + i);
            CountingOwner other = owner == a ? b : a;
            assertNull(other.exits.get(t), "the other owner heard of fiber " + i);
        }
        List<Thread> ownedByA = new ArrayList<>(), ownedByB = new ArrayList<>();
        r.owned(a, ownedByA);
        r.owned(b, ownedByB);
        Set<Thread> expectA = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Set<Thread> expectB = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < threads.size(); i++) {
            Thread t = threads.get(i);
            if (removed.contains(t) || t == withdrawn) continue;
            if (i % 3 == 0) expectA.add(t);
            if (i % 3 == 1) expectB.add(t);
        }
        assertEquals(expectA, identitySet(ownedByA));
        assertEquals(expectB, identitySet(ownedByB));

        CountingOwner none = new CountingOwner();
        assertTrue(r.holdsAny(a, none) && r.holdsAny(none, b), "each owner still has fibers");
        for (Thread t : expectB) assertTrue(r.withdraw(t));
        assertTrue(r.holdsAny(none, a));
        assertFalse(r.holdsAny(b, none), "b's fibers are all gone");
        assertFalse(r.holdsAny(none, none));
    }

    /** An owner whose callback throws does not take the carrier down: the removal still counts, once. */
    @Test
    void anOwnerThatThrowsIsReportedAndTheRemovalStillCounts() {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.bobbin");
        List<java.util.logging.LogRecord> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { logged.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        boolean useParent = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);                   // keep the run quiet
        logger.addHandler(capture);
        try {
            FiberRegistry r = new FiberRegistry(1, false);
            Thread t = unstarted(1).get(0);
            r.enrol(t, fiber -> { throw new IllegalStateException("owner broke"); });
            assertTrue(r.remove(t), "the removal counts");
            assertFalse(r.remove(t), "once");
            assertEquals(1, logged.size());
            assertEquals(java.util.logging.Level.SEVERE, logged.get(0).getLevel());
            assertEquals("owner broke", logged.get(0).getThrown().getMessage());
        } finally {
            logger.removeHandler(capture);
            logger.setUseParentHandlers(useParent);
        }
    }

    /** Threads enrolling and removing at once: every owned fiber's exit is heard exactly once. */
    @Test
    void concurrentEnrolsAndRemovesTellEachOwnerOnce() throws Exception {
        FiberRegistry r = new FiberRegistry(2, false);
        CountingOwner[] owners = {new CountingOwner(), new CountingOwner()};
        int threads = 4, perThread = 5_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        List<Thread> all = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            List<Thread> mine = unstarted(perThread);
            all.addAll(mine);
            CountingOwner owner = owners[w % 2];
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < mine.size(); i++) {
                        r.enrol(mine.get(i), owner);
                        r.add(mine.get(i), i);
                        if (i >= 100) assertTrue(r.remove(mine.get(i - 100)));
                    }
                    for (int i = mine.size() - 100; i < mine.size(); i++) assertTrue(r.remove(mine.get(i)));
                } catch (Throwable t) {
                    failure.set(t);
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) w.join();
        assertNull(failure.get());
        assertEquals(0, r.size());
        assertEquals(2 * perThread, owners[0].exits.size());
        assertEquals(2 * perThread, owners[1].exits.size());
        for (CountingOwner o : owners) {
            o.exits.forEach((t, n) -> assertEquals(1, n, "exits heard for one fiber"));
        }
    }

    private static Set<Thread> identitySet(List<Thread> list) {
        Set<Thread> s = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        s.addAll(list);
        assertEquals(list.size(), s.size(), "no fiber listed twice");
        return s;
    }


    /**
     * A dump's reads never wait on a stripe whose lock stays held (a carrier frozen by a debugger): they
     * leave that stripe's fibers out, say so, and list the rest; the owner's list likewise. A plain read
     * waits for the lock, so the dump must not use it.
     */
    @Test
    void aDumpLeavesOutAStripeWhoseLockStaysHeldAndListsTheRest() throws Exception {
        FiberRegistry r = new FiberRegistry(2, false);
        FiberRegistry.Owner owner = fiber -> { };
        List<Thread> fibers = unstarted(200);
        for (Thread t : fibers) r.enrol(t, owner);
        Runnable release = r.holdStripeOf(fibers.get(0));
        try {
            AtomicReference<List<Thread>> live = new AtomicReference<>(), owned = new AtomicReference<>();
            AtomicReference<Boolean> liveComplete = new AtomicReference<>(), ownedComplete = new AtomicReference<>();
            Thread dumper = Thread.ofPlatform().start(() -> {
                List<Thread> l = new ArrayList<>(), o = new ArrayList<>();
                liveComplete.set(r.liveForDump(l));
                ownedComplete.set(r.ownedForDump(owner, o));
                live.set(l);
                owned.set(o);
            });
            dumper.join(30_000);
            assertFalse(dumper.isAlive(), "the dump waited on the held stripe");
            assertFalse(liveComplete.get());
            assertFalse(ownedComplete.get());
            assertFalse(live.get().contains(fibers.get(0)), "the held stripe's fibers are left out");
            assertTrue(live.get().size() > 0 && live.get().size() < fibers.size(), "the other stripes are listed: " + live.get().size());
            assertEquals(identitySet(live.get()), identitySet(owned.get()));
        } finally {
            release.run();
        }
        List<Thread> all = new ArrayList<>();
        assertTrue(r.liveForDump(all));
        assertEquals(identitySet(fibers), identitySet(all));
    }

    /**
     * The claim of a completion, raced: two carriers that both saw a fiber terminate remove it at the same
     * moment, or an executor withdraws a fiber whose start failed while a carrier removes it. Exactly one
     * of the two gets true per fiber, and the owner hears of the exit exactly when a remove won.
     */
    @Test
    void racingClaimsOfOneFiberHaveExactlyOneWinner() throws Exception {
        for (int round = 0; round < 5; round++) racingClaims();
    }

    private static void racingClaims() throws Exception {
        int n = 20_000;
        FiberRegistry r = new FiberRegistry(2, false);
        List<Thread> fibers = unstarted(n);
        java.util.concurrent.ConcurrentHashMap<Thread, Integer> told = new java.util.concurrent.ConcurrentHashMap<>();
        FiberRegistry.Owner owner = f -> told.merge(f, 1, Integer::sum);
        for (Thread f : fibers) r.enrol(f, owner);
        boolean[] removerWon = new boolean[n], otherWon = new boolean[n];
        boolean[] otherWithdraws = new boolean[n];
        for (int i = 0; i < n; i++) otherWithdraws[i] = i % 2 == 0;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread remover = Thread.ofPlatform().start(() -> {
            try {
                start.await();
                for (int i = 0; i < n; i++) removerWon[i] = r.remove(fibers.get(i));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                start.await();
                for (int i = 0; i < n; i++) {
                    otherWon[i] = otherWithdraws[i] ? r.withdraw(fibers.get(i)) : r.remove(fibers.get(i));
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        start.countDown();
        remover.join();
        other.join();
        assertNull(failure.get());
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < n && bad.size() < 10; i++) {
            Thread f = fibers.get(i);
            if (removerWon[i] == otherWon[i]) bad.add(i + ": both or neither claimed it");
            boolean removed = removerWon[i] || (otherWon[i] && !otherWithdraws[i]);
            int exits = told.getOrDefault(f, 0);
            if (exits != (removed ? 1 : 0)) bad.add(i + ": owner told " + exits + " times, removed " + removed);
        }
        assertEquals(List.of(), bad);
        assertEquals(List.of(), r.fibers(), "fibers left");
    }
}
