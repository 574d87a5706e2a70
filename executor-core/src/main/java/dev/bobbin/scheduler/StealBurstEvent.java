package dev.bobbin.scheduler;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event: one steal moved at least {@link Tunables#STEAL_BURST_MIN_FIBERS} runnable fibers from one
 * carrier's queue to another's, a sign of a backlog building on one carrier (a fan-out from one fiber,
 * or a carrier held by a long-running fiber). Enabled by default; {@code jfr print --events
 * dev.bobbin.StealBurst recording.jfr} lists them. Emitted on the thief's carrier, off the hot path (a
 * carrier steals only when it has run out of its own work).
 */
@Name(StealBurstEvent.NAME)
@Label("Steal Burst")
@Category({"Bobbin", "Scheduler"})
@Description("A carrier stole a large batch of runnable fibers from another carrier's queue")
@StackTrace(false)
public final class StealBurstEvent extends Event {
    public static final String NAME = "dev.bobbin.StealBurst";

    @Label("Scheduler")
    String scheduler;

    @Label("Thief Carrier")
    @Description("Index of the carrier that stole")
    int thief;

    @Label("Victim Carrier")
    @Description("Index of the carrier whose queue was stolen from")
    int victim;

    @Label("Fibers Moved")
    int fibersMoved;

    @Label("Victim Queue Left")
    @Description("Runnable fibers left in the victim's queue right after the steal")
    int victimQueueLeft;


    /** Emits the event if JFR records it. */
    static void emit(Carrier thief, Carrier victim, int moved) {
        StealBurstEvent e = new StealBurstEvent();
        if (!e.shouldCommit()) return;
        e.scheduler = thief.pool.name();
        e.thief = thief.index;
        e.victim = victim.index;
        e.fibersMoved = moved;
        e.victimQueueLeft = victim.queue.sizeEstimate();
        e.commit();
    }
}
