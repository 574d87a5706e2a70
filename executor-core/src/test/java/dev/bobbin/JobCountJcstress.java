package dev.bobbin;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;
import org.openjdk.jcstress.infra.results.Z_Result;

import java.util.concurrent.atomic.AtomicInteger;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * jcstress tests of {@link JobCount}.
 *
 * <p>The sums' order: a job's fiber Y, enrolled, starts an accepted job X (enrols it) and then exits,
 * while a terminating executor asks whether none is left. X never leaves in the test, so "none left" is
 * forbidden. The broken twin sums the enrols before the exits and must show it.
 *
 * <p>The Dekker pairs against shutdown, with the executor's side as {@code ExecutorState} has it (state
 * RUNNING, SHUTDOWN, TERMINATED; shutdown CASes the state, then tries to terminate; termination needs
 * none left): the last fiber's exit racing a shutdown must terminate the executor (else close() waits
 * forever), and a start racing a shutdown must either be refused or leave the executor open. Their
 * twins read the state before counting, which is what a count without its fence allows.
 */
public final class JobCountJcstress {
    private JobCountJcstress() { }

    /**
     * The count with its two sums read in the wrong order. The pause between them only widens the
     * window the bug needs (both of Y's steps between the two reads), so that the short run of the build
     * sees it every time rather than about once in a few million rounds.
     */
    static final class EnrolsFirst extends JobCount {
        @Override boolean noneLeft() {
            long e = enrolsSum();                    // BUG: enrols first can miss X's enrol ...
            for (int i = 0; i < 64; i++) Thread.onSpinWait();
            return exitsSum() == e;                  // ... and then see Y's exit
        }
    }

    /** One round: Y is enrolled when it starts; Y enrols X, then Y exits; the executor checks. */
    public abstract static class Round {
        final JobCount count;

        Round(JobCount count) {
            this.count = count;
            count.enrolled();                        // Y
        }

        void yStartsXThenExits() {
            count.enrolled();                        // X, an accepted start by Y
            count.left();                            // Y exits
        }
    }

    @JCStressTest
    @Description("JobCount: 'none left' is never read while a fiber enrolled by an exiting one still runs")
    @Outcome(id = "false", expect = ACCEPTABLE, desc = "a fiber is still counted")
    @Outcome(id = "true", expect = FORBIDDEN, desc = "none left while X runs")
    @State
    public static class StartThenExitVsCheck extends Round {
        public StartThenExitVsCheck() { super(new JobCount()); }

        @Actor public void y() { yStartsXThenExits(); }

        @Actor public void executor(Z_Result r) { r.r1 = count.noneLeft(); }
    }

    @JCStressTest
    @Description("Broken twin: enrols summed before exits; must show 'none left' while X runs")
    @Outcome(id = "false", expect = ACCEPTABLE, desc = "a fiber is still counted")
    @Outcome(id = "true", expect = FORBIDDEN, desc = "none left while X runs")
    @State
    public static class StartThenExitVsCheckEnrolsFirst extends Round {
        public StartThenExitVsCheckEnrolsFirst() { super(new EnrolsFirst()); }

        @Actor public void y() { yStartsXThenExits(); }

        @Actor public void executor(Z_Result r) { r.r1 = count.noneLeft(); }
    }

    /** The executor's lifecycle as {@code ExecutorState} runs it, over a {@link JobCount}. */
    public abstract static class Lifecycle {
        static final int RUNNING = 0, SHUTDOWN = 1, TERMINATED = 2;
        final JobCount count = new JobCount();
        final AtomicInteger state = new AtomicInteger(RUNNING);   // volatile reads, full CAS: as ExecutorState's VarHandle

        void shutdown() {
            if (state.compareAndSet(RUNNING, SHUTDOWN)) tryTerminate();
        }

        void tryTerminate() {
            if (count.noneLeft()) state.compareAndSet(SHUTDOWN, TERMINATED);
        }

        /** ExecutorState.countOut: count the exit (with its fence), then read the state. */
        void exit() {
            count.left();
            if (state.get() == SHUTDOWN) tryTerminate();
        }

