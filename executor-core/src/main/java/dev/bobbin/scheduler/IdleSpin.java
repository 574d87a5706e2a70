package dev.bobbin.scheduler;

/**
 * How long an idle carrier spin-waits for a waker before it blocks in its driver: adaptive, per carrier.
 *
 * <p>Implementation overview. Blocking costs a system call on each side (the carrier's futex or eventfd
 * wait, the waker's wake) plus the time the kernel takes to run the woken thread again, tens of
 * microseconds in a virtual machine. Spinning instead costs the CPU it burns. A carrier that keeps being
 * woken soon after it blocked is serving a submit-and-wait partner on another thread (a platform thread
 * that starts a fiber and joins it, a JDK poller thread, a server's dispatcher thread): for it, spinning a
 * little longer than the partner's round trip replaces the block and the wake by a few hundred
 * nanoseconds of spinning. A carrier whose blocks last long is idle, and spinning would only waste a CPU
 * another thread could use.
 *
 * <p>So the budget starts at {@link Tunables#IDLE_SPINS}, doubles (up to {@link Tunables#IDLE_SPINS_MAX})
 * each time the carrier blocked and was woken within {@link Tunables#IDLE_SPIN_SHORT_BLOCK_NANOS}, and
 * halves (down to the base) each time a block lasted longer. A wake that arrives while the carrier still
 * spins leaves the budget as it is: the spin served. The adaptation never changes what a park means,
 * only when the carrier stops spinning and commits to blocking ({@link WakeHandshake}).
 *
 * <p>Owner-only: the carrier thread reads and updates it, with plain accesses. A carrier without the
 * spinning capability ({@code CarrierDriver.spinsWhenIdle()} false: I/O carriers, whose block is also
 * where they reap completions) has a budget of zero that never grows.
 */
final class IdleSpin {
    private final int base;                  // starting and minimum budget; 0 disables spinning
    private final int max;                   // the most the budget may grow to
    private int budget;                      // owner: spins before the next block

    IdleSpin(int base, int max) {
        if (base < 0 || max < base) throw new IllegalArgumentException("base " + base + ", max " + max);
        this.base = base;
        this.max = max;
        this.budget = base;
    }

    /** Spin-wait iterations for the next park. */
    int budget() { return budget; }

    /**
     * Reports how the last park ended: {@code blocked} whether the spin ran out and the carrier blocked,
     * and if so for how long before it woke.
     */
    void parked(boolean blocked, long blockedNanos) {
        if (!blocked || base == 0) return;
        if (blockedNanos < Tunables.IDLE_SPIN_SHORT_BLOCK_NANOS) budget = Math.min(max, budget * 2);
        else budget = Math.max(base, budget / 2);
    }
}
