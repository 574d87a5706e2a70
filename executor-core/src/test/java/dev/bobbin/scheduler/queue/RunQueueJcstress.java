package dev.bobbin.scheduler.queue;

import dev.bobbin.scheduler.queue.QueueUnderTest.Item;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.L_Result;

import java.util.function.IntFunction;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * jcstress protocol tests of {@link RunQueue}: the owner racing one thief. Every scenario hands out a
 * known set of items and the arbiter accounts for each of them (taken by the owner, by the thief, spilled,
 * or still queued): the outcome is {@code ok ...} with the split when each item is accounted for exactly
 * once, and {@code duplicate item i} or {@code lost item i} otherwise, which is forbidden.
 *
 * <p>Each scenario runs twice: on the real queue, where it must pass, and on {@link BrokenRunQueue} with
 * the one bug the scenario is about, where it must observe the forbidden outcome. The queues are tiny
 * (capacity 4) so that a few operations already cover the wrap-around and full-ring cases.
 * {@link JcstressProtocolTest} runs all of them from the build.
 */
public final class RunQueueJcstress {
    private RunQueueJcstress() { }

    static final int CAPACITY = 4;

    /** Counts how often each item was handed out. */
    static final class Ledger {
        private final int[] counts;

        Ledger(int items) { counts = new int[items]; }

        void take(Runnable r) {
            if (r != null) counts[((Item) r).id()]++;
        }

        void takeAll(Runnable[] rs) {
            if (rs != null) for (Runnable r : rs) take(r);
        }

        void drain(QueueUnderTest q) {
            for (Runnable r; (r = q.poll()) != null; ) take(r);
            take(q.takeNext());
        }

        String verdict(String split) {
            for (int i = 0; i < counts.length; i++) if (counts[i] > 1) return "duplicate item " + i;
            for (int i = 0; i < counts.length; i++) if (counts[i] == 0) return "lost item " + i;
            return "ok " + split;
        }
    }

    // ---- owner poll racing a thief's stealInto ---------------------------------------------------

    /** Three queued items; the owner pops twice while a thief steals half. */
    public abstract static class PollScenario {
        final Item[] items = QueueUnderTest.items(3);
        final QueueUnderTest victim, thiefQueue;
        final int[] stolen = new int[1];
        Runnable owner1, owner2, thief;

        PollScenario(IntFunction<QueueUnderTest> queues) {
            victim = queues.apply(CAPACITY);
            thiefQueue = queues.apply(CAPACITY);
            for (Item i : items) victim.offer(i);
        }

        void runOwner() { owner1 = victim.poll(); owner2 = victim.poll(); }
        void runThief() { thief = victim.stealInto(thiefQueue, stolen); }

        String verdict() {
            Ledger l = new Ledger(items.length);
            l.take(owner1); l.take(owner2); l.take(thief);
            l.drain(thiefQueue);
            l.drain(victim);
            int o = (owner1 != null ? 1 : 0) + (owner2 != null ? 1 : 0);
            return l.verdict("owner=" + o + " thief=" + stolen[0]);
        }
    }

