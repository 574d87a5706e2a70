package dev.bobbin.scheduler.queue;

import dev.bobbin.scheduler.queue.QueueUnderTest.Item;
import dev.bobbin.scheduler.queue.RunQueueJcstress.Ledger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.L_Result;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * jcstress protocol tests of {@link InjectionQueue}: two carriers polling at once, a carrier polling while
 * the stall monitor takes matches, a submitter's batch racing a poller. The arbiter accounts for every
 * item (taken by either side or still queued) and checks the count: the outcome is {@code ok ...} when
 * each item is taken exactly once, each taker saw them in queue order and the count ends at zero;
 * {@code duplicate item i}, {@code lost item i}, {@code out of order} or {@code count n} otherwise, which
 * is forbidden.
 *
 * <p>The take races run twice: on the real queue and on {@link Broken}, which takes a task it saw at the
 * head without owning its unlink (the check-then-act a locked queue got away with), and must be caught.
 * {@code JcstressProtocolTest} runs all of them from the build.
 */
public final class InjectionQueueJcstress {
    private InjectionQueueJcstress() { }

    /** The operations under test, so one scenario runs on the real queue and on its broken twin. */
    interface Queue {
        void push(Runnable task);
        void pushAll(Runnable[] batch, Runnable extra);
        Runnable poll();
        List<Runnable> takeMatching(Predicate<Runnable> which);
        int size();
    }

    static Queue real() {
        InjectionQueue q = new InjectionQueue();
        return new Queue() {
            @Override public void push(Runnable task) { q.push(task); }
            @Override public void pushAll(Runnable[] batch, Runnable extra) { q.pushAll(batch, extra); }
            @Override public Runnable poll() { return q.poll(); }
            @Override public List<Runnable> takeMatching(Predicate<Runnable> which) { return q.takeMatching(which); }
            @Override public int size() { return q.size(); }
        };
    }

    /**
     * The broken twin: {@code poll} and {@code takeMatching} take the task they saw and then unlink it
     * without checking that their unlink was the one that succeeded, so two takers can both take it. A
     * short spin between the look and the unlink widens the window for the time-boxed run.
     */
    static final class Broken implements Queue {
        private final ConcurrentLinkedQueue<Runnable> q = new ConcurrentLinkedQueue<>();

        @Override public void push(Runnable task) { q.offer(task); }

        @Override public void pushAll(Runnable[] batch, Runnable extra) {
            for (Runnable t : batch) q.offer(t);
            if (extra != null) q.offer(extra);
        }

        @Override public Runnable poll() {
            Runnable t = q.peek();
            if (t != null) {
                widen();
                q.remove(t);                      // BUG: result ignored
            }
            return t;
        }

        @Override public List<Runnable> takeMatching(Predicate<Runnable> which) {
            List<Runnable> taken = new ArrayList<>();
            for (Iterator<Runnable> it = q.iterator(); it.hasNext(); ) {
                Runnable t = it.next();
                if (which.test(t)) {
                    widen();
                    it.remove();                  // BUG: takes it whether or not a poller got it first
                    taken.add(t);
                }
            }
            return taken;
        }

        @Override public int size() { return q.size(); }

        private static void widen() {
            for (int i = 0; i < 20; i++) Thread.onSpinWait();
        }
    }

    /** Records what one taker got, checking it came in queue order (item ids ascend). */
    static final class Taker {
        final List<Runnable> got = new ArrayList<>();
        boolean outOfOrder;

        void take(Runnable r) {
            if (r == null) return;
            if (!got.isEmpty() && ((Item) got.get(got.size() - 1)).id() >= ((Item) r).id()) outOfOrder = true;
            got.add(r);
        }
    }

    /** The verdict over both takers and what the queue still holds. */
    static String verdict(int items, Queue q, Taker a, Taker b) {
        Ledger l = new Ledger(items);
        a.got.forEach(l::take);
        b.got.forEach(l::take);
        for (Runnable r; (r = q.poll()) != null; ) l.take(r);
        String v = l.verdict("a=" + a.got.size() + " b=" + b.got.size());
        if (!v.startsWith("ok")) return v;
        if (a.outOfOrder || b.outOfOrder) return "out of order";
        return q.size() == 0 ? v : "count " + q.size();
    }

