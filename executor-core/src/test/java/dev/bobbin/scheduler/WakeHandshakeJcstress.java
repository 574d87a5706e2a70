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
