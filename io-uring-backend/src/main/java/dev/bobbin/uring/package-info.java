/**
 * Blocking-style network I/O for Bobbin fibers, driven by each carrier's own event loop: io_uring where
 * the kernel allows it, else epoll, else NIO.
 *
 * <h2>Public API</h2>
 * {@link dev.bobbin.uring.FiberIo} (the runtime on one {@link dev.bobbin.uring.IoTransport}: driver factory,
 * scheduler configuration, socket factories, transport query, counters),
 * {@link dev.bobbin.uring.FiberServerSocket} (bind, accept with optional timeout, close) and {@link dev.bobbin.uring.FiberSocket}
 * (connect with timeout; read/write on {@code ByteBuffer} and Netty {@code ByteBuf}; readFully, writeAll;
 * shutdownInput/Output; socket options; read timeout; InputStream/OutputStream views).
 *
 * <h2>Implementation overview</h2>
 * <ul>
 *   <li><b>One loop per carrier.</b> {@link dev.bobbin.uring.IoCarrierDriver} is the carrier's
 *       {@link dev.bobbin.spi.CarrierDriver}: a Netty {@code ManualIoEventLoop} created on the carrier thread
 *       (for io_uring: its own ring). {@code poll()} runs the operations fibers queued since the last
 *       poll, then one non-blocking pass of the loop (submit and reap); {@code park} blocks inside the loop
 *       (io_uring_enter with the loop's next timer as deadline); {@code wakeup} queues a no-op task on the
 *       loop, whose eventfd write interrupts the wait and which keeps the loop from blocking until it ran.
 *       The carrier's duty cycle (run fibers, poll every few dozen fibers and when idle, steal, park) is
 *       the scheduler's; while the carrier waits in the loop, completions resume fibers onto its own
 *       queue and the carrier goes back to running them.</li>
 *   <li><b>Netty channels, bridged to parked fibers.</b> Sockets are Netty channels (e.g.
 *       {@code IoUringSocketChannel}) with auto-read off and a small inbound handler. A fiber's
 *       {@code read} creates a {@link dev.bobbin.uring.Pending} cell, hands the loop an operation that
 *       asks the channel for one read, and parks; the handler completes the cell from the loop thread,
 *       which unparks the fiber. Because the unpark happens on the carrier thread, the scheduler queues the
 *       fiber on that same carrier: no poller thread, no injection queue, no eventfd write.</li>
 *   <li><b>Where Netty code runs.</b> Only on carrier threads (and a stalled carrier's rescuer, below), never
 *       on a fiber's stack. A fiber mounted on the socket's carrier puts its operation in the driver's local
 *       queue (no Netty task queue, no wakeup) and the carrier runs it at its next poll, where Netty's "in event loop" checks
 *       hold and io_uring takes its direct submit path. This trades a short deferral (the operation is
 *       submitted when the carrier next polls, which batches submissions of many fibers into one
 *       io_uring_enter) for safety: a fiber running Netty code could unmount in the middle of it (e.g. on
 *       a contended lock in an allocator) and resume on another carrier, inside a ring it does not own.
 *       So the executor's "is this fiber on my carrier" test is used to choose the deque, not to run Netty
 *       code inline.</li>
 *   <li><b>Socket affinity: placement and routing.</b> A socket is registered on a carrier's loop at its
 *       first use (an accepted socket is not tied to the listener's carrier) and stays there. A fiber that
 *       may move (unbound, WORK_STEALING) gets the scheduler's least-loaded loop when its own carrier holds
 *       more than 128 sockets more than that one ({@code -Dbobbin.io.placementSlack=0}: whenever another
 *       loop holds fewer, which spreads accepted connections from the first one); any other caller gets
 *       its own carrier's loop (see {@code LoopGroup}). An operation issued from anywhere else (another carrier, a platform thread, another scheduler) is
 *       routed to that loop through its thread-safe task queue plus a wakeup; the completion then resumes
 *       the fiber on the socket's carrier, so a fiber that keeps using a socket migrates to it. Threads
 *       that are not fibers of a {@code FiberIo} scheduler reach sockets through one fallback loop thread
 *       per runtime. {@link dev.bobbin.uring.FiberIo#stats()} counts both paths.</li>
 *   <li><b>Stalled carriers: ring rescue.</b> A fiber that runs without a blocking point keeps its carrier
 *       away from the loop, and so from every socket living there. When the scheduler's stall monitor sees
 *       a carrier run one fiber for a time slice (10 ms; under WORK_STEALING with stall protection on), a
 *       rescuer thread of that carrier's driver takes the loop over until the carrier comes back to it: it
 *       reaps the completions, whose fibers go to the injection queue and run on the other carriers, and
 *       runs the operations they route back. One thread uses a loop at a time, handed over with a ring
 *       token (protocol and invariants in {@code IoCarrierDriver}). On by default for epoll and NIO. On
 *       io_uring it needs rings without the kernel's single-issuer mode, which Netty then also creates
 *       without DEFER_TASKRUN, and that measured 1.7-2x the CPU per round trip at light load; and the
 *       forced hand-over stress test lost an io_uring connection's progress once. So io_uring rings stay
 *       single-issuer and a stalled carrier's sockets wait for it: {@code -Dbobbin.io.rescue=true} is
 *       refused on io_uring for now ({@code false} turns rescue off everywhere; {@code IoCarrierDriver}
 *       says what was tried on io_uring).</li>
 *   <li><b>Buffers.</b> User buffers never reach the kernel: received data arrives in Netty buffers that
 *       Netty owns until the read completed, and {@code read(ByteBuffer)} copies from them
 *       ({@code receive()} hands them over without a copy); {@code write(ByteBuffer)} copies into a Netty
 *       buffer that Netty releases after the kernel is done with it. So neither interrupt nor close can
 *       leave the kernel writing into memory that was freed or reused.</li>
 *   <li><b>Writes.</b> Write-behind with back pressure: a write returns once its data is queued, unless
 *       more than 64 KiB of the socket's writes are still in flight. A request/response exchange therefore
 *       parks once (the write overlaps the next read). Errors surface on the next write, flush or
 *       shutdownOutput.</li>
 *   <li><b>Cancellation.</b> A blocked operation is a {@code Pending} with a two-way race (complete vs.
 *       abandon). Interrupt: the waiter abandons it, closes the socket (Netty's close cancels the in-flight
 *       kernel operations) and throws {@link java.nio.channels.ClosedByInterruptException}; a result
 *       completed after that is released by the loop. {@code close()} from another thread fails waiting
 *       operations with {@link java.nio.channels.AsynchronousCloseException}. As with the JDK's channels, a
 *       blocking operation entered with the interrupt status set closes the socket and throws at once, even
 *       if data is ready. Timeouts (read, accept) are timers on the socket's loop (so an idle carrier waits
 *       in io_uring with a deadline); a timer that fires takes its operation out of the loop's waiting slot
 *       and fails it with {@link java.net.SocketTimeoutException}, leaving the socket open; whatever arrives
 *       later (data, a connection) is kept for the next operation. Completion and timer both run on the
 *       loop thread, so exactly one of them decides.</li>
 *   <li><b>Shutdown.</b> A stopping carrier first closes every socket living on its loop (also one a
 *       {@code close()} left draining its writes) and runs the loop until each channel has queued its
 *       descriptor's close, and only then shuts the loop down, which submits those closes. With io_uring a
 *       channel whose write is still in the kernel queues its close only when the cancelled write completes;
 *       reaped during the ring's teardown, that close would never be submitted and the descriptor would
 *       stay open. A socket no operation ever used (accepted and never read, opened and never connected)
 *       lives on no loop; the carrier it was created on adopts it at this point (one CAS on the socket's
 *       home, the same one a first operation makes) and closes it with the rest. Later operations on a
 *       socket closed this way throw {@link java.nio.channels.ClosedChannelException}.</li>
 *   <li><b>Fallback.</b> {@link dev.bobbin.uring.IoTransport} lists io_uring, epoll, NIO; the first available
 *       (or the one {@code -Dbobbin.io.transport} forces) is used by {@link dev.bobbin.uring.FiberIo#system()},
 *       logged once and queryable.</li>
 * </ul>
 *
 * <p>Obligations of users: close sockets, and close them before their scheduler terminates. What a
 * scheduler's shutdown closes for them: every socket living on one of its carriers' loops, and every
 * socket created on one of its carriers that was never used (an accepted socket whose server lives on
 * the scheduler, one a fiber of the scheduler opened); operations on them then fail with
 * {@link java.nio.channels.ClosedChannelException}. What nothing closes: sockets living on the runtime's
 * fallback loop (first used by a thread that is not one of its fibers) and unused sockets created by
 * such a thread; their owner must close them.
 */
package dev.bobbin.uring;