    // ---- two pollers ----------------------------------------------------------------------------

    /** Three queued items and two takers; each scenario says what the takers do. */
    public abstract static class TwoTakers {
        final Item[] items = QueueUnderTest.items(3);
        final Queue q;
        final Taker a = new Taker(), b = new Taker();

        TwoTakers(Supplier<Queue> queue) {
            q = queue.get();
            for (Item i : items) q.push(i);
        }

        String verdict() { return InjectionQueueJcstress.verdict(items.length, q, a, b); }
    }

    /** Two carriers poll twice each. */
    public abstract static class PollScenario extends TwoTakers {
        PollScenario(Supplier<Queue> queue) { super(queue); }

        void runA() { a.take(q.poll()); a.take(q.poll()); }
        void runB() { b.take(q.poll()); b.take(q.poll()); }
    }

    @JCStressTest
    @Description("InjectionQueue: two pollers take every item exactly once, each in queue order")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item taken exactly once, in order, count zero")
    @Outcome(expect = FORBIDDEN, desc = "an item taken twice or lost, out of order, or the count off")
    @State
    public static class PollVsPoll extends PollScenario {
        public PollVsPoll() { super(InjectionQueueJcstress::real); }
        @Actor public void carrierA() { runA(); }
        @Actor public void carrierB() { runB(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: a poller takes the head it saw without owning the unlink; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item taken exactly once, in order, count zero")
    @Outcome(expect = FORBIDDEN, desc = "an item taken twice or lost, out of order, or the count off")
    @State
    public static class PollVsPollBroken extends PollScenario {
        public PollVsPollBroken() { super(Broken::new); }
        @Actor public void carrierA() { runA(); }
        @Actor public void carrierB() { runB(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- a poller and the stall monitor's takeMatching ------------------------------------------

    /** A carrier ({@code a}) polls twice while the monitor ({@code b}) takes every item. */
    public abstract static class MatchScenario extends TwoTakers {
        MatchScenario(Supplier<Queue> queue) { super(queue); }

        void runCarrier() { a.take(q.poll()); a.take(q.poll()); }
        void runMonitor() { q.takeMatching(t -> true).forEach(b::take); }
    }

    @JCStressTest
    @Description("InjectionQueue: takeMatching racing a poller takes every item exactly once")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item taken exactly once, in order, count zero")
    @Outcome(expect = FORBIDDEN, desc = "an item taken twice or lost, out of order, or the count off")
    @State
    public static class PollVsTakeMatching extends MatchScenario {
        public PollVsTakeMatching() { super(InjectionQueueJcstress::real); }
        @Actor public void carrier() { runCarrier(); }
        @Actor public void monitor() { runMonitor(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: takeMatching keeps what it saw without owning the unlink; must be caught")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item taken exactly once, in order, count zero")
    @Outcome(expect = FORBIDDEN, desc = "an item taken twice or lost, out of order, or the count off")
    @State
    public static class PollVsTakeMatchingBroken extends MatchScenario {
        public PollVsTakeMatchingBroken() { super(Broken::new); }
        @Actor public void carrier() { runCarrier(); }
        @Actor public void monitor() { runMonitor(); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- a spill's batch racing a poller ---------------------------------------------------------

    @JCStressTest
    @Description("InjectionQueue: pushAll racing a poller: the poller sees a prefix of the batch, in order")
    @Outcome(id = "ok .*", expect = ACCEPTABLE, desc = "every item taken exactly once, in order, count zero")
    @Outcome(expect = FORBIDDEN, desc = "an item taken twice or lost, out of order, or the count off")
    @State
    public static class PushAllVsPoll {
        final Item[] items = QueueUnderTest.items(4);
        final Queue q = real();
        final Taker poller = new Taker(), none = new Taker();

        public PushAllVsPoll() { q.push(items[0]); }

        @Actor public void spiller() { q.pushAll(new Runnable[] {items[1], items[2]}, items[3]); }
        @Actor public void carrier() { poller.take(q.poll()); poller.take(q.poll()); }
        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(items.length, q, poller, none); }
    }
}
