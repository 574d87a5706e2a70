package dev.bobbin.scheduler;

import dev.bobbin.scheduler.queue.InjectionQueue;
import dev.bobbin.scheduler.queue.RunQueue;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.L_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * jcstress test of the {@link IdleCarriers} wake protocol (steps 1 and 2 of its overview), with two
 * carriers: carrier A, running a fiber, publishes a task in its own run queue (a release store, the
 * weakest publication Bobbin makes) and calls {@code notifyOne}; at the same time carrier B, out of
 * work, registers as parked and re-checks the queues, waking one carrier (possibly itself) if it sees
 * work. The outcome "task published, B asleep, nobody woken" is forbidden: either A's fenced read of
 * the state sees B's registration, or B's re-check sees the task.
 *
 * <p>Two broken twins must show that outcome: one where B skips the re-check, one where A's
 * {@code notifyOne} lacks the fence between its publication and its read of the state, so that the
 * read is reordered before the publication ({@link BrokenIdleCarriers}).
 *
 * <p>A second pair covers step 3: the last searcher leaving the searching state races a submitter that
 * saw it searching and so woke nobody ({@link SearcherLeavesVsPublish}); its twin leaves without the
 * re-check and wake.
 */
public final class IdleCarriersJcstress {
    private IdleCarriersJcstress() { }

    /** A parking carrier as the protocol sees it. */
    static final class TestSleeper implements IdleCarriers.Sleeper {
        volatile boolean asleep;
        volatile int wakeups;

        @Override public void markAsleep() { asleep = true; }
        @Override public void markAwake() { asleep = false; }
        @Override public synchronized void wakeDriver() { wakeups++; }
    }

    /** The state shared by the three variants: carrier A's queue, carrier B, the task. */
    public abstract static class Scenario {
        final RunQueue queueOfA = new RunQueue(4);
        final TestSleeper carrierB = new TestSleeper();
        final Runnable task = () -> { };
        boolean recheckSawTask;

        /** B's re-check: does any queue hold work? (CarrierPool.hasVisibleWork for this model) */
        boolean hasVisibleWork() { return !queueOfA.isEmpty(); }

        String verdict() {
            if (queueOfA.isEmpty()) return "task vanished";
            if (carrierB.asleep) return "asleep, nobody woken" + (carrierB.wakeups > 0 ? " (driver woken)" : "");
            return "awake, woken " + (recheckSawTask ? "after its re-check" : "by the submitter");
        }
    }

    @JCStressTest
    @Description("IdleCarriers: publish + notifyOne racing transitionToParked + re-check never loses the wakeup")
    @Outcome(id = "awake.*", expect = ACCEPTABLE, desc = "B was woken (by the submitter or its own re-check)")
    @Outcome(expect = FORBIDDEN, desc = "task published, carrier asleep, nobody woken")
    @State
    public static class PublishVsPark extends Scenario {
        final IdleCarriers idle = new IdleCarriers(2);

        @Actor public void submitter() {
            queueOfA.local().offer(task);
            idle.notifyOne();
        }

        @Actor public void parker() {
            idle.transitionToParked(carrierB, false);
            if (hasVisibleWork()) {
                recheckSawTask = true;
                idle.notifyOne();
            }
        }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the parking carrier skips its re-check; must be caught")
    @Outcome(id = "awake.*", expect = ACCEPTABLE, desc = "B was woken (by the submitter or its own re-check)")
    @Outcome(expect = FORBIDDEN, desc = "task published, carrier asleep, nobody woken")
    @State
    public static class PublishVsParkNoRecheck extends Scenario {
        final IdleCarriers idle = new IdleCarriers(2);

        @Actor public void submitter() {
            queueOfA.local().offer(task);
            idle.notifyOne();
        }

        @Actor public void parker() {
            idle.transitionToParked(carrierB, false);       // BUG: no re-check
        }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: notifyOne decides on a state read reordered before the publication (no fence); must be caught")
    @Outcome(id = "awake.*", expect = ACCEPTABLE, desc = "B was woken (by the submitter or its own re-check)")
    @Outcome(expect = FORBIDDEN, desc = "task published, carrier asleep, nobody woken")
    @State
    public static class PublishVsParkNoFence extends Scenario {
        final BrokenIdleCarriers idle = new BrokenIdleCarriers(2);

        @Actor public void submitter() {
            int s = idle.readStateEarly();                   // BUG: as if the fence were missing
            queueOfA.local().offer(task);
            idle.notifyOne(s);
        }

        @Actor public void parker() {
            idle.transitionToParked(carrierB, false);
            if (hasVisibleWork()) {
                recheckSawTask = true;
                idle.notifyOne();
            }
        }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    // ---- step 3: the last searcher leaving racing a submitter that relies on it -------------------

    /**
     * Carrier B parked, carrier A the only searcher. A found a task and leaves the searching state (it
     * is about to run that task, for however long); at the same time an outside thread pushes a task to
     * the injection queue and calls {@code notifyOne}. Forbidden: the new task queued and B still asleep,
     * which would leave it waiting behind A's task while a carrier idles.
     */
    public abstract static class SearcherScenario {
        final IdleCarriers idle = new IdleCarriers(2);
        final InjectionQueue inject = new InjectionQueue();
        final TestSleeper carrierB = new TestSleeper();
        final Runnable task = () -> { };

        SearcherScenario() {
            idle.transitionToParked(carrierB, false);       // B parked
            if (!idle.transitionToSearching()) throw new IllegalStateException("A cannot search");
        }

        void submit() {
            inject.push(task);
            idle.notifyOne();
        }

        String verdict() {
            if (inject.isEmpty()) return "task vanished";
            return carrierB.asleep ? "asleep, nobody woken" : "awake";
        }
    }

    @JCStressTest
    @Description("IdleCarriers: the last searcher leaving (with its re-check) racing publish + notifyOne never strands the task")
    @Outcome(id = "awake.*", expect = ACCEPTABLE, desc = "B was woken (by the submitter or by the leaving searcher)")
    @Outcome(expect = FORBIDDEN, desc = "task published, B asleep, the only searcher gone")
    @State
    public static class SearcherLeavesVsPublish extends SearcherScenario {
        @Actor public void submitter() { submit(); }

        @Actor public void searcher() {                      // Carrier.endSearching
            if (idle.transitionFromSearching() && !inject.isEmpty()) idle.notifyOne();
        }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the last searcher leaves without re-checking or waking anyone; must be caught")
    @Outcome(id = "awake.*", expect = ACCEPTABLE, desc = "B was woken (by the submitter or by the leaving searcher)")
    @Outcome(expect = FORBIDDEN, desc = "task published, B asleep, the only searcher gone")
    @State
    public static class SearcherLeavesVsPublishNoRecheck extends SearcherScenario {
        @Actor public void submitter() { submit(); }

        @Actor public void searcher() {
            idle.transitionFromSearching();                  // BUG: step 3 skipped
        }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }
}
