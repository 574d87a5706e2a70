package dev.bobbin.uring.driver;

import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.DriverStats;
import io.netty.channel.Channel;
import io.netty.channel.IoEventLoop;
import io.netty.channel.ManualIoEventLoop;
import io.netty.util.concurrent.FastThreadLocalThread;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.LongAdder;

/**
 * A carrier's I/O driver: one Netty {@link ManualIoEventLoop} (an io_uring ring, an epoll instance or a
 * NIO selector) owned and driven by the carrier thread. The package overview says how it is driven
 * (poll, park, wakeup), why a fiber never runs Netty code and how operations reach the loop: a fiber
 * mounted on this carrier queues them with {@code submitLocal} for the next {@link #poll()}; other
 * threads go through the loop's thread-safe {@code execute}, which wakes it.
 *
 * <h2>Ring rescue: serving the loop while the carrier is stalled</h2>
 * A fiber that runs for long without a blocking point keeps its carrier thread away from the loop, and
 * with it every socket living there: their completions wait in the ring and their fibers wait for them
 * (head-of-line blocking behind one fiber). So the stall monitor tells the driver when its carrier has
 * run one fiber for a time slice ({@link #carrierStalled}), and a rescuer thread, one per driver started
 * at its first stall, drives the loop until the carrier comes back to it. Completions the rescuer reaps
 * resume their fibers from outside the carriers, into the injection queue, where the other carriers (or
 * a spare) run them; their next operations are routed to this loop's task queue, whose wakeup reaches
 * the rescuer blocked in the loop. When the carrier comes back it takes the loop back, reaps what is
 * left, and the fibers whose sockets live here return to it with their completions.
 *
 * <p>Protocol. The loop (Netty's handler, the ring, its task queue's consumer side, every channel
 * registered on it) is used by one thread at a time, the holder of the ring token {@code ring}:
 * <pre>
 *   OUT      --enter (carrier, CAS)----------------&gt; IN        carrier runs poll, park or close
 *   IN       --exit (carrier, release store)-------&gt; OUT       carrier goes back to running fibers
 *   OUT      --take (rescuer, CAS)-----------------&gt; RESCUED   rescuer drives the loop
 *   RESCUED  --reclaim (carrier, CAS) + nudge------&gt; RECLAIM   carrier waits for the hand-back
 *   RESCUED, RECLAIM --give back (rescuer, release store)--&gt; OUT, then unpark the carrier
 * </pre>
 * Invariants: (1) Netty code of this loop runs only on the token holder: the carrier only between enter
 * and exit, which bracket every {@code poll}, {@code park} and {@code close}; the rescuer only between
 * take and give back. A fiber never runs Netty code (package overview), so while the carrier runs fibers
 * (OUT, RESCUED, RECLAIM) it does not touch the loop. (2) Netty's own ownership test
 * ({@code inEventLoop}, used by its assertions and to decide whether {@code execute} must wake the loop)
 * names the token holder: the rescuer sets the loop's owning thread to itself after its take and back
 * to the carrier before its give-back; the carrier never changes it. (3) IN is left only by the carrier,
 * RESCUED only by the rescuer's give-back or the carrier's reclaim, RECLAIM only by the give-back; so
 * the carrier, having reclaimed, gets the token back exactly when the rescuer let go, and a rescuer's
 * take fails whenever the carrier is in the driver. (4) {@code local}, the operations fibers mounted on
 * this carrier queued for its next poll, has one producer (whatever fiber runs on the carrier thread)
 * and one consumer at a time, the token holder, which runs them before every pass of the loop: the
 * operations a fiber queued just before the carrier stalled are submitted by the rescuer. A fiber that
 * queues one while the loop is rescued (the stalled fiber itself once it reaches I/O, or any fiber the
 * carrier runs before it reclaims the loop) takes it back out and routes it through the loop's task
 * queue instead: the rescuer runs the local queue only between passes, so an operation left there could
 * be overtaken by a later one routed during a pass, and the peer would read bytes out of order. Queuing
 * and reading the token are both volatile, as are the rescuer's take and its drain, so either the fiber
 * sees the loop rescued and takes the operation back (or finds the rescuer drained it first, which runs
 * it before its next pass), or the rescuer's drain after its take sees the operation. (5) A completion is
 * reaped once, by whoever holds the token; its fiber is resumed once (the {@link Pending} CAS).
 *
 * <p>Memory ordering. The token's transitions order the loop's plain state between the two threads:
 * exit is a release store that the rescuer's take (CAS, acquire) pairs with; the give-back is a release
 * store that the carrier's enter (CAS, acquire) pairs with. The reclaim CAS and the rescuer's volatile
 * re-reads of {@code ring} only decide who acts next; they publish nothing. The owning-thread swaps are
 * Netty's {@code AtomicReference} writes, done by the token holder while it holds the token, as are the
 * writes of Netty's plain io_uring enter fields ({@code UringEnter}). {@code submitLocal}'s offer
 * (a CAS in the queue) and its volatile read of the token pair with the take's CAS and the rescuer's
 * drain (invariant (4)). {@code rescueWanted}: the monitor sets it (getAndSet) and then unparks the
 * rescuer, which reads it before parking, so no request is slept through; the rescuer clears it after
 * its give-back, and the monitor's next sample sets it again if the stall goes on.
 *
 * <p>The stall report may be stale or wrong (the carrier moved on): the take then either fails (the
 * carrier is in the driver) or takes the loop from a carrier that is running fibers, which takes it back
 * at its next poll, a few dozen fibers later; nothing is lost, it costs a hand-over. The nudge of a
 * reclaim is the same queued task as {@link #wakeup}: a loop never blocks while a task is queued, and the
 * rescuer also re-checks the token at least every {@link IoTunables#RESCUE_MAX_BLOCK_NANOS}. Wake tasks
 * meant for the carrier can run on the rescuer's passes instead, so after its give-back the rescuer wakes
 * the loop once more ({@code redeliverWakeup}): a carrier the scheduler woke never blocks in the loop for
 * want of a wake task that a rescue consumed.
 *
 * <p>Kernel side (io_uring). A single-issuer ring (IORING_SETUP_SINGLE_ISSUER, Netty's default)
 * refuses io_uring_enter from any thread but its creator, and with DEFER_TASKRUN, which needs that mode,
 * the kernel posts completions only when the creator enters the ring: nothing another thread does can
 * serve it while its carrier is stalled. So a rescuable loop gets a ring without the mode. Netty makes
 * those without DEFER_TASKRUN and without COOP_TASKRUN, so that every completion needing task work
 * interrupts the submitting thread, which measured 1.4-2.6x the server CPU per round trip; Bobbin remakes
 * them with COOP_TASKRUN (dev.bobbin.uring's {@code RescuableRingFactory}), which measured what a
 * single-issuer ring costs (bench/README.md), so rescue is on by default on io_uring as on epoll and NIO.
 * Where that remake is not possible (an older kernel, another Netty or JDK) rescue on io_uring is off unless
 * {@value IoTunables#RESCUE_PROPERTY}{@code =true}, and then uses Netty's rings. With COOP_TASKRUN the
 * kernel finishes a request (e.g. a socket read armed on poll) in the context of the thread that
 * submitted it, at that thread's next kernel entry or exit: a carrier burning CPU runs that work at its
 * next timer interrupt, one asleep in an interruptible wait is woken for it and resumes the wait (one in
 * an uninterruptible wait, e.g. disk I/O, delays its earlier requests' completions until it returns). A
 * request the rescuer submitted is likewise finished by the rescuer thread, even after it gave the loop
 * back; completion work the kernel can no longer hand to an exited thread fails the request
 * (-ECANCELED), so the rescuer lives as long as the loop (it exits once {@link #close} shut the loop
 * down) and only one is ever made per driver. So a request that stays armed would tie its socket to the
 * rescuer for good: Netty's multishot read poll, armed once per socket, woke the rescuer for every event
 * of every socket whose first read it armed, long after the stall. Bobbin turns multishot read polls off
 * while rescue is on ({@code IoTransport}); a single-shot poll is re-armed by whoever serves its socket
 * next, the carrier once it is back ({@code RescuedPollTest}). Netty enters a ring through an index
 * registered for its creating thread (IORING_REGISTER_RING_FDS), valid in that thread only; the rescuer
 * enters through the ring's descriptor while it holds the token ({@code UringEnter}), and puts the index
 * back before its give-back. An earlier version of io_uring rescue lost a connection's progress once in the forced
 * hand-over stress test; the wake-up a rescue could consume (see {@code redeliverWakeup}), found and
 * fixed later on epoll with the same symptom, fits that failure, and the stress and stall tests run on
 * io_uring too since.
 */
