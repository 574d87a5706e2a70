package dev.bobbin.scheduler;

import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongConsumer;

/**
 * Measures scheduling delay, the time from a fiber's submission ({@link CarrierPool#execute}) to the
 * moment a carrier starts running it, for one submission in {@code period}.
 *
 * <p>Implementation overview. Nothing is stored per fiber. A sampled submission publishes a
 * {@link Sample} (the fiber and the submission time) in a direct-mapped table, at slot
 * {@code threadId % slots}; the carrier that later runs any fiber looks at that fiber's slot and, if
 * the sample there is this fiber's, claims it with a CAS and records the delay.
 * <ul>
 *   <li>A fiber is submitted at most once between two runs (the JDK's state machine guarantees a single
 *       submission per runnable transition), so a fiber owns at most one sample.</li>
 *   <li>Publication: CAS from null to the sample (release semantics; pairs with the acquire read in
 *       {@link #running}). A slot already holding another fiber's sample is left alone: that submission
 *       goes unmeasured, which biases nothing because the choice does not depend on the delay.</li>
 *   <li>Claim: CAS from the sample to null, by the carrier running the fiber; exactly one claim per
 *       sample, so each sample is recorded once, by a carrier that owns its counters.</li>
 *   <li>Sampling decision: a per-carrier countdown (owner-only, padded against false sharing) for
 *       submissions made on a carrier; a {@link ThreadLocalRandom} draw for submissions from other
 *       threads.</li>
 * </ul>
 * Recorded delays go to the running carrier's {@link CarrierCounters} (count, sum, max) and to every
 * listener, on the carrier, before the fiber runs; a listener that throws is ignored.
 */
public final class SchedulingDelays {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Sample[].class);
    private static final VarHandle LISTENERS = VarHandles.field(MethodHandles.lookup(), SchedulingDelays.class, "listeners", LongConsumer[].class);
    private static final int PAD = 16;             // ints per carrier countdown: 64 bytes apart

    /** One in-flight measurement; immutable. */
    record Sample(Thread fiber, long submittedAt) { }

    private final int period;                      // >= 1
    private final Sample[] slots;                  // power-of-two length
    private final int mask;
    private final int[] countdowns;                // carrier i owns countdowns[i * PAD]
    @SuppressWarnings("unused") private volatile LongConsumer[] listeners = new LongConsumer[0]; // copy on write

    SchedulingDelays(int period, int parallelism) {
        if (period < 1) throw new IllegalArgumentException("period must be >= 1: " + period);
        this.period = period;
        this.slots = new Sample[period == 1 ? Tunables.DELAY_SLOTS_EVERY : Tunables.DELAY_SLOTS_SAMPLED];
        this.mask = slots.length - 1;
        this.countdowns = new int[parallelism * PAD];
        for (int i = 0; i < parallelism; i++) countdowns[i * PAD] = period;
    }

    /** At submission. {@code here}: the submitting carrier of this pool, or null for another thread. */
    void submitted(Thread fiber, Carrier here) {
        if (period > 1) {
            if (here != null) {
                int i = here.index * PAD;
                if (--countdowns[i] > 0) return;   // owner-only: the carrier or a fiber mounted on it
                countdowns[i] = period;
            } else if (ThreadLocalRandom.current().nextInt(period) != 0) {
                return;
            }
        }
        int slot = (int) fiber.threadId() & mask;
        if (SLOTS.getOpaque(slots, slot) != null) return;  // taken: skip rather than contend
        SLOTS.compareAndSet(slots, slot, null, new Sample(fiber, System.nanoTime())); // pairs with running
    }

    /** Before the carrier {@code c} runs {@code fiber}. Records the delay if this run was sampled. */
    void running(Thread fiber, Carrier c) {
        int slot = (int) fiber.threadId() & mask;
        Sample s = (Sample) SLOTS.getAcquire(slots, slot);  // acquire; pairs with the CAS in submitted
        if (s == null || s.fiber != fiber || !SLOTS.compareAndSet(slots, slot, s, null)) return;
        long delay = Math.max(0, System.nanoTime() - s.submittedAt);
        CarrierCounters k = c.counters;
        k.increment(CarrierCounters.DELAY_SAMPLES);
        k.add(CarrierCounters.DELAY_NANOS, delay);
        if (delay > k.get(CarrierCounters.DELAY_MAX_NANOS)) k.set(CarrierCounters.DELAY_MAX_NANOS, delay);
        for (LongConsumer l : (LongConsumer[]) LISTENERS.getAcquire(this)) {
            try {
                l.accept(delay);
            } catch (Throwable ignored) {
                // a faulty listener must not disturb the carrier
            }
        }
    }

    /** Adds a listener unless an equal one is present; returns false if it was present. */
    public synchronized boolean addListener(LongConsumer listener) {
        LongConsumer[] old = (LongConsumer[]) LISTENERS.getAcquire(this);
        for (LongConsumer l : old) if (l.equals(listener)) return false;
        LongConsumer[] grown = java.util.Arrays.copyOf(old, old.length + 1);
        grown[old.length] = listener;
        LISTENERS.setRelease(this, grown);              // release; pairs with the acquire in running
        return true;
    }

    /** Removes a listener equal to {@code listener}, if any. */
    public synchronized void removeListener(LongConsumer listener) {
        LongConsumer[] old = (LongConsumer[]) LISTENERS.getAcquire(this);
        for (int i = 0; i < old.length; i++) {
            if (old[i].equals(listener)) {
                LongConsumer[] shrunk = new LongConsumer[old.length - 1];
                System.arraycopy(old, 0, shrunk, 0, i);
                System.arraycopy(old, i + 1, shrunk, i, old.length - i - 1);
                LISTENERS.setRelease(this, shrunk);
                return;
            }
        }
    }
}