        /** The twin: the state read performed before the count, as a release-only count allows. */
        void exitReadingStateFirst() {
            int s = state.get();                     // BUG: read before the count
            count.countWithoutFence(false);
            if (s == SHUTDOWN) tryTerminate();
        }

        /** ExecutorState.track: count the enrol (with its fence), then read the state; true if started. */
        boolean start() {
            count.enrolledThenFence();
            return startUnless(state.get());
        }

        /** The twin: the state read performed before the count. */
        boolean startReadingStateFirst() {
            int s = state.get();                     // BUG: read before the count
            count.countWithoutFence(true);
            return startUnless(s);
        }

        /** A counted start that read {@code s}: withdrawn (counted out, may terminate) unless RUNNING. */
        private boolean startUnless(int s) {
            if (s != RUNNING) {
                count.left();
                if (state.get() == SHUTDOWN) tryTerminate();
                return false;
            }
            return true;                             // the fiber runs (and never exits in the test)
        }
    }

    @JCStressTest
    @Description("ExecutorState: the last fiber's exit racing a shutdown always terminates the executor")
    @Outcome(id = "true", expect = ACCEPTABLE, desc = "terminated")
    @Outcome(id = "false", expect = FORBIDDEN, desc = "shut down, none left, never terminated: close() hangs")
    @State
    public static class ExitVsShutdown extends Lifecycle {
        public ExitVsShutdown() { count.enrolled(); }

        @Actor public void fiber() { exit(); }

        @Actor public void closer() { shutdown(); }

        @Arbiter public void arbiter(Z_Result r) { r.r1 = state.get() == TERMINATED; }
    }

    @JCStressTest
    @Description("Broken twin: the exit reads the state before counting; must leave the executor unterminated")
    @Outcome(id = "true", expect = ACCEPTABLE, desc = "terminated")
    @Outcome(id = "false", expect = FORBIDDEN, desc = "shut down, none left, never terminated: close() hangs")
    @State
    public static class ExitVsShutdownReadFirst extends Lifecycle {
        public ExitVsShutdownReadFirst() { count.enrolled(); }

        @Actor public void fiber() { exitReadingStateFirst(); }

        @Actor public void closer() { shutdown(); }

        @Arbiter public void arbiter(Z_Result r) { r.r1 = state.get() == TERMINATED; }
    }

    @JCStressTest
    @Description("ExecutorState: a start racing a shutdown is refused (and the executor terminates) or leaves it open")
    @Outcome(id = "true, false", expect = ACCEPTABLE, desc = "started; the executor waits for it")
    @Outcome(id = "false, true", expect = ACCEPTABLE, desc = "refused; terminated")
    @Outcome(id = "true, true", expect = FORBIDDEN, desc = "terminated while the started fiber runs")
    @Outcome(id = "false, false", expect = FORBIDDEN, desc = "refused and never terminated: close() hangs")
    @State
    public static class StartVsShutdown extends Lifecycle {
        @Actor public void starter(ZZ_Result r) { r.r1 = start(); }

        @Actor public void closer() { shutdown(); }

        @Arbiter public void arbiter(ZZ_Result r) { r.r2 = state.get() == TERMINATED; }
    }

    @JCStressTest
    @Description("Broken twin: the start reads the state before counting; must terminate while its fiber runs")
    @Outcome(id = "true, false", expect = ACCEPTABLE, desc = "started; the executor waits for it")
    @Outcome(id = "false, true", expect = ACCEPTABLE, desc = "refused; terminated")
    @Outcome(id = "true, true", expect = FORBIDDEN, desc = "terminated while the started fiber runs")
    @Outcome(id = "false, false", expect = FORBIDDEN, desc = "refused and never terminated: close() hangs")
    @State
    public static class StartVsShutdownReadFirst extends Lifecycle {
        @Actor public void starter(ZZ_Result r) { r.r1 = startReadingStateFirst(); }

        @Actor public void closer() { shutdown(); }

        @Arbiter public void arbiter(ZZ_Result r) { r.r2 = state.get() == TERMINATED; }
    }
}