    @JCStressTest
    @Description("RunQueue: owner poll racing a thief's stealInto hands out every item exactly once")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class PollVsSteal extends PollScenario {
        public PollVsSteal() { super(QueueUnderTest::real); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the thief claims with a plain store to head; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class PollVsStealBroken extends PollScenario {
        public PollVsStealBroken() { super(c -> new BrokenRunQueue(c, BrokenRunQueue.Bug.STEAL_PLAIN_HEAD)); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- owner poll and clearIfEmpty racing a thief's stealInto ----------------------------------

    /** Two queued items; the owner pops one and then drops stale references while a thief steals. */
    public abstract static class ClearScenario {
        final Item[] items = QueueUnderTest.items(2);
        final QueueUnderTest victim, thiefQueue;
        final int[] stolen = new int[1];
        Runnable owner1, thief;

        ClearScenario(IntFunction<QueueUnderTest> queues) {
            victim = queues.apply(CAPACITY);
            thiefQueue = queues.apply(CAPACITY);
            for (Item i : items) victim.offer(i);
        }

        void runOwner() { owner1 = victim.poll(); victim.clearIfEmpty(); }
        void runThief() { thief = victim.stealInto(thiefQueue, stolen); }

        String verdict() {
            Ledger l = new Ledger(items.length);
            l.take(owner1); l.take(thief);
            l.drain(thiefQueue);
            l.drain(victim);
            return l.verdict("owner=" + (owner1 != null ? 1 : 0) + " thief=" + stolen[0]);
        }
    }

    @JCStressTest
    @Description("RunQueue: the owner's clearIfEmpty racing a thief's stealInto loses no item")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class ClearVsSteal extends ClearScenario {
        public ClearVsSteal() { super(QueueUnderTest::real); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the owner clears its slots while items are still queued; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class ClearVsStealBroken extends ClearScenario {
        public ClearVsStealBroken() { super(c -> new BrokenRunQueue(c, BrokenRunQueue.Bug.CLEAR_WITHOUT_EMPTY_CHECK)); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- owner offer racing a thief's stealInto --------------------------------------------------

    /** A full ring; the owner offers two more (reusing slots as the thief frees them) while a thief steals. */
    public abstract static class OfferScenario {
        final Item[] items = QueueUnderTest.items(CAPACITY + 2);
        final QueueUnderTest victim, thiefQueue;
        final int[] stolen = new int[1];
        Runnable thief;
        boolean offered1, offered2;

        OfferScenario(IntFunction<QueueUnderTest> queues) {
            victim = queues.apply(CAPACITY);
            thiefQueue = queues.apply(CAPACITY);
            for (int i = 0; i < CAPACITY; i++) victim.offer(items[i]);
        }

        void runOwner() {
            offered1 = victim.offer(items[CAPACITY]);
            offered2 = victim.offer(items[CAPACITY + 1]);
        }

        void runThief() { thief = victim.stealInto(thiefQueue, stolen); }

        String verdict() {
            Ledger l = new Ledger(items.length);
            if (!offered1) l.take(items[CAPACITY]);         // refused: still the owner's
            if (!offered2) l.take(items[CAPACITY + 1]);
            l.take(thief);
            l.drain(thiefQueue);
            l.drain(victim);
            return l.verdict("offered=" + ((offered1 ? 1 : 0) + (offered2 ? 1 : 0)) + " thief=" + stolen[0]);
        }
    }

    @JCStressTest
    @Description("RunQueue: owner offer racing a thief's stealInto never overwrites an unclaimed item")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class OfferVsSteal extends OfferScenario {
        public OfferVsSteal() { super(QueueUnderTest::real); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the thief copies the slots after its CAS; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class OfferVsStealBroken extends OfferScenario {
        public OfferVsStealBroken() { super(c -> new BrokenRunQueue(c, BrokenRunQueue.Bug.STEAL_COPIES_AFTER_CLAIM)); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- swapNext / takeNext racing stealNext ----------------------------------------------------

    /** Item 0 in the next slot; the owner swaps in item 1 and takes the slot, while a thief takes it. */
    public abstract static class NextScenario {
        final Item[] items = QueueUnderTest.items(2);
        final QueueUnderTest victim;
        Runnable displaced, taken, thief;

        NextScenario(IntFunction<QueueUnderTest> queues) {
            victim = queues.apply(CAPACITY);
            victim.swapNext(items[0]);
        }

        void runOwner() {
            displaced = victim.swapNext(items[1]);
            taken = victim.takeNext();
        }

        void runThief() { thief = victim.stealNext(); }

        String verdict() {
            Ledger l = new Ledger(items.length);
            l.take(displaced); l.take(taken); l.take(thief);
            l.drain(victim);
            return l.verdict("thief=" + (thief == null ? "-" : ((Item) thief).id()));
        }
    }

    @JCStressTest
    @Description("RunQueue: swapNext/takeNext racing stealNext hand out the next slot exactly once")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class NextVsStealNext extends NextScenario {
        public NextVsStealNext() { super(QueueUnderTest::real); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: stealNext reads and clears the slot without a CAS; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class NextVsStealNextBroken extends NextScenario {
        public NextVsStealNextBroken() { super(c -> new BrokenRunQueue(c, BrokenRunQueue.Bug.STEAL_NEXT_WITHOUT_CAS)); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- spill racing a thief's stealInto ---------------------------------------------------------

    /**
     * A full ring; the owner spills half of it plus a new item (or, when a thief made room, offers the new
     * item), as {@code Carrier.spill} does, while a thief steals.
     */
    public abstract static class SpillScenario {
        final Item[] items = QueueUnderTest.items(CAPACITY + 1);
        final QueueUnderTest victim, thiefQueue;
        final int[] stolen = new int[1];
        Runnable[] spilled;
        boolean offered;
        Runnable thief;

        SpillScenario(IntFunction<QueueUnderTest> queues) {
            victim = queues.apply(CAPACITY);
            thiefQueue = queues.apply(CAPACITY);
            for (int i = 0; i < CAPACITY; i++) victim.offer(items[i]);
        }

        void runOwner() {
            spilled = victim.drainHalfForSpill();
            if (spilled == null) offered = victim.offer(items[CAPACITY]);
        }

        void runThief() { thief = victim.stealInto(thiefQueue, stolen); }

        String verdict() {
            Ledger l = new Ledger(items.length);
            if (spilled != null) {
                l.takeAll(spilled);
                l.take(items[CAPACITY]);                   // spilled together with the batch
            } else if (!offered) {
                return "spill refused and the ring still full";
            }
            l.take(thief);
            l.drain(thiefQueue);
            l.drain(victim);
            return l.verdict("spilled=" + (spilled == null ? 0 : spilled.length) + " thief=" + stolen[0]);
        }
    }

    @JCStressTest
    @Description("RunQueue: drainHalfForSpill racing a thief's stealInto hands out every item exactly once")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class SpillVsSteal extends SpillScenario {
        public SpillVsSteal() { super(QueueUnderTest::real); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the spill claims its batch with a plain store to head; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item handed out exactly once")
    @Outcome(expect = FORBIDDEN, desc = "an item handed out twice, or lost")
    @State
    public static class SpillVsStealBroken extends SpillScenario {
        public SpillVsStealBroken() { super(c -> new BrokenRunQueue(c, BrokenRunQueue.Bug.SPILL_PLAIN_HEAD)); }
        @Actor public void owner() { runOwner(); }
        @Actor public void thief() { runThief(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }
}
