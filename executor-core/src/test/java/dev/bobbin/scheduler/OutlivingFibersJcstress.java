package dev.bobbin.scheduler;

import dev.bobbin.scheduler.queue.InjectionQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.L_Result;

import java.util.concurrent.atomic.AtomicInteger;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * jcstress test of the hand-over in {@link OutlivingFibers}: a poller's task is submitted from outside
 * (pushed to the injection queue) while the pool's last carrier exits. The task must reach the runner
 * exactly once and never stay in the queue, where no carrier would ever take it. The broken twin reads
 * the flag before pushing (check, then act) and must lose the task.
 */
public final class OutlivingFibersJcstress {
    private OutlivingFibersJcstress() { }

    /** One round; the outcome names the runner's count and what is left in the injection queue. */
    public abstract static class Round {
        final AtomicInteger handedOver = new AtomicInteger();
        final InjectionQueue inject = new InjectionQueue();
        final OutlivingFibers outliving = new OutlivingFibers("jcstress", t -> handedOver.incrementAndGet());
        final Runnable task = () -> { };

        abstract void submit();

        void exit() { outliving.poolExiting(inject); }

        void result(L_Result r) {
            int left = 0;
            while (inject.poll() != null) left++;
            int got = handedOver.get();
            r.r1 = got == 1 && left == 0 ? "ok" : got == 0 && left == 1 ? "lost" : "bad handed=" + got + " left=" + left;
        }
    }

    @JCStressTest
    @Description("OutlivingFibers: a task submitted while the pool's carriers exit reaches the runner once")
    @Outcome(id = "ok", expect = ACCEPTABLE, desc = "handed over once")
    @Outcome(id = "lost", expect = FORBIDDEN, desc = "left in the injection queue")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class SubmitVsExit extends Round {
        @Override void submit() {
            if (outliving.poolGone()) {
                outliving.handOver(task);
                return;
            }
            inject.push(task);
            outliving.afterInjected(inject);
        }

        @Actor public void submitter() { submit(); }
        @Actor public void lastCarrier() { exit(); }
        @Arbiter public void arbiter(L_Result r) { result(r); }
    }

    @JCStressTest
    @Description("Broken twin: the submitter checks the flag before pushing and never after; must lose the task")
    @Outcome(id = "ok", expect = ACCEPTABLE, desc = "handed over once")
    @Outcome(id = "lost", expect = FORBIDDEN, desc = "left in the injection queue")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class SubmitVsExitCheckFirst extends Round {
        @Override void submit() {
            if (outliving.poolGone()) {
                outliving.handOver(task);
                return;
            }
            for (int i = 0; i < 32; i++) Thread.onSpinWait(); // widens the window between check and push
            inject.push(task);                               // BUG: no re-check after publishing
        }

        @Actor public void submitter() { submit(); }
        @Actor public void lastCarrier() { exit(); }
        @Arbiter public void arbiter(L_Result r) { result(r); }
    }
}
