package dev.bobbin.uring.driver;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The event loops of one scheduler's regular carriers, and where a new socket goes among them.
 *
 * <p>Implementation overview. A socket lives on the loop of one carrier for its whole life, and a fiber
 * blocked on it is resumed on that carrier, so sockets pull their fibers to their loops. If every new
 * socket lived where its first operation ran, a busy acceptor's carrier would collect most sockets (an
 * acceptor starts each connection's fiber on its own carrier, which runs it first); idle carriers would
 * then steal those fibers and route every operation back to the busy loop. So a socket first used by a
 * fiber that may move goes to the loop with the fewest sockets when the caller's own loop holds more
 * than the runtime's placement slack more than that one ({@link IoTunables#PLACEMENT_SLACK} unless
 * {@value IoTunables#PLACEMENT_SLACK_PROPERTY} says otherwise); its first operation is routed there and
 * the fiber, resumed by that loop, follows. The default slack is wide on purpose: under light load one
 * carrier serving every socket, its peer asleep, costs less CPU per operation than two half-busy loops
 * (bench/README.md, "Placement"). A slack of 0 spreads sockets from the first one: each goes to the loop
 * with the fewest, its own on a tie. Where loops are rescued while their carrier is stalled
 * ({@code IoCarrierDriver}: epoll and NIO by default; not io_uring) a stall
 * does not argue for spreading; on io_uring's default single-issuer rings spreading halves what one
 * stalled carrier freezes (on two carriers) and does not remove it. A bound
 * fiber (or any fiber under THREAD_PER_CORE) always keeps its sockets on its own carrier. An accepted
 * socket counts as first used on the loop that accepted it, wherever its fiber first runs: an acceptor
 * that takes a burst of connections at once leaves their fibers queued, a peer carrier steals some, and
 * under light load their sockets would otherwise spread over both carriers (bench/README.md, "Accepting
 * under load"). The counts are
 * atomic per loop: incremented by the thread whose choice became a socket's home, decremented by the
 * loop when the socket closes; placement reads them racily, which at worst places a burst slightly
 * unevenly.
 */
final class LoopGroup {
    private final IoDrivers drivers;
    private final CopyOnWriteArrayList<IoCarrierDriver> members = new CopyOnWriteArrayList<>();

    LoopGroup(IoDrivers drivers) {
        this.drivers = drivers;
    }

    void join(IoCarrierDriver d) { members.add(d); }

    /** Removes a stopping carrier's driver; true when the group is empty. */
    boolean leave(IoCarrierDriver d) {
        members.remove(d);
        return members.isEmpty();
    }

    /**
     * The driver whose loop a socket first used by a movable fiber on {@code caller}'s carrier should live
     * on: {@code acceptedOn}'s, if the socket was accepted on a loop of this group, else the caller's,
     * unless that loop holds more than the slack over the least loaded one.
     */
    IoCarrierDriver placeFor(IoCarrierDriver acceptedOn, IoCarrierDriver caller) {
        IoCarrierDriver here = acceptedOn != null && members.contains(acceptedOn) ? acceptedOn : caller;
        int hereLoad = here.homedSockets.get();
        IoCarrierDriver best = here;
        int bestLoad = hereLoad;
        for (IoCarrierDriver d : members) {
            int load = d.homedSockets.get();
            if (load < bestLoad) {
                best = d;
                bestLoad = load;
            }
        }
        return hereLoad - bestLoad > drivers.placementSlack ? best : here;
    }
}