public final class IoCarrierDriver implements CarrierDriver {
    final IoDrivers drivers;                          // the runtime this driver belongs to
    final CarrierContext carrier;
    final ManualIoEventLoop loop;                     // used only by the holder of the ring token
    private final ConcurrentLinkedQueue<Runnable> local = new ConcurrentLinkedQueue<>(); // ops from mounted fibers; see (4)
    private final AtomicBoolean wakePending = new AtomicBoolean(); // a wakeup task is queued on the loop
    private final Runnable clearWake = () -> wakePending.set(false);

    final AtomicInteger homedSockets = new AtomicInteger(); // sockets that live on this loop (LoopGroup)
    private final Object scheduler;                   // identifies the carrier's scheduler (CarrierContext.scheduler)
    private final LoopGroup group;                    // the scheduler's regular loops; null for a spare

    // ring token, see "Ring rescue" above
    static final int OUT = 0, IN = 1, RESCUED = 2, RECLAIM = 3;
    private final AtomicInteger ring = new AtomicInteger(IN); // IN: the carrier creates and first uses the loop
    private final AtomicReference<Thread> loopOwner;  // Netty's owning thread of loop; null: rescue off
    private final UringEnter uringEnter;              // a rescuable io_uring ring: how the token holder enters it
    private final AtomicBoolean rescueWanted = new AtomicBoolean(); // monitor sets, rescuer clears
    private volatile Rescuer rescuer;                 // made at the first stall, by the monitor thread
    private volatile boolean closed;                  // set by close(): no more rescues
    private volatile boolean loopGone;                // set once close() shut the loop down: the rescuer exits
    private volatile boolean rescueFailed;            // a rescue threw: no more rescues (errors reported once)
    private final LongAdder rescues = new LongAdder(); // rescuer: takes of the loop
    private final LongAdder rescuedEvents = new LongAdder(); // rescuer: events its runs of the loop processed

