package dev.bobbin.uring.driver;

/**
 * Every tunable of the I/O backend, each with the reason for its value.
 */
public final class IoTunables {
    private IoTunables() { }

    /** A writing fiber continues without waiting while at most this many of its socket's bytes are still
     *  on their way to the kernel: it then overlaps its next read with the write, so a request/response
     *  exchange costs one park. Beyond it the writer waits (back pressure). 64 KiB is Netty's default
     *  write-buffer high-water mark. */
    public static final long WRITE_HIGH_WATER_BYTES = 64 * 1024;

    /** A write of a heap {@code ByteBuffer} is copied to direct memory in chunks of at most this size, so
     *  a socket holds at most this plus {@link #WRITE_HIGH_WATER_BYTES} of direct memory for its writes
     *  whatever the caller writes at once: 64 KiB matches the high-water mark, one chunk per wait. */
    public static final int WRITE_CHUNK_BYTES = 64 * 1024;

    /** After {@code close()}, writes already handed to the loop get this long to reach the kernel before the
     *  socket is closed anyway (a peer that never reads must not keep the descriptor open forever). */
    public static final long CLOSE_DRAIN_NANOS = 10_000_000_000L;

    /** A server socket keeps accepting while fewer than this many accepted connections wait for
     *  {@code accept()}: enough to absorb a burst without one accept round trip per connection, small
     *  enough that a server that stops calling accept leaves the rest in the kernel's backlog. */
    public static final int ACCEPT_AHEAD = 64;

    /** Completion-queue entries of each carrier's io_uring ring (the kernel's default is twice the
     *  submission ring): every connection keeps a read in flight, so a burst of thousands of connections
     *  completing at once overflowed the default queue. 32768 entries cost 512 KiB per carrier. */
    public static final int URING_CQ_ENTRIES = 32768;

    /** Connections one accept read takes at most (the server channel's messages per read): small enough
     *  that {@link #ACCEPT_AHEAD} holds for real, large enough that a burst costs few reads. */
    public static final int ACCEPT_BATCH = 16;

    /** When accept fails for lack of descriptors or buffers, accepting pauses this long first, doubling
     *  up to {@link #ACCEPT_BACKOFF_MAX_MILLIS}: short enough that a passing spike costs little latency,
     *  long enough that an exhausted process does not spin on a failing accept. */
    public static final long ACCEPT_BACKOFF_MIN_MILLIS = 10;
    /** The longest accept pause after exhaustion; see {@link #ACCEPT_BACKOFF_MIN_MILLIS}. */
    public static final long ACCEPT_BACKOFF_MAX_MILLIS = 1_000;

    /** At most one accept-exhaustion WARNING per server socket this often. */
    public static final long ACCEPT_EXHAUSTION_WARNING_NANOS = 10_000_000_000L;

    /** Listen backlog when the caller passes a value below 1, as {@code java.net.ServerSocket} does. */
    public static final int DEFAULT_BACKLOG = 128;

    /** When a carrier stops, it waits at most this long for the channels it closes to hand their descriptor's
     *  close to the kernel (a close deferred behind a cancelled write takes one completion, microseconds);
     *  the bound keeps a kernel that never completes the cancellation from hanging the shutdown. */
    public static final long SHUTDOWN_CLOSE_NANOS = 2_000_000_000L;

    /** A thread that routed an operation to a loop that is shutting down checks this often whether the loop
     *  ran it or terminated without running it (then the operation fails): the wait happens only while a
     *  scheduler stops, which takes milliseconds, so a coarse poll costs nothing and needs no extra signal. */
    public static final long SHUTDOWN_TASK_POLL_NANOS = 100_000;

    /** A new socket of a fiber that may move goes to the loop with the fewest sockets once the caller's own
     *  loop holds more than this many more. Measured on loopback echo (bench/README.md, "Placement"): with a
     *  slack of 2, 100 connections spread evenly and cost ~25 % more CPU per round trip than on one loop
     *  (two half-busy loops batch less and wake more); 1,000 connections left on one loop cost ~10 % more
     *  (its peer steals their fibers and routes their operations back). 128 keeps the first and spreads
     *  the second. Spreading from the first socket (slack 0) only shrinks what a stalled carrier freezes
     *  where its loop is not rescued ({@code -Dbobbin.io.rescue=false}); where it is, the sockets keep being served
     *  wherever they live. The cheaper default stays; {@link #PLACEMENT_SLACK_PROPERTY} overrides it. */
    public static final int PLACEMENT_SLACK = 128;

    /** System property: the placement slack in sockets, {@code 0} to place every new socket of a fiber that
     *  may move (an accepted connection's handler, typically) on the least-loaded loop from the start. */
    public static final String PLACEMENT_SLACK_PROPERTY = "bobbin.io.placementSlack";

    /** A rescuer serving a stalled carrier's loop blocks in it at most this long before it re-checks whether
     *  the carrier took the loop back. The carrier's reclaim also queues a task that ends the wait at once;
     *  the bound only makes a lost nudge cost milliseconds instead of a hang. */
    public static final long RESCUE_MAX_BLOCK_NANOS = 10_000_000L;

    /** A carrier taking its loop back from a rescuer waits for the hand-back in parks of at most this long
     *  (the rescuer unparks it as soon as it let go; the hand-back takes microseconds). */
    public static final long RECLAIM_PARK_NANOS = 100_000L;

    /** System property that forces a transport: {@code io_uring}, {@code epoll} or {@code nio}; unset: the
     *  first available of them ({@code FiberIo.TRANSPORT_PROPERTY} is this name). */
    public static final String TRANSPORT_PROPERTY = "bobbin.io.transport";

    /** System property: whether a stalled carrier's loop is rescued (IoCarrierDriver), {@code true} or
     *  {@code false}; unset: on, except on io_uring where its rings cannot be made in cooperative task-run
     *  mode (a kernel before 5.19, a Netty whose internals differ, a JDK after 25). io_uring rescue needs rings without
     *  the kernel's single-issuer mode (with which only a ring's creating thread may enter it); Netty's own
     *  such rings cost 1.4-2.6x the server CPU per echo round trip, the cooperative ones Bobbin makes what
     *  single-issuer rings cost. */
    public static final String RESCUE_PROPERTY = "bobbin.io.rescue";
}
