package dev.bobbin.scheduler;

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
 * jcstress test of {@link WakeHandshake}: a carrier that registered as a sleeper and finished spinning
 * commits to blocking in its driver, while a waker takes it off the sleeper stack and decides whether to
 * wake the driver. Forbidden: the carrier blocks and the waker skips the driver wake-up (a lost wake:
 * the carrier would sleep with work waiting). Its broken twin reads {@code asleep} before publishing
 * {@code blocked} and must show that outcome.
 *
 * <p>The same for the pause after a driver failure: a carrier whose driver threw commits to pausing while
 * a waker notes a wakeup. Forbidden: the carrier pauses and the waker does not unpark it (the wakeup
 * would wait out the pause, up to a second). The broken twin re-reads the wakeups before publishing the
 * pause.
 */
public final class WakeHandshakeJcstress {
    private WakeHandshakeJcstress() { }

    /** The handshake with the two steps of commitToBlock in the wrong order. */
    static final class ReadBeforePublish extends WakeHandshake {
        @Override boolean commitToBlock() {
            boolean asleep = isAsleep();             // BUG: read before publishing blocked
            super.commitToBlock();                   // publishes blocked; its own re-read is ignored
            return asleep;
        }
    }

    /** The failure pause with its two steps in the wrong order. */
    static final class PauseReadBeforePublish extends WakeHandshake {
        @Override boolean commitToFailurePause(int seen) {
            boolean noWake = wakesSoFar() == seen;   // BUG: read before publishing the pause
            super.commitToFailurePause(seen);
            return noWake;
        }
    }

    /** One round of the failure pause: the carrier read the wakeups before its driver threw; a waker wakes it. */
    public abstract static class PauseRound {
        final WakeHandshake wake;
        final int seen;
        boolean carrierPauses;
        boolean unparked;

        PauseRound(WakeHandshake wake) {
            this.wake = wake;
            this.seen = wake.wakesSoFar();
        }

        void carrierStep() { carrierPauses = wake.commitToFailurePause(seen); }

        void wakerStep() { unparked = wake.noteWake(); }

        String verdict() {
            if (carrierPauses && !unparked) return "paused, not unparked";
            if (carrierPauses) return "ok: paused, unparked";
            return unparked ? "ok: saw the wake, spare unpark" : "ok: saw the wake itself";
        }
    }

    @JCStressTest
    @Description("WakeHandshake: a carrier pausing after a driver failure and a waker never both miss each other")
    @Outcome(id = "ok.*", expect = ACCEPTABLE, desc = "the carrier skips the pause, or is unparked from it")
    @Outcome(expect = FORBIDDEN, desc = "the carrier pauses and nobody unparks it")
    @State
    public static class PauseVsWake extends PauseRound {
        public PauseVsWake() { super(new WakeHandshake()); }

        @Actor public void carrier() { carrierStep(); }

        @Actor public void waker() { wakerStep(); }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the carrier reads the wakeups before it publishes the pause; must be caught")
    @Outcome(id = "ok.*", expect = ACCEPTABLE, desc = "the carrier skips the pause, or is unparked from it")
    @Outcome(expect = FORBIDDEN, desc = "the carrier pauses and nobody unparks it")
    @State
    public static class PauseVsWakeReadFirst extends PauseRound {
        public PauseVsWakeReadFirst() { super(new PauseReadBeforePublish()); }

        @Actor public void carrier() { carrierStep(); }

        @Actor public void waker() { wakerStep(); }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    /** One round: the carrier starts on the sleeper stack, spun out, and commits; the waker wakes it. */
    public abstract static class Round {
        final WakeHandshake wake;
        boolean carrierBlocks;
        boolean driverWoken;

        Round(WakeHandshake wake) {
            this.wake = wake;
            wake.markAsleep();
        }

        void carrierStep() { carrierBlocks = wake.commitToBlock(); }

        void wakerStep() {
            wake.markAwake();
            driverWoken = wake.driverMayBlock();
        }

        String verdict() {
            if (carrierBlocks && !driverWoken) return "blocked, driver not woken";
            if (carrierBlocks) return "ok: blocked, driver woken";
            return driverWoken ? "ok: saw the wake, spare driver wake" : "ok: saw the wake itself";
        }
    }

    @JCStressTest
    @Description("WakeHandshake: a carrier committing to block and its waker never both miss each other")
    @Outcome(id = "ok.*", expect = ACCEPTABLE, desc = "the carrier stays awake, or its driver is woken")
    @Outcome(expect = FORBIDDEN, desc = "the carrier blocks and nobody wakes its driver")
    @State
    public static class CommitVsWake extends Round {
        public CommitVsWake() { super(new WakeHandshake()); }

        @Actor public void carrier() { carrierStep(); }

        @Actor public void waker() { wakerStep(); }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }

    @JCStressTest
    @Description("Broken twin: the carrier reads asleep before it publishes blocked; must be caught")
    @Outcome(id = "ok.*", expect = ACCEPTABLE, desc = "the carrier stays awake, or its driver is woken")
    @Outcome(expect = FORBIDDEN, desc = "the carrier blocks and nobody wakes its driver")
    @State
    public static class CommitVsWakeReadFirst extends Round {
        public CommitVsWakeReadFirst() { super(new ReadBeforePublish()); }

        @Actor public void carrier() { carrierStep(); }

        @Actor public void waker() { wakerStep(); }

        @Arbiter public void arbiter(L_Result r) { r.r1 = verdict(); }
    }
}
