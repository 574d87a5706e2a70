/**
 * The I/O driver: each carrier's event loop and how socket operations reach it (not API: public only so
 * that {@code dev.bobbin.uring} can reach it; may change without notice).
 *
 * <h2>Design</h2>
 * <ul>
 *   <li><b>One loop per carrier.</b> {@link dev.bobbin.uring.driver.IoCarrierDriver} is the carrier's
 *       {@link dev.bobbin.spi.CarrierDriver}: a Netty {@code ManualIoEventLoop} created on the carrier thread
 *       (for io_uring: its own ring). {@code poll()} runs the operations fibers queued since the last
 *       poll, then one non-blocking pass of the loop (submit and reap); {@code park} blocks inside the loop
 *       (io_uring_enter, epoll_wait or select, with the loop's next timer as deadline); {@code wakeup}
 *       queues a no-op task on the loop, whose eventfd write interrupts the wait and which keeps the loop
 *       from blocking until it ran. The carrier's duty cycle (run fibers, poll every few dozen fibers and
 *       when idle, steal, park) is the scheduler's; while the carrier waits in the loop, completions resume
 *       fibers onto its own queue and the carrier goes back to running them.</li>
 *   <li><b>Where Netty code runs.</b> Only on the thread that holds the loop (the carrier, or a stalled
 *       carrier's rescuer, below), never on a fiber's stack. A fiber mounted on the socket's carrier puts
 *       its operation in the driver's local queue (no Netty task queue, no wakeup) and the carrier runs it
 *       at its next poll, where Netty's "in event loop" checks hold and io_uring takes its direct submit
 *       path. This trades a short deferral (the operation is submitted when the carrier next polls, which
 *       batches submissions of many fibers into one io_uring_enter) for safety: a fiber running Netty code
 *       could unmount in the middle of it (e.g. on a contended lock in an allocator) and resume on another
 *       carrier, inside a ring it does not own. So the executor's "is this fiber on my carrier" test is
 *       used to choose the queue, not to run Netty code inline. A completion unparks its fiber from the
 *       loop's thread, so the scheduler queues the fiber on that same carrier: no poller thread, no
 *       injection queue, no eventfd write.</li>
 *   <li><b>Routing.</b> {@link dev.bobbin.uring.driver.IoDrivers} (one per runtime) sends an operation to
 *       the loop its socket lives on: locally as above, or, from anywhere else (another carrier, a platform
 *       thread, another scheduler), through the loop's thread-safe task queue plus a wakeup. On NIO that
 *       wakeup takes the JDK selector's wakeup lock, which the selecting carrier takes too; a fiber that
 *       unmounted while contending it (as JDK 24+ virtual threads do) and could resume only on that carrier
 *       would leave both waiting for ever, so fibers queue such tasks pinned
 *       ({@link dev.bobbin.spi.PinnedSection}; {@code IoDrivers.execute}). The completion
 *       then resumes the fiber on the socket's carrier, so a fiber that keeps using a socket migrates to
 *       it. A routed task is claimable, so that an operation routed to a loop that terminated fails
 *       instead of waiting forever. The socket side keeps one socket's operations in submission order
 *       (its {@code Endpoint} routes its own behind an outstanding routed one).
 *       {@code FiberIo.stats()} counts both paths.</li>
 *   <li><b>Placement.</b> A socket is registered on a loop at its first operation and stays there; an
 *       accepted socket is not tied to the listener's loop. A fiber that may move (unbound, WORK_STEALING)
 *       gets the scheduler's least-loaded loop when its own carrier holds more than 128 sockets more than
 *       that one ({@code -Dbobbin.io.placementSlack=0}: whenever another loop holds fewer, which spreads
 *       accepted connections from the first one); any other caller gets its own carrier's loop; a thread
 *       off the carriers gets the runtime's fallback loop. Reasons and measurements: {@code LoopGroup}.</li>
 *   <li><b>Ring token and rescue.</b> A fiber that runs without a blocking point keeps its carrier away
 *       from the loop, and so from every socket living there. When the stall monitor reports the carrier
 *       (one fiber for a time slice: 10 ms, under WORK_STEALING with stall protection on), a rescuer
 *       thread serves the loop until the carrier comes back. One thread uses a loop at a time, the holder
 *       of the ring token: the carrier takes it (OUT to IN) around every poll, park and close and gives it back while
 *       it runs fibers; a rescuer can take it only while it is OUT, and a carrier that finds it taken asks
 *       for it back and waits for the hand-back. The protocol, its invariants and its memory ordering are
 *       written out in {@code IoCarrierDriver}. Rescue is on by default on every transport. A ring
 *       another thread may enter cannot use the kernel's single-issuer mode and DEFER_TASKRUN; Netty's own
 *       such rings cost 1.4-2.6x the CPU per echo round trip, so Bobbin remakes them in cooperative task-run
 *       mode ({@code dev.bobbin.uring.RescuableRingFactory}), which costs what single-issuer rings do. Where
 *       that is not possible (a kernel before 5.19, another Netty or JDK) io_uring rescue is off unless
 *       {@code -Dbobbin.io.rescue=true} ({@code false} turns rescue off everywhere; {@code IoCarrierDriver}
 *       has the kernel side).</li>
 *   <li><b>Shutdown.</b> A stopping carrier first closes every socket living on its loop (also one a
 *       {@code close()} left draining its writes) and runs the loop until each channel has queued its
 *       descriptor's close, and only then shuts the loop down, which submits those closes. With io_uring a
 *       channel whose write is still in the kernel queues its close only when the cancelled write completes;
 *       reaped during the ring's teardown, that close would never be submitted and the descriptor would
 *       stay open. A socket no operation ever used (accepted and never read, opened and never connected)
 *       lives on no loop; the carrier it was created on adopts it at this point (one CAS on the socket's
 *       home, the same one a first operation makes) and closes it with the rest. The driver reaches the
 *       sockets only through {@link dev.bobbin.uring.driver.IoDrivers.Sockets}, which the socket side
 *       implements.</li>
 * </ul>
 *
 * <h2>Invariants</h2>
 * A loop is used by one thread at a time, the ring token's holder; a fiber never runs Netty code. A
 * socket's home loop is chosen once (a CAS) and never changes. An operation of a socket runs on its home
 * loop exactly once, in the order its submitters made them, or its submitter learns that it never will
 * ({@link java.nio.channels.ClosedChannelException}). A blocked operation is completed, failed or
 * abandoned exactly once ({@link dev.bobbin.uring.driver.Pending}).
 *
 * <h2>Who may call what</h2>
 * This package depends on the SPI ({@code dev.bobbin.spi}), Netty and the JDK (plus the JDK-only
 * {@code dev.bobbin.base}, for the one VarHandle lookup), never on the engine, the public API or
 * {@code dev.bobbin.uring}: {@code FiberIo} creates {@link dev.bobbin.uring.driver.IoDrivers} with what the
 * drivers need of its transport (its id, whether it is io_uring, and a maker of Netty handler factories
 * for the loops) and of its sockets ({@link dev.bobbin.uring.driver.IoDrivers.Sockets}). The scheduler
 * calls the {@link dev.bobbin.spi.CarrierDriver} methods of
 * {@link dev.bobbin.uring.driver.IoCarrierDriver} under the SPI's rules (everything but {@code wakeup},
 * {@code stats}, {@code abortResources}, {@code carrierStalled} and {@code heldByStall} on the owning
 * carrier thread).
 * {@code dev.bobbin.uring} calls the rest: {@link dev.bobbin.uring.driver.IoDrivers}' placement and
 * routing from any thread, {@link dev.bobbin.uring.driver.Pending} (waiter and loop sides as marked),
 * {@link dev.bobbin.uring.driver.IoErrors}, {@link dev.bobbin.uring.driver.IoTunables} and
 * {@link dev.bobbin.uring.driver.NettyVersionCheck}. Methods say which thread may call them ("loop",
 * "owner only", "any thread"). Nothing outside the io backend calls this package; tests reach into it to
 * force hand-overs and read placements.
 */
package dev.bobbin.uring.driver;