    IoCarrierDriver(IoDrivers drivers, CarrierContext carrier) {
        this.drivers = drivers;
        this.carrier = carrier;
        boolean rescue = drivers.rescue && OWNING_THREAD != null  // volatile read, once: a ring's mode is fixed
                && (!drivers.ioUring() || UringEnter.SUPPORTED);        // when it is made
        this.loop = new ManualIoEventLoop(carrier.carrierThread(), drivers.handlerFactory(rescue));
        loop.runNow();                                // initializes the handler here: io_uring enables the ring
                                                      // and registers its descriptor for this thread
        this.uringEnter = rescue && drivers.ioUring() ? UringEnter.of(loop) : null;
        this.loopOwner = rescue && (uringEnter != null || !drivers.ioUring()) ? owningThreadOf(loop) : null;
        if (drivers.rescue && loopOwner == null) drivers.rescueUnavailable();   // asked for, and this Netty hides what it needs
        this.scheduler = carrier.scheduler();
        this.group = carrier.isSpare() ? null : drivers.joinGroup(scheduler, this); // spares come and go: not placed on
        ring.set(OUT);                                // release: the loop as built, for a rescuer's take
    }

    /** The {@code AtomicReference} behind the loop's {@code inEventLoop}, or null if this Netty hides it. */
    @SuppressWarnings("unchecked")
    private static AtomicReference<Thread> owningThreadOf(ManualIoEventLoop loop) {
        java.lang.reflect.Field f = OWNING_THREAD;
        if (f == null) return null;
        try {
            return (AtomicReference<Thread>) f.get(loop);
        } catch (ReflectiveOperationException | ClassCastException e) {
            return null;
        }
    }

    private static final java.lang.reflect.Field OWNING_THREAD = owningThreadField();

