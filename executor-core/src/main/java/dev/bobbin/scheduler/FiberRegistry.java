package dev.bobbin.scheduler;

import dev.bobbin.base.LinePadding;
import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The live fibers of one scheduler, and (with {@link EngineConfig#trackFibers()}) the
 * time each last ran: the scheduler's exact live-fiber set, which counts each completion once, and the
 * source of a fiber dump ({@code FiberScheduler.dumpFibers}).
 *
 * <p>Why a set: a carrier learns that a fiber terminated by reading its state after running it, but a
 * fiber that parked at the end of that run may be resumed and finish on another carrier before the
 * first one reads the state; both then see it terminated. Removal from this set is the claim that
 * decides which of them counts the completion.
 *
 * <p>The one live-fiber set of the runtime. A {@code FiberExecutor} keeps no set of its own: it enrols
 * each job's fiber here just before starting it, with itself as the fiber's {@link Owner} ({@link #enrol};
 * the start then skips its own add, see {@code JdkVirtualThreads.enrolledBeforeStart}, except where the
 * JDK's thread containers are out of reach, where that add finds the entry and keeps it), lists its
 * fibers from here for shutdownNow ({@link #owned}), and hears of each exit ({@link Owner#exited}) from
 * the carrier that removes the fiber.
 * An owner costs one reference per slot, in an array a stripe allocates at its first enrol.
 *
 * <p>Implementation overview. A fiber is added when it starts (in {@link CarrierPool#execute}) and
 * removed by the carrier that sees it terminate, so references are strong and never outlive the fiber's
 * run. A fiber parked with nothing else referencing it stays reachable through this set, as a virtual
 * thread started with {@code Thread.start()} does through the JDK's root container; for the fibers
 * Bobbin starts in its own thread containers this set is that reference, and the list their containers
 * read for the JDK's thread dumps; those reads wait for a stripe's lock at most
 * {@link Tunables#REGISTRY_DUMP_LOCK_WAIT_NANOS} and otherwise leave its fibers out, so a carrier frozen
 * while it holds one (by a debugger) cannot hang {@code jcmd Thread.dump_to_file}. The set is
 * striped by runs of consecutive thread ids ({@link Tunables#FIBER_REGISTRY_STRIPE_RUN} to a run, each run
 * on a stripe picked by a hash of it): fibers started one after another get consecutive ids, and the
 * carrier that ends them (often not the one that started them: a thief takes a contiguous half of a
 * ring) then finds their stripe's lock and table on its own cache lines for a whole run, where a stripe
 * per fiber made every second removal fetch both from the other carrier. Inside its stripe a run takes a
 * block of consecutive slots (16 compressed references: a cache line's worth, on one or two lines), so
 * the run's adds and removals meet those lines again instead of a line per fiber. Each stripe is an
 * open-addressing table (linear probing, backward-shift deletion, no tombstones) of fiber references
 * and their hashes, guarded by the stripe's spin lock, with a parallel array of last-run timestamps only
 * when fibers are tracked. At a load between 1/4 and 1/2 a live fiber costs a reference and a hash per
 * slot, 16 to 32 bytes (32 to 64 with timestamps), against roughly 600 bytes for a parked
 * virtual thread; a table keeps the size its recent peak needed (see {@link Stripe}), and each stripe's
 * words are padded off other objects' cache lines. A carrier touches a stripe at a fiber's start and end
 * (and after each run when last-run times are tracked); the stripes are many more than the carriers, so
 * the locks are rarely contended.
 */
public final class FiberRegistry {
    /** {@link Stripe#removeLocked}'s answer for a fiber that was not present. */
    private static final Object ABSENT = new Object();
    private static final System.Logger LOG = System.getLogger("dev.bobbin");
    private static final int RUN = Tunables.FIBER_REGISTRY_STRIPE_RUN;              // ids per run (see hash)
    private static final int RUN_BITS = Integer.numberOfTrailingZeros(RUN);
    static {
        assert Integer.bitCount(RUN) == 1 : "FIBER_REGISTRY_STRIPE_RUN must be a power of two";
    }

    private final Stripe[] stripes;
    private final int stripeMask;
    private final boolean stampRuns;          // stripes keep last-run times

    /** {@code stamped}: keep a last-run time per fiber (8 more bytes per slot; off unless fibers are tracked). */
    FiberRegistry(int parallelism, boolean stamped) {
        int n = Integer.highestOneBit(Math.max(1, parallelism * Tunables.FIBER_REGISTRY_STRIPES_PER_CARRIER) * 2 - 1);
        stripes = new Stripe[n];
        for (int i = 0; i < n; i++) stripes[i] = new Stripe(stamped);
        stripeMask = n - 1;
        stampRuns = stamped;
    }

    /**
     * The fiber's hash, both halves from the mix of the run of {@link Tunables#FIBER_REGISTRY_STRIPE_RUN}
     * consecutive ids it belongs to: the low bits pick the stripe; the high 32 bits (the slot) put the
     * run's block of slots in the stripe's table, and the id's place in its run the slot in the block.
     */
    private static long hash(Thread fiber) {
        long id = fiber.threadId();
        long run = mix(id / RUN);
        long slot = ((run >>> 32) << RUN_BITS | (id & (RUN - 1))) & 0xFFFF_FFFFL;
        return slot << 32 | (run & 0xFFFF_FFFFL);
    }

    /** A 64-bit mix (murmur3's finalizer). */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** The in-stripe hash: the run's block (mixed bits independent of the stripe bits) and the id's place in it. */
    private static int slotHash(long h) {
        return (int) (h >>> 32);
    }

    private Stripe stripeOf(long h) {
        return stripes[stripeIndexOf(h)];
    }

    /** The stripe a hash picks: its low bits. */
    private int stripeIndexOf(long h) {
        return (int) h & stripeMask;
    }

    /** The index of {@code fiber}'s stripe (tests). */
    int stripeIndex(Thread fiber) {
        return stripeIndexOf(hash(fiber));
    }

    /**
     * The owner of a group of fibers, told when one of them exits: a {@code FiberExecutor}'s jobs. An
     * executor keeps no set of its own: it enrols each job's fiber here before starting it, counts them,
     * and lists them from here ({@link #owned}).
     */
    public interface Owner {
        /**
         * {@code fiber}, enrolled by this owner, terminated and left the registry. Called once per fiber,
         * on the carrier that saw it terminate (after the registry's lock is released); must not block.
         */
        void exited(Thread fiber);
    }

    /** Adds a started fiber, stamped with {@code now}; a fiber enrolled before its start keeps its owner. */
    void add(Thread fiber, long now) {
        long h = hash(fiber);
        stripeOf(h).add(fiber, slotHash(h), now, null);
    }

    /**
     * Adds {@code fiber}, about to be started, with its {@code owner}, which hears of its exit
     * ({@link Owner#exited}) unless it is withdrawn first. Any thread.
     */
    public void enrol(Thread fiber, Owner owner) {
        long h = hash(fiber);
        stripeOf(h).add(fiber, slotHash(h), stampRuns ? System.nanoTime() : 0, owner);
    }

    /**
     * Removes an enrolled fiber whose start failed, without telling its owner; true if it was still
     * present (false: it ran and exited, and its owner was told). Any thread.
     */
    public boolean withdraw(Thread fiber) {
        return take(fiber) != ABSENT;
    }

    /** Removes {@code fiber} under its stripe's lock: its owner (null if none), or {@link #ABSENT}. */
    private Object take(Thread fiber) {
        long h = hash(fiber);
        Stripe s = stripeOf(h);
        s.lock();
        try {
            return s.removeLocked(fiber, slotHash(h));
        } finally {
            s.unlock();
        }
    }

    /** Adds every present fiber enrolled by {@code owner} to {@code out}. Any thread. */
    public void owned(Owner owner, List<Thread> out) {
        owned(owner, out, false);
    }

    /** Whether {@code fiber} is present and was enrolled by {@code owner}. Any thread; under its stripe's lock. */
    public boolean isOwnedBy(Thread fiber, Owner owner) {
        long h = hash(fiber);
        Stripe s = stripeOf(h);
        s.lock();
        try {
            int i = s.indexOf(fiber, slotHash(h));
            return i >= 0 && s.owners != null && s.owners[i] == owner;
        } finally {
            s.unlock();
        }
    }

    /**
     * Whether any present fiber was enrolled by {@code a} or {@code b}; stops at the first found. Any
     * thread; a scan of the stripes, each under its lock (a waiter's check, not for hot paths).
     */
    public boolean holdsAny(Owner a, Owner b) {
        for (Stripe s : stripes) {
            s.lock();
            try {
                if (s.owners == null) continue;
                for (Owner o : s.owners) {
                    if (o == a || o == b) return true;        // a and b are never null
                }
            } finally {
                s.unlock();
            }
        }
        return false;
    }

    /**
     * {@link #owned} for a thread dump: a stripe whose lock stays held for
     * {@link Tunables#REGISTRY_DUMP_LOCK_WAIT_NANOS} (its holder frozen by a debugger, say) is left out
     * rather than waited for, so a dump never hangs on a carrier; false if one was left out.
     */
    public boolean ownedForDump(Owner owner, List<Thread> out) {
        return owned(owner, out, true);
    }

    private boolean owned(Owner owner, List<Thread> out, boolean bounded) {
        boolean complete = true;
        for (Stripe s : stripes) {
            if (!s.lock(bounded)) {
                complete = false;
                continue;
            }
            try {
                if (s.owners == null) continue;
                for (int i = 0; i < s.keys.length; i++) {
                    if (s.owners[i] == owner) out.add(s.keys[i]);
                }
            } finally {
                s.unlock();
            }
        }
        if (!complete) dumpIncomplete();
        return complete;
    }

    /** Records that {@code fiber} just ran (its run ended at {@code now}). Ignores an unknown fiber. */
    void ran(Thread fiber, long now) {
        long h = hash(fiber);
        stripeOf(h).stamp(fiber, slotHash(h), now);
    }

    /**
     * Removes a terminated fiber; true if it was present (exactly one caller gets true per fiber). Tells
     * its owner, if it has one, after the stripe's lock is released.
     */
    boolean remove(Thread fiber) {
        Object owner = take(fiber);
        if (owner == ABSENT) return false;
        if (owner != null) {
            try {
                ((Owner) owner).exited(fiber);
            } catch (Throwable t) {                // the completion still counts; the carrier must go on
                LOG.log(System.Logger.Level.ERROR, "a fiber owner failed on the exit of " + fiber, t);
            }
        }
        return true;
    }

    /**
     * Monitor thread, every {@link Tunables#REGISTRY_TRIM_INTERVAL_NANOS}: gives back the table memory of
     * stripes that stayed quiet since the previous call ({@link Stripe#trimIfIdle}). Never blocks.
     */
    void trimIdle() {
        for (Stripe s : stripes) s.trimIfIdle();
    }

    /** Number of tracked fibers; a sum of per-stripe sizes, each read under its lock. */
    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            s.lock();
            try {
                n += s.size;
            } finally {
                s.unlock();
            }
        }
        return n;
    }

    /** Adds every tracked fiber to {@code out}. Any thread. */
    public void live(List<Thread> out) {
        snapshot(out, null);
    }

    /** {@link #live} for a thread dump, bounded like {@link #ownedForDump}; false if a stripe was left out. */
    public boolean liveForDump(List<Thread> out) {
        return snapshotForDump(out, null);
    }

    /** Copies every tracked fiber into {@code fibers} and, unless it is null, its last-run time into {@code lastRun}. */
    public void snapshot(List<Thread> fibers, List<Long> lastRun) {
        snapshot(fibers, lastRun, false);
    }

    /**
     * {@link #snapshot} for a fiber dump, bounded like {@link #ownedForDump}: a stripe whose lock stays
     * held is left out; false if one was.
     */
    public boolean snapshotForDump(List<Thread> fibers, List<Long> lastRun) {
        return snapshot(fibers, lastRun, true);
    }

    private boolean snapshot(List<Thread> fibers, List<Long> lastRun, boolean bounded) {
        boolean complete = true;
        for (Stripe s : stripes) {
            if (!s.lock(bounded)) {
                complete = false;
                continue;
            }
            try {
                for (int i = 0; i < s.keys.length; i++) {
                    if (s.keys[i] != null) {
                        fibers.add(s.keys[i]);
                        if (lastRun != null) lastRun.add(s.stamps != null ? s.stamps[i] : 0L);
                    }
                }
            } finally {
                s.unlock();
            }
        }
        if (!complete) dumpIncomplete();
        return complete;
    }

    /** A dump left out a stripe whose lock stayed held: said at DEBUG, the dump goes on without it. */
    private static void dumpIncomplete() {
        LOG.log(System.Logger.Level.DEBUG, "bobbin: a thread dump left out fibers of a registry stripe whose lock stayed held");
    }

    /**
     * A stripe's fields, behind 128 bytes of padding ({@link LinePadding}): each stripe's lock word and
     * size are written by every carrier, and stripes allocated side by side would otherwise share lines.
     */
    @SuppressWarnings("unused")
    private abstract static class StripeFields extends LinePadding {
        static final VarHandle LOCKED = VarHandles.field(MethodHandles.lookup(), StripeFields.class, "locked", int.class);
        volatile int locked;                  // 1 while held
        Thread[] keys = new Thread[Tunables.FIBER_REGISTRY_INITIAL_SLOTS]; // guarded by the lock
        int[] hashes = new int[Tunables.FIBER_REGISTRY_INITIAL_SLOTS]; // guarded by the lock; parallel to keys: each key's slot hash
        long[] stamps;                        // guarded by the lock; parallel to keys, or null when not stamped
        Owner[] owners;                       // guarded by the lock; parallel to keys, null until the first enrol
        int size;                             // guarded by the lock
        int windowPeak;                       // guarded by the lock; the largest size in the current window
        int windowRemovals;                   // guarded by the lock; removals in the current window
        int lastWindowPeak = Integer.MAX_VALUE; // guarded by the lock; the previous window's peak (none: MAX_VALUE)
        int removalsSinceTrim;                // guarded by the lock; removals since the last trimIdle pass
    }

    /**
     * One stripe: an open-addressing table guarded by its own spin lock. Each slot keeps its fiber's hash
     * beside the reference: a run's block makes probe clusters long, and a deletion's backward shift walks
     * the rest of its cluster reading each member's home, which the hashes give without touching the
     * fibers (the table's own lines only).
     *
     * <p>Sizing. The table grows when an add would take it above 1/2 load. It shrinks only when the load
     * stayed low for a while: the stripe counts its removals in windows of half a table, keeps each
     * window's peak population, and when two windows in a row peaked at 1/8 of the table or less, shrinks
     * it to the smallest size that holds their peak at 1/4 load. So a load that rises and falls in
     * batches (an invokeAll of thousands of tasks, again and again, draining to nothing between them)
     * keeps the table its batches need, where shrinking at every trough would grow it again, moving every
     * entry, at every batch; and a table left large by a spike shrinks once fibers have turned over for
     * a table's worth of removals at the lower load. A table left large when the load stops (a spike
     * drained, then quiet) is trimmed by the stall monitor's periodic pass ({@link #trimIfIdle}), which
     * leaves alone any stripe that turned over half its table since the previous pass.
     */
    private static final class Stripe extends StripeFields {
        @SuppressWarnings("unused")                 // after the fields: see LinePadding
        private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

        Stripe(boolean stamped) {
            stamps = stamped ? new long[Tunables.FIBER_REGISTRY_INITIAL_SLOTS] : null;
        }

        void add(Thread fiber, int h, long now, Owner owner) {
            lock();
            try {
                if ((size + 1) * 2 > keys.length) resize(keys.length * 2);   // load at most 1/2
                if (owner != null && owners == null) owners = new Owner[keys.length]; // before any change: OOM-safe
                insert(fiber, h, now, owner);
                size++;
                if (size > windowPeak) windowPeak = size;
            } finally {
                unlock();
            }
        }

        /** A present fiber keeps its owner (a start's add after the enrol). */
        private void insert(Thread fiber, int h, long now, Owner owner) {
            int mask = keys.length - 1;
            int i = h & mask;
            while (keys[i] != null) {
                if (keys[i] == fiber) { if (stamps != null) stamps[i] = now; size--; return; } // present: no growth
                i = (i + 1) & mask;
            }
            keys[i] = fiber;
            hashes[i] = h;
            if (stamps != null) stamps[i] = now;
            if (owners != null) owners[i] = owner;
        }

        void stamp(Thread fiber, int h, long now) {
            lock();
            try {
                int i = indexOf(fiber, h);
                if (i >= 0 && stamps != null) stamps[i] = now;
            } finally {
                unlock();
            }
        }

        /** Removes {@code fiber}: its owner (null if none), or {@link #ABSENT}. Under the lock. */
        Object removeLocked(Thread fiber, int h) {
            int i = indexOf(fiber, h);
            if (i < 0) return ABSENT;
            Owner owner = owners != null ? owners[i] : null;
            int mask = keys.length - 1;
            // backward-shift deletion: pull later members of the probe run into the hole
            int hole = i;
            int j = (i + 1) & mask;
            while (keys[j] != null) {
                int home = hashes[j] & mask;
                // move keys[j] into the hole unless its home lies cyclically in (hole, j]
                boolean homeBetween = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
                if (!homeBetween) {
                    keys[hole] = keys[j];
                    hashes[hole] = hashes[j];
                    if (stamps != null) stamps[hole] = stamps[j];
                    if (owners != null) owners[hole] = owners[j];
                    hole = j;
                }
                j = (j + 1) & mask;
            }
            keys[hole] = null;
            if (stamps != null) stamps[hole] = 0;
            if (owners != null) owners[hole] = null;
            size--;
            removalsSinceTrim++;
            if (++windowRemovals >= Math.max(Tunables.FIBER_REGISTRY_INITIAL_SLOTS, keys.length / 2)) endWindow();
            return owner;
        }

        /**
         * Monitor, every {@link Tunables#REGISTRY_TRIM_INTERVAL_NANOS}: a table at 1/8 load or less whose
         * stripe removed fewer than half a table's fibers since the last pass (a load that stopped, not
         * one that rises and falls) shrinks to the smallest size that holds its population at 1/4 load. Never waits for the lock: a
         * held stripe is busy, and the next pass looks again.
         */
        void trimIfIdle() {
            if (!tryLock()) return;
            try {
                if (keys.length > Tunables.FIBER_REGISTRY_INITIAL_SLOTS && size * 8L <= keys.length
                        && removalsSinceTrim < keys.length / 2) {
                    shrinkToFit(size);
                    windowPeak = size;
                    windowRemovals = 0;
                    lastWindowPeak = Integer.MAX_VALUE;   // a new table: two more low windows before the next shrink
                }
                removalsSinceTrim = 0;
            } finally {
                unlock();
            }
        }

        /**
         * Shrinks the table to the smallest power of two that holds {@code peak} at 1/4 load (at most half
         * the table, and {@code size <= peak}). Shrinking is optional: if the new arrays cannot be
         * allocated the stripe keeps its table, so a removal never fails for it.
         */
        private void shrinkToFit(long peak) {
            long fit = Math.max(Tunables.FIBER_REGISTRY_INITIAL_SLOTS, Long.highestOneBit(Math.max(1, 4 * peak - 1)) << 1);
            if (fit >= keys.length) return;
            try {
                resize((int) fit);
            } catch (OutOfMemoryError keepTheTable) {
                // resize allocates before it changes anything: the stripe is as it was
            }
        }

        /**
         * Half a table of removals since the last window ended: shrinks the table if this window and the
         * one before both peaked at 1/8 of it or less, and opens the next window.
         */
        private void endWindow() {
            long peak = Math.max(windowPeak, lastWindowPeak);
            if (keys.length > Tunables.FIBER_REGISTRY_INITIAL_SLOTS && peak * 8 <= keys.length) {
                shrinkToFit(peak);
                lastWindowPeak = Integer.MAX_VALUE;   // a new table: two more low windows before the next shrink
            } else {
                lastWindowPeak = windowPeak;
            }
            windowPeak = size;
            windowRemovals = 0;
        }

        /**
         * Test-and-test-and-set lock: the critical sections are a few probes long, shorter than a monitor's
         * own bookkeeping, and a monitor that was contended once stays inflated. CAS acquire; pairs with
         * the release in {@link #unlock}.
         */
        void lock() {
            lock(false);
        }

        /**
         * {@link #lock}; when {@code bounded}, gives up (false) once the lock stayed held for
         * {@link Tunables#REGISTRY_DUMP_LOCK_WAIT_NANOS} after the spins.
         */
        boolean lock(boolean bounded) {
            int spins = 0;
            long deadline = 0;
            while (!LOCKED.compareAndSet(this, 0, 1)) {
                while ((int) LOCKED.getOpaque(this) != 0) {
                    if (++spins < Tunables.REGISTRY_LOCK_SPINS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    if (bounded) {                   // the clock is read only once the spins are spent
                        long now = System.nanoTime();
                        if (deadline == 0) deadline = now + Tunables.REGISTRY_DUMP_LOCK_WAIT_NANOS;
                        else if (now - deadline > 0) return false;
                    }
                    Thread.yield();                  // the holder was descheduled
                }
            }
            return true;
        }

        /** {@link #lock} if it is free now, without spinning: false if held. CAS acquire; pairs with {@link #unlock}. */
        boolean tryLock() {
            return LOCKED.compareAndSet(this, 0, 1);
        }

        void unlock() {
            LOCKED.setRelease(this, 0);          // release; pairs with the CAS in lock
        }

        private int indexOf(Thread fiber, int h) {
            int mask = keys.length - 1;
            int i = h & mask;
            Thread k;
            while ((k = keys[i]) != null) {
                if (k == fiber) return i;
                i = (i + 1) & mask;
            }
            return -1;
        }

        private void resize(int capacity) {
            Thread[] oldKeys = keys;
            int[] oldHashes = hashes;
            long[] oldStamps = stamps;
            Owner[] oldOwners = owners;
            // allocate all before replacing any: an OutOfMemoryError leaves the stripe as it was
            Thread[] newKeys = new Thread[capacity];
            int[] newHashes = new int[capacity];
            long[] newStamps = oldStamps != null ? new long[capacity] : null;
            Owner[] newOwners = oldOwners != null ? new Owner[capacity] : null;
            keys = newKeys;
            hashes = newHashes;
            stamps = newStamps;
            owners = newOwners;
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != null) {
                    insert(oldKeys[i], oldHashes[i], oldStamps != null ? oldStamps[i] : 0,
                            oldOwners != null ? oldOwners[i] : null);
                }
            }
        }
    }

    /** For tests: the slot of {@code fiber} in its stripe's table, or -1 if absent. */
    int slotIndex(Thread fiber) {
        long h = hash(fiber);
        Runnable release = holdStripeOf(fiber);
        try {
            return stripeOf(h).indexOf(fiber, slotHash(h));
        } finally {
            release.run();
        }
    }

    /** For tests: holds the lock of {@code fiber}'s stripe, as a frozen carrier would; the returned action releases it. */
    Runnable holdStripeOf(Thread fiber) {
        Stripe s = stripeOf(hash(fiber));
        s.lock();
        return s::unlock;
    }

    /** For tests: the slots of every stripe's table. */
    int capacity() {
        int n = 0;
        for (Stripe s : stripes) {
            s.lock();
            try {
                n += s.keys.length;
            } finally {
                s.unlock();
            }
        }
        return n;
    }

    /** For tests: every tracked fiber. */
    List<Thread> fibers() {
        List<Thread> out = new ArrayList<>();
        snapshot(out, new ArrayList<>());
        return out;
    }
}
