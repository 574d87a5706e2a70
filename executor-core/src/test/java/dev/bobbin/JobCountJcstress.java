package dev.bobbin;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.Z_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * jcstress test of {@link JobCount}: a job's fiber Y, enrolled, starts an accepted job X (enrols it) and
 * then exits, while a terminating executor asks whether none is left. X never leaves in the test, so
 * "none left" is forbidden. The broken twin sums the enrols before the exits and must show it.
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
}