    /** A declared field of a Netty class, made accessible (Netty's internals a rescuer swaps; see the overview). */
    private static java.lang.reflect.Field field(Class<?> c, String name) throws NoSuchFieldException {
        java.lang.reflect.Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    private static java.lang.reflect.Field owningThreadField() {
        try {
            java.lang.reflect.Field f = field(ManualIoEventLoop.class, "owningThread");
            return f.getType() == AtomicReference.class ? f : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;                               // not Netty 4.2's layout: no rescue
        }
    }

    /** This carrier's event loop, the home of the sockets that live here: any thread may hand it tasks, but its
     *  Netty code runs only on the ring token's holder. */
    public IoEventLoop loop() {
        return loop;
    }

    /** A socket's first operation chose this loop as its home (one more socket for placement to weigh). Any thread. */
    public void socketHomed() {
        homedSockets.incrementAndGet();
    }

    /** A socket living here closed, or failed to register here. Loop thread. */
    public void socketLeft() {
        homedSockets.decrementAndGet();
    }

    /**
     * Where a socket first used by the calling fiber, mounted on this carrier, should live (LoopGroup);
     * {@code acceptedOn}: the driver whose loop accepted it, or null.
     */
    IoCarrierDriver placeNewSocket(IoCarrierDriver acceptedOn) {
        return group != null && carrier.currentFiberMayMove() ? group.placeFor(acceptedOn, this) : this;
    }

    /** The driver of the carrier the caller is mounted on, if it belongs to {@code drivers}; else null. */
    public static IoCarrierDriver current(IoDrivers drivers) {
        CarrierContext c = CarrierContext.current();
        return c != null && c.driver() instanceof IoCarrierDriver d && d.drivers == drivers ? d : null;
    }

    /**
     * Code running on a loop of {@code drivers}: the driver of that loop, whether its carrier or its rescuer
     * runs it; null on the fallback loop. (Not for choosing {@code submitLocal}: a rescuer has no
     * carrier, so {@link #current} is null there.)
     */
    public static IoCarrierDriver runningLoop(IoDrivers drivers) {
        if (Thread.currentThread() instanceof Rescuer r) return r.driver().drivers == drivers ? r.driver() : null;
        return current(drivers);
    }

    /**
     * Queues an operation for this carrier's next poll; false if it was not queued because a rescuer holds
     * the loop (the caller routes it through the loop's task queue instead). Owner only: the carrier or a
     * fiber mounted on it. See invariant (4).
     */
    boolean submitLocal(Runnable op) {
        assert carrier.isCurrentCarrier() : "submitLocal off carrier " + carrier.carrierIndex() + ": owner only";
        local.offer(op);                              // volatile (CAS); the rescuer's drain reads it
        int r = ring.get();                           // volatile, after the offer: pairs with the take's CAS
        if (r != RESCUED && r != RECLAIM) return true;
        // A rescuer runs the local queue only between passes of the loop, so an operation left here could
        // be overtaken by one routed after it (Endpoint's order). Take it back and let the caller route it;
        // if the rescuer took it first, it runs before the rescuer's next pass, ahead of anything later.
        return !local.remove(op);
    }

    private int runLocal() {
        assert holdsRing() : "operations run without the ring token";
        int n = 0;
        Runnable op;
        while ((op = local.poll()) != null) {
            try {
                op.run();
            } catch (Throwable t) {
                IoDrivers.reportError(t);
            }
            n++;
        }
        return n;
    }

    @Override
    public int poll() {
        assert Thread.currentThread() == carrier.carrierThread() : "poll off the owning carrier thread";
        enter();
        try {
            return pollHeld();
        } finally {
            exit();
        }
    }

    /** Carrier, holding the token: runs the queued operations, then one non-blocking pass of the loop. */
    private int pollHeld() {
        assert holdsRing() : "loop polled without the ring token";
        int ops = runLocal();
        int events = pass(0);
        counted(ops, events, false);
        return ops + events;
    }

    /**
     * Carrier, holding the token: one pass of the loop, blocking at most {@code waitNanos} (-1: until I/O, a
     * task, a timer or a wakeup; 0: not at all). A pass whose I/O handler throws skips the loop's task
     * queue, and with it the timers that came due (Netty's loop runs both after the handler): a handler that
     * kept failing would then never fire an operation's timeout nor run a routed operation, a close, or
     * {@link #abortResources}, and their callers would wait forever. So they run here before the failure
     * goes on to the carrier, which reports it and goes on after a pause.
     */
    private int pass(long waitNanos) {
        try {
            if (waitNanos < 0) return loop.run(0);    // 0 = block until I/O, a task, a timer or a wakeup
            return waitNanos == 0 ? loop.runNow() : loop.run(waitNanos);
        } catch (Throwable t) {
            try {
                loop.runNonBlockingTasks(0);           // every queued task and due timer (0: no deadline)
            } catch (Throwable u) {
                t.addSuppressed(u);
            }
            throw t;
        }
    }

    @Override
    public void park(long timeoutNanos) {
        assert Thread.currentThread() == carrier.carrierThread() : "park off the owning carrier thread";
        enter();
        try {
            if (!local.isEmpty()) {                   // never block with unsubmitted operations
                pollHeld();
                return;
            }
            assert holdsRing() : "loop run without the ring token";
            int events = pass(timeoutNanos);
            counted(runLocal(), events, true);
        } finally {
            exit();
        }
    }

    // ---- ring token: carrier side ------------------------------------------------------------------

    /** Carrier: takes the ring token before using the loop, first taking it back from a rescuer. */
    private void enter() {
        if (ring.compareAndSet(OUT, IN)) return;      // CAS OUT -> IN; acquire: pairs with the give-back's release
        reclaim();
    }

    /** Carrier: the rescuer holds the loop; asks for it back and waits until it let go. */
    private void reclaim() {
        if (ring.compareAndSet(RESCUED, RECLAIM)) wakeup(); // CAS RESCUED -> RECLAIM; the nudge ends its blocking run
        for (;;) {
            int s = ring.get();                       // volatile: decides only whether to wait on
            if (s == OUT && ring.compareAndSet(OUT, IN)) break; // CAS OUT -> IN; acquire: pairs with the give-back
            assert s != IN : "carrier re-entered its own driver";
            if (s == RESCUED && ring.compareAndSet(RESCUED, RECLAIM)) wakeup(); // a take that raced the first CAS
            LockSupport.parkNanos(this, IoTunables.RECLAIM_PARK_NANOS); // the give-back unparks this thread
        }
        assert loopOwner == null || loopOwner.get() == carrier.carrierThread() : "rescuer left the loop owned";
    }

    /** Carrier: gives up the ring token while it runs fibers. */
    private void exit() {
        assert ring.get() == IN : "exit without the ring token";
        ring.set(OUT);                                // release: the loop state, for a rescuer's take (CAS)
    }

    /** For tests: an io_uring loop a rescuer may drive, entered by its carrier's registered ring index
     *  again; null if this loop is not such a loop. */
    Boolean ringEnteredByRegisteredIndex() {
        return uringEnter == null ? null : uringEnter.entersByRegisteredIndex();
    }

    /** Whether the calling thread may use the loop now (assertions). */
    public boolean holdsRing() {
        int s = ring.get();
        Thread t = Thread.currentThread();
        return s == IN ? t == carrier.carrierThread() : (s == RESCUED || s == RECLAIM) && t == rescuer;
    }

    // ---- ring token: rescuer side ------------------------------------------------------------------

    /**
     * Monitor thread: the carrier has run one fiber for a time slice without polling this loop. Wakes
     * the rescuer (made on the first call) to take the loop if the carrier is still away from it.
     */
    @Override
    public void carrierStalled() {
        if (loopOwner == null || closed || rescueFailed) return; // volatile reads; a stale false is harmless
        // volatile; pairs with the rescuer's get before it parks: set, then unpark, so no request is slept through
        if (rescueWanted.getAndSet(true)) return;     // already asked; the rescuer clears it when it gives back
        Rescuer r = rescuer;                          // volatile; only this (monitor) thread writes it
        if (r == null) {
            r = new Rescuer(this, carrier.carrierThread().getName() + "-io-rescuer");
            rescuer = r;                              // volatile: read by close() and by holdsRing()
            r.start();
        } else {
            LockSupport.unpark(r);
        }
    }

    /**
     * Monitor thread, while the carrier is stalled: the sockets living on this loop when no rescuer serves
     * them (rescue off or failed), for the stall's WARNING; null otherwise.
     */
    @Override
    public String heldByStall() {
        if (loopOwner != null && !rescueFailed) return null;      // volatile read; a rescuer serves the loop
        int n = homedSockets.get();
        if (n <= 0) return null;
        String why = loopOwner == null
                ? "-D" + IoTunables.RESCUE_PROPERTY + "=true lets a rescuer serve them"
                        + (drivers.ioUring() ? ", at a CPU cost on io_uring" : "")
                : "its rescue failed";
        return n + (n == 1 ? " socket" : " sockets") + " on its " + drivers.transport()
                + " event loop wait for it (" + why + ")";
    }

    /** The rescuer's thread: idle until a stall is reported, then drives the loop until reclaimed. */
    private void rescueLoop() {
        Thread me = Thread.currentThread();
        while (!loopGone) {                           // its requests in the ring need this thread until then
            if (!rescueWanted.get()) {                // volatile; pairs with the monitor's getAndSet
                LockSupport.park(this);
                continue;
            }
            if (ring.compareAndSet(OUT, RESCUED)) {   // CAS OUT -> RESCUED; acquire: pairs with exit's release
                rescue(me);
            }
            rescueWanted.set(false);                  // volatile; stalls reported during this rescue were served by it
        }
    }

    /** Rescuer, holding the token: drives the loop until the carrier reclaims it. */
    private void rescue(Thread me) {
        rescues.increment();
        try {                                         // whatever fails, the finally block gives the loop back
            loopOwner.set(me);                        // Netty's AtomicReference (volatile): inEventLoop names the token holder
            if (uringEnter != null) uringEnter.byDescriptor();
            while (ring.get() == RESCUED) {           // volatile: the carrier's reclaim CAS
                assert holdsRing() && loop.inEventLoop() : "rescuer runs the loop without the ring token";
                int ops = runLocal();                 // queued by fibers on the stalled carrier: invariant (4)
                int events = loop.run(IoTunables.RESCUE_MAX_BLOCK_NANOS); // completions resume fibers via the injection queue
                if (ops + events > 0) rescuedEvents.add(ops + events);
            }
        } catch (Throwable t) {
            rescueFailed = true;                      // a loop that failed for its rescuer waits for its carrier
            IoDrivers.reportError(t);
        } finally {
            if (uringEnter != null) {
                try {
                    uringEnter.byRegisteredIndex();
                } catch (Throwable t) {               // cannot happen (checked accessible when built); never keep the loop
                    rescueFailed = true;
                    IoDrivers.reportError(t);
                }
            }
            loopOwner.set(carrier.carrierThread());   // volatile; before the give-back, so the carrier sees itself owner
            ring.set(OUT);                            // release: the loop state, for the carrier's enter (CAS)
            LockSupport.unpark(carrier.carrierThread());
            redeliverWakeup();
        }
    }

    /**
     * Rescuer, after its give-back: a wakeup meant for the carrier's next blocking park may have been
     * consumed by this rescue (its wake task ran on the rescuer's passes, or it was skipped as pending
     * while one was queued), and the carrier, woken by the scheduler but not by its driver, would then
     * block in the loop with work in its inbox. So one wakeup is sent again, now as a thread that no
     * longer owns the loop, which reaches the loop's selector: at worst the carrier's next park returns
     * once more than it had to.
     */
    private void redeliverWakeup() {
        wakeup();                                     // skipped only while a wake task is still queued, which
                                                      // then runs on the carrier's own pass
    }

    /**
     * io_uring: Netty enters a ring through the index its creating thread registered for it
     * (IORING_REGISTER_RING_FDS, IORING_ENTER_REGISTERED_RING), which is valid for that thread only. The
     * rescuer enters by the ring's descriptor instead while it holds the loop, and puts the registered
     * index back before it gives the loop back. Reads and writes Netty's plain fields: token holder only.
     */
    private static final class UringEnter {
        private static final int ENTER_REGISTERED_RING = 16;   // IORING_ENTER_REGISTERED_RING, kernel ABI
        private static final java.lang.reflect.Field HANDLER, RING_BUFFER, SUBMISSION_QUEUE, RING_FD, ENTER_RING_FD, ENTER_FLAGS;
        /** Whether this Netty has the fields a rescuer needs to enter a ring by its descriptor. */
        static final boolean SUPPORTED;
        static {
            java.lang.reflect.Field[] f = new java.lang.reflect.Field[6];
            try {
                f[0] = field(ManualIoEventLoop.class, "handler");
                Class<?> handler = Class.forName("io.netty.channel.uring.IoUringIoHandler");
                Class<?> ringBuffer = Class.forName("io.netty.channel.uring.RingBuffer");
                Class<?> sq = Class.forName("io.netty.channel.uring.SubmissionQueue");
                f[1] = field(handler, "ringBuffer");
                f[2] = field(ringBuffer, "ioUringSubmissionQueue");
                f[3] = field(sq, "ringFd");
                f[4] = field(sq, "enterRingFd");
                f[5] = field(sq, "enterFlags");
                for (int i = 3; i < 6; i++) if (f[i].getType() != int.class) throw new NoSuchFieldException(f[i].toString());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                java.util.Arrays.fill(f, null);        // not Netty 4.2's layout: no rescue on io_uring
            }
            HANDLER = f[0]; RING_BUFFER = f[1]; SUBMISSION_QUEUE = f[2]; RING_FD = f[3]; ENTER_RING_FD = f[4]; ENTER_FLAGS = f[5];
            SUPPORTED = HANDLER != null;
        }

        private final Object sq;
        private final int ringFd, registeredFd, registeredFlags;

        private UringEnter(Object sq) throws IllegalAccessException {
            this.sq = sq;
            this.ringFd = RING_FD.getInt(sq);
            this.registeredFd = ENTER_RING_FD.getInt(sq);
            this.registeredFlags = ENTER_FLAGS.getInt(sq);
        }

        /** The enter target of an initialized io_uring loop, or null if this Netty hides it. Carrier. */
        static UringEnter of(ManualIoEventLoop loop) {
            if (!SUPPORTED) return null;
            try {
                Object h = HANDLER.get(loop);
                if (!RING_BUFFER.getDeclaringClass().isInstance(h)) return null;   // not an io_uring loop
                return new UringEnter(SUBMISSION_QUEUE.get(RING_BUFFER.get(h)));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        /** Rescuer, after its take: enters by the ring's descriptor, valid in any thread. */
        void byDescriptor() {
            set(ringFd, registeredFlags & ~ENTER_REGISTERED_RING);
        }

        /** Rescuer, before its give-back: the carrier's registered index again. */
        void byRegisteredIndex() {
            set(registeredFd, registeredFlags);
        }

        /** Whether Netty enters the ring as its creating thread does (tests; racy outside the token holder). */
        boolean entersByRegisteredIndex() {
            try {
                return ENTER_RING_FD.getInt(sq) == registeredFd && ENTER_FLAGS.getInt(sq) == registeredFlags;
            } catch (IllegalAccessException e) {
                return false;
            }
        }

        private void set(int fd, int flags) {
            try {
                ENTER_RING_FD.setInt(sq, fd);
                ENTER_FLAGS.setInt(sq, flags);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);    // checked accessible when built
            }
        }
    }

    /** A stalled carrier's stand-in: a platform thread that lives as long as the loop (see above). */
    static final class Rescuer extends Thread {
        private final IoCarrierDriver driver;

        Rescuer(IoCarrierDriver driver, String name) {
            super(null, null, name, 0, false);
            this.driver = driver;
            setDaemon(true);
        }

        @Override
        public void run() {
            // as runCarrier: Netty recycles and caches on this thread too; once it has driven the loop it
            // keeps those pools (one more set per carrier) until the loop closes and it exits
            FastThreadLocalThread.runWithFastThreadLocal(driver::rescueLoop);
        }

        IoCarrierDriver driver() { return driver; }
    }

    /**
     * Carrier thread: runs its duty cycle registered with Netty as a fast-thread-local thread. Netty 4.2
     * recycles its per-write objects (the outbound buffer's entries) and keeps its allocators' per-thread
     * caches only for such threads; on any other thread they are allocated anew for every operation the
     * loop runs. Netty drops the carrier's fast thread-locals when the cycle ends, after {@link #close}.
     */
    @Override
    public void runCarrier(Runnable dutyCycle) {
        FastThreadLocalThread.runWithFastThreadLocal(dutyCycle);
    }

    /** Owner: adds to the counters {@link #stats()} reports (plain fields, read racily by monitoring). */
    private void counted(int ops, int events, boolean parked) {
        long[] c = counters;
        c[OPERATIONS] += ops;
        c[EVENTS] += events;
        if (parked) c[PARKS]++;
    }

    // counter indices of stats(); the names are DriverStats' conventions for event-loop backends
    private static final int OPERATIONS = 0, EVENTS = 1, PARKS = 2, WAKEUPS = 3, RESCUES = 4, RESCUED_EVENTS = 5;
    private static final List<String> COUNTER_NAMES = List.of("operations", "completions", "parks", "wakeups",
            "rescues", "rescued.completions");
    private final long[] counters = new long[COUNTER_NAMES.size()]; // owner writes, racy reads; adders' slots unused
    private final LongAdder wakeups = new LongAdder();  // any thread: wakeup() is called by wakers
    private final DriverStats stats = new DriverStats() {
        @Override public String transport() { return drivers.transport(); }
        @Override public List<String> counterNames() { return COUNTER_NAMES; }
        @Override public long counter(int index) {
            return switch (index) {
                case WAKEUPS -> wakeups.sum();
                case RESCUES -> rescues.sum();
                case RESCUED_EVENTS -> rescuedEvents.sum();
                default -> counters[index];
            };
        }
    };

    /**
     * The transport and this carrier's counters: {@code operations} (socket operations submitted from
     * this carrier), {@code completions} (I/O events and loop tasks the event loop processed),
     * {@code parks} (times the carrier blocked in the loop), {@code wakeups} (times another thread
     * woke it), {@code rescues} (times a rescuer took the loop while the carrier was stalled) and
     * {@code rescued.completions} (I/O events and loop tasks the rescuer processed). The values are read without synchronization: monitoring accuracy, not exactness.
     */
    @Override
    public DriverStats stats() {
        return stats;
    }

    /**
     * Wakes the loop with a task rather than the handler's bare wakeup: Netty's epoll and NIO handlers drop
     * a bare wakeup that arrives while they are not blocked, but never block while a task is queued, so
     * a queued task is the permit {@link CarrierDriver#park} requires. One task at a time
     * ({@code wakePending}), so a burst of wakeups costs one.
     */
    @Override
    public void wakeup() {
        if (wakePending.compareAndSet(false, true)) {   // cleared by the task, on the loop
            wakeups.increment();
            try {
                drivers.execute(loop, clearWake);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                wakePending.set(false);                 // the loop is shutting down: nobody to wake
            }
        }
    }

    /**
     * Closes the sockets living on this loop before the loop itself: the loop's own shutdown closes its
     * channels too, but a channel with a write still in the kernel only queues its descriptor's close once
     * the cancelled write completes, and a completion reaped while the io_uring ring is being torn down
     * queues that close on a ring that is never submitted again: the descriptor would stay open for the
     * life of the process. So close them here, run the loop until every one has queued its close (its
     * channel reports closed), and let the loop's shutdown submit those closes.
     *
     * <p>The sockets this carrier opened that no operation ever used (an accepted socket nobody read, a
     * socket never connected) live on no loop: this carrier adopts them first (the socket side's
     * {@link IoDrivers.Sockets#closeLivingOn}) and closes them with the rest, so no descriptor of this scheduler outlives it. No fiber of the
     * scheduler is alive any more; a thread elsewhere racing to use one either wins the adoption CAS (the
     * socket is then its, on its loop) or finds the socket closed.
     */
    @Override
    public void close() {
        assert Thread.currentThread() == carrier.carrierThread() : "close off the owning carrier thread";
        closed = true;                                // no new rescue
        enter();                                      // and is never left: no rescuer takes a closing loop
        if (group != null) drivers.leaveGroup(scheduler, group, this);
        runLocal();
        closeSocketsHere();
        loop.shutdownGracefully(0, 0, TimeUnit.NANOSECONDS);
        for (int i = 0; !loop.isTerminated(); i++) {
            loop.run(i < 100 ? -1 : 1_000_000L);       // closes every channel still registered here
            runLocal();
        }
        loopGone = true;                              // the ring is gone: its requests need no thread any more
        Rescuer r = rescuer;
        if (r != null) LockSupport.unpark(r);
    }

    /**
     * {@code FiberScheduler.shutdownNow()}: this carrier's loop closes, on its own thread, every socket
     * living on it and the unused ones opened here (as at shutdown, but without stopping the loop), so
     * fibers blocked on them fail with {@link java.nio.channels.AsynchronousCloseException} and idle
     * connections are released. Any thread.
     */
    @Override
    public void abortResources() {
        try {
            drivers.execute(loop, () -> drivers.sockets().closeLivingOn(this));
        } catch (RejectedExecutionException e) {
            // the loop is stopping and closes every socket it has itself
        }
    }

    private void closeSocketsHere() {
        assert holdsRing() : "closing sockets without the ring token";
        List<Channel> here = drivers.sockets().closeLivingOn(this);
        if (here.isEmpty()) return;
        long deadline = System.nanoTime() + IoTunables.SHUTDOWN_CLOSE_NANOS;
        for (;;) {
            here.removeIf(c -> !c.isOpen());           // closed: its descriptor's close is queued or done
            if (here.isEmpty() || System.nanoTime() - deadline > 0) break;
            loop.run(1_000_000L);                      // reaps the cancelled writes, queues and submits the closes
            runLocal();
        }
        loop.runNow();
    }

    @Override
    public String toString() {
        return "IoCarrierDriver[" + drivers.transport() + ", carrier " + carrier.carrierIndex() + "]";
    }
}
