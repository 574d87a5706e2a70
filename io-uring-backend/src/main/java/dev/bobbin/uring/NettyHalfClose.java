package dev.bobbin.uring;

import io.netty.channel.Channel;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Work-arounds for two Netty 4.2 bugs that stall or fail the writes of a connection once its input has
 * ended (the peer's FIN, or {@code shutdownInput()}): Netty's own paths wait for room in the send buffer
 * in a way that breaks once the kernel reports end of input. Both reach into Netty's internals; if this
 * Netty's layout differs, {@link #URING} / {@link #EPOLL} are false and nothing is done.
 *
 * <p><b>io_uring</b>: a write that finds the send buffer full submits a POLL_ADD for POLLOUT
 * ({@code AbstractIoUringChannel.schedulePollOut}) and, until it completes, sets POLL_OUT_SCHEDULED, under
 * which {@code flush0} does nothing. The kernel masks EPOLLERR, EPOLLHUP and EPOLLRDHUP into every poll
 * request (io_uring/poll.c, IO_POLL_UNMASK), so once the input has ended the poll completes at once with
 * {@code res} = POLLRDHUP alone. {@code AbstractUringUnsafe.pollAddComplete} dispatches on the event bits
 * of {@code res}, not on which poll completed: it calls {@code pollRdHup}, never {@code pollOut}, so
 * POLL_OUT_SCHEDULED and {@code pollOutId} stay set, every later flush is skipped and nothing submits
 * the queued bytes again: the writer waits forever. {@link #deliverPollOut} hands Netty the POLLOUT it
 * missed. No poll for POLLOUT can wait for room after end of input (it would complete at once), so the
 * socket retries on a timer instead (see {@code FiberSocket.checkPollOut}).
 *
 * <p><b>epoll</b>: once Netty clears the last of a channel's interest flags (EPOLLIN and EPOLLRDHUP after
 * end of input, with auto-read off) its registration removes the descriptor (epoll_ctl DEL) but stays in
 * its "added" state (EpollIoHandler's DefaultEpollIoRegistration.submit), so the next flag it sets,
 * EPOLLOUT for a write that finds the send buffer full, is an epoll_ctl MOD that fails with ENOENT and
 * Netty shuts the output down. {@link #pinEpoll} keeps the interest set from ever being empty.
 */
final class NettyHalfClose {
    private NettyHalfClose() {}

    /** Whether this Netty has the io_uring internals {@link #stalledPollOut} and {@link #deliverPollOut} need. */
    static final boolean URING = Uring.POLL_OUT != null;

    /** Whether this Netty has the epoll internals {@link #pinEpoll} needs. */
    static final boolean EPOLL = Epoll.STATE != null;

    /**
     * io_uring, loop: the id of the POLLOUT poll Netty waits for while it has no write in flight, or 0.
     * A non-zero id seen twice, loop passes apart, after end of input, is a poll that completed without
     * Netty noticing (a pending one would have completed by then: POLLRDHUP is ready).
     */
    static long stalledPollOut(Channel ch) {
        if (!URING) return 0;
        try {
            int state = Uring.IO_STATE.getByte(ch);
            if ((state & Uring.POLL_OUT_SCHEDULED) == 0 || (state & Uring.WRITE_SCHEDULED) != 0) return 0;
            return Uring.POLL_OUT_ID.getLong(ch);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0;
        }
    }

    /** io_uring, loop: completes Netty's stalled POLLOUT wait as the kernel's POLLOUT would: the queued bytes are written again. */
    static void deliverPollOut(Channel ch) {
        try {
            Uring.POLL_OUT.invoke(ch.unsafe(), Uring.POLLOUT);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // nothing more to do: the close drain limit still ends the connection
        }
    }

    /**
     * epoll, loop, at end of input: pins the channel's interest set with EPOLLET, so that clearing its last
     * flag no longer removes the descriptor from the epoll set (and, if Netty removed it already, adds it
     * again). Once the input has ended Netty has no reads left to do, and a write that finds no room (it
     * sets EPOLLOUT, an epoll_ctl MOD that re-polls) is woken by the next room the kernel makes, as with
     * level triggering; HUP and ERR, which epoll reports whatever the interest, come once per change
     * instead of on every wait, so a descriptor Netty no longer listens to does not spin the loop.
     */
    static void pinEpoll(Channel ch) {
        if (!EPOLL) return;
        try {
            if (!(Epoll.OPS.get(ch) instanceof EpollIoOps ops) || ops.contains(EpollIoOps.EPOLLET)) return;
            if (!(Epoll.REGISTRATION.get(ch) instanceof IoRegistration reg)) return;
            Object epollReg = Epoll.unwrap(reg);
            if (epollReg == null) return;
            EpollIoOps pinned = ops.with(EpollIoOps.EPOLLET);
            synchronized (epollReg) {                  // as Netty's submit, which reads the state under it
                if (ops.value() == 0 && Epoll.STATE.get(epollReg) == Epoll.ADDED) Epoll.STATE.set(epollReg, Epoll.PENDING);
            }
            reg.submit(pinned);                        // MOD, or ADD if Netty had removed the descriptor
            Epoll.OPS.set(ch, pinned);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not this Netty's layout, or the descriptor is gone: a later write may fail, as without the pin
        }
    }

    private static Field field(Class<?> c, String name) throws NoSuchFieldException {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    private static final class Uring {
        static final Field IO_STATE, POLL_OUT_ID;
        static final Method POLL_OUT;
        static final int POLL_OUT_SCHEDULED, WRITE_SCHEDULED, POLLOUT;

        static {
            Field ioState = null, pollOutId = null;
            Method pollOut = null;
            int pollOutScheduled = 0, writeScheduled = 0, pollout = 0;
            try {
                Class<?> c = Class.forName("io.netty.channel.uring.AbstractIoUringChannel");
                Class<?> u = Class.forName("io.netty.channel.uring.AbstractIoUringChannel$AbstractUringUnsafe");
                ioState = field(c, "ioState");
                pollOutId = field(c, "pollOutId");
                pollOutScheduled = field(c, "POLL_OUT_SCHEDULED").getInt(null);
                writeScheduled = field(c, "WRITE_SCHEDULED").getInt(null);
                pollout = field(Class.forName("io.netty.channel.uring.Native"), "POLLOUT").getInt(null);
                pollOut = u.getDeclaredMethod("pollOut", int.class);
                pollOut.setAccessible(true);
                if (ioState.getType() != byte.class || pollOutId.getType() != long.class || pollout == 0) {
                    throw new NoSuchFieldException("ioState/pollOutId/POLLOUT");
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                pollOut = null;                        // not Netty 4.2's layout, or no io_uring: no work-around
            }
            IO_STATE = ioState; POLL_OUT_ID = pollOutId; POLL_OUT = pollOut;
            POLL_OUT_SCHEDULED = pollOutScheduled; WRITE_SCHEDULED = writeScheduled; POLLOUT = pollout;
        }
    }

    private static final class Epoll {
        static final Field OPS, REGISTRATION, STATE, WRAPPED;
        static final Object ADDED, PENDING;

        /** EpollIoHandler's own registration behind {@code reg} (a SingleThreadIoEventLoop wraps it), or null. */
        static Object unwrap(IoRegistration reg) throws IllegalAccessException {
            Object r = reg;
            if (WRAPPED != null && WRAPPED.getDeclaringClass().isInstance(r)) r = WRAPPED.get(r);
            return STATE.getDeclaringClass().isInstance(r) ? r : null;
        }

        static {
            Field ops = null, registration = null, state = null;
            Object added = null, pending = null;
            try {
                Class<?> c = Class.forName("io.netty.channel.epoll.AbstractEpollChannel");
                Class<?> r = Class.forName("io.netty.channel.epoll.EpollIoHandler$DefaultEpollIoRegistration");
                ops = field(c, "ops");
                registration = field(c, "registration");
                Field s = field(r, "state");
                for (Object k : s.getType().getEnumConstants()) {
                    String n = ((Enum<?>) k).name();
                    if (n.equals("Added")) added = k;
                    else if (n.equals("Pending")) pending = k;
                }
                if (added == null || pending == null || ops.getType() != EpollIoOps.class) throw new NoSuchFieldException("RegistrationState");
                state = s;
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                state = null;                          // not Netty 4.2's layout, or no epoll: no work-around
            }
            Field wrapped;
            try {
                wrapped = field(Class.forName("io.netty.channel.SingleThreadIoEventLoop$IoRegistrationWrapper"), "registration");
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                wrapped = null;                        // registrations of this loop are not wrapped
            }
            WRAPPED = wrapped;
            OPS = ops; REGISTRATION = registration; STATE = state; ADDED = added; PENDING = pending;
        }
    }
}
