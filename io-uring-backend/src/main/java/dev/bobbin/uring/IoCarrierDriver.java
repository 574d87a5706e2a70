package dev.bobbin.uring;

import dev.bobbin.spi.CarrierContext;
import dev.bobbin.spi.CarrierDriver;
import dev.bobbin.spi.DriverStats;
import io.netty.channel.ManualIoEventLoop;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A carrier's I/O driver: one Netty {@link ManualIoEventLoop} (an io_uring ring, an epoll instance or a
 * NIO selector) owned and driven by the carrier thread.
 *
 * <p>Implementation overview. Netty code runs only on the carrier thread itself, never on a fiber's
 * stack: a fiber mounted on this carrier hands an operation to {@link #submitLocal}, an owner-only
 * deque (no lock, no Netty task queue, no eventfd write), and parks. The carrier runs those operations
 * at its next {@link #poll()} (when its run queue is empty, or every few dozen fibers), where they take
 * Netty's in-loop fast path, and then lets the loop submit and reap in one non-blocking pass. A
 * completion unparks its fiber from the carrier thread, so the scheduler queues the fiber on this same
 * carrier. {@link #park} blocks inside the loop (io_uring_enter, epoll_wait or select, with the loop's
 * timers as deadline); {@link #wakeup} queues a no-op task on the loop, which makes it return (an
 * eventfd write for io_uring and epoll) and keeps it from blocking until the task ran.
 *
 * <p>Operations from threads that are not mounted on this carrier go through the loop's thread-safe
 * {@code execute}, which wakes it.
 */
final class IoCarrierDriver implements CarrierDriver {
    final FiberIo io;                                 // the runtime this driver belongs to
    final CarrierContext carrier;
    final ManualIoEventLoop loop;                     // owned by the carrier thread
    private final ArrayDeque<Runnable> local = new ArrayDeque<>(); // owner only: ops from mounted fibers
    private final AtomicBoolean wakePending = new AtomicBoolean(); // a wakeup task is queued on the loop
    private final Runnable clearWake = () -> wakePending.set(false);

    final AtomicInteger homedSockets = new AtomicInteger(); // sockets that live on this loop (LoopGroup)
    private final Object scheduler;                   // identifies the carrier's scheduler (CarrierContext.scheduler)
    private final LoopGroup group;                    // the scheduler's regular loops; null for a spare

    IoCarrierDriver(FiberIo io, CarrierContext carrier) {
        this.io = io;
        this.carrier = carrier;
        this.loop = new ManualIoEventLoop(carrier.carrierThread(), io.transport().handlerFactory());
        this.scheduler = carrier.scheduler();
        this.group = carrier.isSpare() ? null : io.joinGroup(scheduler, this); // spares come and go: not placed on
    }

    /** Where a socket first used by the calling fiber, mounted on this carrier, should live (LoopGroup). */
    IoCarrierDriver placeNewSocket() {
        return group != null && carrier.currentFiberMayMove() ? group.placeFor(this) : this;
    }

    /** The driver of the carrier the caller is mounted on, if it belongs to {@code io}; else null. */
    static IoCarrierDriver current(FiberIo io) {
        CarrierContext c = CarrierContext.current();
        return c != null && c.driver() instanceof IoCarrierDriver d && d.io == io ? d : null;
    }

    /** Queues an operation for this carrier's next poll. Owner only: the carrier or a fiber mounted on it. */
    void submitLocal(Runnable op) {
        assert carrier.isCurrentCarrier() : "submitLocal off carrier " + carrier.carrierIndex() + ": owner only";
        local.addLast(op);
    }

    private int runLocal() {
        int n = 0;
        Runnable op;
        while ((op = local.pollFirst()) != null) {
            try {
                op.run();
            } catch (Throwable t) {
                io.reportError(t);
            }
            n++;
        }
        return n;
    }

    @Override
    public int poll() {
        assert Thread.currentThread() == carrier.carrierThread() : "poll off the owning carrier thread";
        int ops = runLocal();
        int events = loop.runNow();
        counted(ops, events, false);
        return ops + events;
    }

    @Override
    public void park(long timeoutNanos) {
        assert Thread.currentThread() == carrier.carrierThread() : "park off the owning carrier thread";
        if (!local.isEmpty()) {                       // never block with unsubmitted operations
            poll();
            return;
        }
        int events;
        if (timeoutNanos < 0) events = loop.run(0);   // 0 = block until I/O, a task, a timer or a wakeup
        else if (timeoutNanos == 0) events = loop.runNow();
        else events = loop.run(timeoutNanos);
        counted(runLocal(), events, true);
    }

    /** Owner: adds to the counters {@link #stats()} reports (plain fields, read racily by monitoring). */
    private void counted(int ops, int events, boolean parked) {
        long[] c = counters;
        c[OPERATIONS] += ops;
        c[EVENTS] += events;
        if (parked) c[PARKS]++;
    }

    // counter indices of stats(); the names are DriverStats' conventions for event-loop backends
    private static final int OPERATIONS = 0, EVENTS = 1, PARKS = 2, WAKEUPS = 3;
    private static final List<String> COUNTER_NAMES = List.of("operations", "completions", "parks", "wakeups");
    private final long[] counters = new long[COUNTER_NAMES.size()]; // owner writes, racy reads; WAKEUPS unused
    private final LongAdder wakeups = new LongAdder();  // any thread: wakeup() is called by wakers
    private final DriverStats stats = new DriverStats() {
        @Override public String transport() { return io.transport().id(); }
        @Override public List<String> counterNames() { return COUNTER_NAMES; }
        @Override public long counter(int index) { return index == WAKEUPS ? wakeups.sum() : counters[index]; }
    };

    /**
     * The transport and this carrier's counters: {@code operations} (socket operations submitted from
     * this carrier), {@code completions} (I/O events and loop tasks the event loop processed),
     * {@code parks} (times the carrier blocked in the loop) and {@code wakeups} (times another thread
     * woke it). The values are read without synchronization: monitoring accuracy, not exactness.
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
                loop.execute(clearWake);
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
     * socket never connected) live on no loop: this carrier adopts them first ({@link Endpoint#adoptIfUnused})
     * and closes them with the rest, so no descriptor of this scheduler outlives it. No fiber of the
     * scheduler is alive any more; a thread elsewhere racing to use one either wins the adoption CAS (the
     * socket is then its, on its loop) or finds the socket closed.
     */
    @Override
    public void close() {
        if (group != null) io.leaveGroup(scheduler, group, this);
        runLocal();
        closeEndpointsHere();
        loop.shutdownGracefully(0, 0, TimeUnit.NANOSECONDS);
        for (int i = 0; !loop.isTerminated(); i++) {
            loop.run(i < 100 ? -1 : 1_000_000L);       // closes every channel still registered here
            runLocal();
        }
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
            loop.execute(() -> closeNow(endpointsHere()));
        } catch (RejectedExecutionException e) {
            // the loop is stopping and closes every socket it has itself
        }
    }

    /** Loop thread: the endpoints living on this loop, after adopting the unused ones opened here. */
    private List<Endpoint> endpointsHere() {
        List<Endpoint> here = new ArrayList<>();
        for (Endpoint e : io.open) {
            if (e.opener == this) e.adoptIfUnused(loop);
            if (e.livesOn(loop)) here.add(e);
        }
        return here;
    }

    /** Loop thread: closes each endpoint now, failing its waiters. */
    private void closeNow(List<Endpoint> endpoints) {
        for (Endpoint e : endpoints) {
            try {
                e.closeAtShutdown();
            } catch (Throwable t) {
                io.reportError(t);
            }
        }
    }

    private void closeEndpointsHere() {
        List<Endpoint> here = endpointsHere();
        if (here.isEmpty()) return;
        closeNow(here);
        long deadline = System.nanoTime() + IoTunables.SHUTDOWN_CLOSE_NANOS;
        for (;;) {
            here.removeIf(e -> !e.ch.isOpen());        // closed: its descriptor's close is queued or done
            if (here.isEmpty() || System.nanoTime() - deadline > 0) break;
            loop.run(1_000_000L);                      // reaps the cancelled writes, queues and submits the closes
            runLocal();
        }
        loop.runNow();
    }

    @Override
    public String toString() {
        return "IoCarrierDriver[" + io.transport().id() + ", carrier " + carrier.carrierIndex() + "]";
    }
}
