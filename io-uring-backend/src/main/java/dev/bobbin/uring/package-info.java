/**
 * Blocking-style network I/O for Bobbin fibers, driven by each carrier's own event loop: io_uring where
 * the kernel allows it, else epoll, else NIO. This package is the public API; the loops themselves are
 * in {@link dev.bobbin.uring.driver} (not API), which this package uses and which never refers back to it.
 *
 * <h2>What users get</h2>
 * {@link dev.bobbin.uring.FiberIo} (the runtime on one {@link dev.bobbin.uring.IoTransport}: driver factory,
 * scheduler configuration, socket factories, transport query, counters in
 * {@link dev.bobbin.uring.FiberIo.IoStats}), {@link dev.bobbin.uring.FiberServerSocket} (bind, accept with
 * optional timeout, close) and {@link dev.bobbin.uring.FiberSocket} (connect with timeout; read/write on
 * {@code ByteBuffer} and Netty {@code ByteBuf}; readFully, writeAll; shutdownInput/Output; socket options;
 * read timeout; InputStream/OutputStream views). {@link dev.bobbin.uring.IoTransport} lists io_uring,
 * epoll, NIO; the first available (or the one {@code -Dbobbin.io.transport} forces) is used by
 * {@link dev.bobbin.uring.FiberIo#system()}, logged once and queryable. Failures are the JDK's exception
 * types, with the OS's error text.
 *
 * <h2>Threading rules of sockets</h2>
 * <ul>
 *   <li><b>Any thread, any carrier.</b> A socket works from fibers of the runtime's schedulers, from
 *       fibers of other schedulers and from platform threads. It lives on the loop of the carrier where it
 *       was first used (or of a less loaded carrier of the same scheduler, see the driver package) and
 *       every operation runs there, in the order the operations were made; a fiber blocked on it resumes
 *       on that carrier. Threads that are not fibers of the runtime's schedulers reach sockets first used
 *       by them through one fallback loop thread per runtime.</li>
 *   <li><b>One reader and one writer at a time.</b> Reads are serialized among themselves, writes likewise
 *       (a lock each); a reader and a writer may work concurrently. Bytes reach the peer in the order they
 *       were written, whichever carriers the writers ran on. Several threads may wait in
 *       {@code accept} at once; each connection goes to exactly one of them, the longest waiting first.</li>
 *   <li><b>Close from anywhere.</b> {@code close()} may be called from any thread at any time; operations
 *       waiting on the socket fail with {@link java.nio.channels.AsynchronousCloseException}, later ones
 *       with {@link java.nio.channels.ClosedChannelException}. A socket's {@code close()} never blocks; a
 *       server socket's returns once its listening descriptor is closed, as
 *       {@link java.net.ServerSocket#close()} does, so that the address can be bound again at once (it
 *       waits at most 2 seconds for its loop, uninterruptibly).</li>
 *   <li><b>Interrupts.</b> As with the JDK's interruptible channels: an interrupt of a thread blocked in an
 *       operation that waits for the peer or the network (read, write, connect, accept), or one entering
 *       such an operation with the interrupt status set, closes the socket and throws
 *       {@link java.nio.channels.ClosedByInterruptException}, leaving the status set. As the JDK's
 *       sockets, {@code bind}, {@code shutdownInput} and {@code shutdownOutput} (with no write in flight)
 *       complete and leave the interrupt pending.</li>
 * </ul>
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li><b>Buffers.</b> User buffers never reach the kernel: received data arrives in Netty buffers that
 *       Netty owns until the read completed, and {@code read(ByteBuffer)} copies from them
 *       ({@code receive()} hands them over without a copy); {@code write(ByteBuffer)} copies into a Netty
 *       buffer that Netty releases after the kernel is done with it. So neither interrupt nor close can
 *       leave the kernel writing into memory that was freed or reused.</li>
 *   <li><b>Writes.</b> Write-behind with back pressure: a write returns once its data is queued, unless
 *       more than 64 KiB of the socket's writes are still in flight. A request/response exchange therefore
 *       parks once (the write overlaps the next read). Errors surface on the next write, flush or
 *       shutdownOutput.</li>
 *   <li><b>Timeouts.</b> Read and accept timeouts are timers on the socket's loop (so an idle carrier waits
 *       in io_uring with a deadline); a timer that fires takes its operation out of the loop's waiting
 *       slot and fails it with {@link java.net.SocketTimeoutException}, leaving the socket open; whatever
 *       arrives later (data, a connection) is kept for the next operation. Completion and timer both run
 *       on the loop thread, so exactly one of them decides.</li>
 * </ul>
 *
 * <h2>Implementation overview</h2>
 * Sockets are Netty channels (e.g. {@code IoUringSocketChannel}) with auto-read off and a small inbound
 * handler. {@code Endpoint}, the package-private base of both socket classes, holds the channel, the loop
 * it lives on and the blocking wait. A blocking operation creates a {@link dev.bobbin.uring.driver.Pending}
 * cell, hands the socket's loop an operation that starts it on the channel (a read asks the channel for
 * one read), and parks; the handler completes the cell from the loop thread, which unparks the waiter.
 * Interrupt is the cell's other race: the waiter abandons it, closes the socket (Netty's close cancels the
 * in-flight kernel operations) and throws; a result completed after that is released by the loop. The
 * socket fields commented "loop" are confined to the loop's thread: only such operations and the channel's
 * handler touch them. How an operation reaches the loop (placement, routing, the ring token) is the driver
 * package's. {@code FiberIo} hands the driver what it needs of the transport (its id, whether it is
 * io_uring, and {@code IoTransport}'s Netty handler factories for the loops) and of the sockets (closing
 * those on a stopping carrier's loop).
 *
 * <p>Shutdown. A stopping carrier closes every socket living on its loop and every socket created on it
 * that no operation used, before its loop goes (see the driver package). Obligations of users: close
 * sockets, and close them before their scheduler terminates. What a scheduler's shutdown closes for
 * them: every socket living on one of its carriers' loops, and every socket created on one of its
 * carriers that was never used (an accepted socket whose server lives on the scheduler, one a fiber of
 * the scheduler opened); operations on them then fail with
 * {@link java.nio.channels.ClosedChannelException}. What nothing closes: sockets living on the runtime's
 * fallback loop (first used by a thread that is not one of its fibers) and unused sockets created by
 * such a thread; their owner must close them.
 */
package dev.bobbin.uring;
