package dev.bobbin;

import dev.bobbin.scheduler.Carrier;
import dev.bobbin.scheduler.JdkVirtualThreads;
import dev.bobbin.scheduler.CarrierPool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A listing of a scheduler's live fibers at one moment, as text or JSON: for each fiber its name, id,
 * state, the carrier it is mounted on (if any), the time since it last ran and its stack trace.
 *
 * <pre>{@code
 * System.out.println(scheduler.dumpFibers().toText());
 * Files.writeString(path, scheduler.dumpFibers().toJson());
 * }</pre>
 *
 * <p>The dump lists every live fiber, parked ones included. The time since a fiber last ran is known
 * only with {@link SchedulerConfig#trackFibers()} on ({@link #complete()} says so); otherwise it is
 * -1. Fibers are read one by one while they keep running, so each entry is consistent in itself, not
 * with the others. A dump never waits long for a carrier: if a carrier holds part of the live-fiber
 * list for longer than the dump waits (a carrier thread suspended by a debugger, say), the fibers in
 * that part are left out and {@link #partial()} says so.
 */
public final class FiberDump {
    private final String schedulerName;
    private final Instant takenAt;
    private final boolean complete;
    private final boolean partial;
    private final List<Entry> fibers;

    /**
     * One fiber.
     *
     * @param name              the fiber's name (may be empty)
     * @param id                its thread id
     * @param state             its state as {@link Thread#getState()} reports it
     * @param carrier           index of the carrier it was mounted on, or -1 when not mounted
     * @param sinceLastRunNanos time since its last run on a carrier ended (or since it started, if it has
     *                          not run yet); 0 while mounted; -1 when unknown (fiber tracking off)
     * @param stackTrace        its stack, innermost frame first; empty if it had none (not yet started,
     *                          or terminated meanwhile)
     */
    public record Entry(String name, long id, Thread.State state, int carrier, long sinceLastRunNanos,
                        List<StackTraceElement> stackTrace) {
        /** Validates and copies. */
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(state, "state");
            stackTrace = List.copyOf(Objects.requireNonNull(stackTrace, "stackTrace"));
        }
    }

    private FiberDump(String schedulerName, Instant takenAt, boolean complete, boolean partial, List<Entry> fibers) {
        this.schedulerName = schedulerName;
        this.takenAt = takenAt;
        this.complete = complete;
        this.partial = partial;
        this.fibers = List.copyOf(fibers);
    }

    /** Takes a dump of {@code pool}'s fibers. */
    static FiberDump of(CarrierPool pool) {
        Instant takenAt = Instant.now();
        long now = System.nanoTime();
        boolean stamped = pool.telemetry.stampRuns;
        List<Thread> threads = new ArrayList<>();
        List<Long> lastRun = new ArrayList<>();
        boolean partial = !pool.telemetry.registry.snapshotForDump(threads, lastRun);
        List<Entry> entries = new ArrayList<>(threads.size());
        for (int i = 0; i < threads.size(); i++) {
            Thread f = threads.get(i);
            StackTraceElement[] stack = f.getStackTrace();
            Thread.State state = f.getState();
            if (state == Thread.State.TERMINATED) continue;   // ended while we looked
            // A fiber is listed on a carrier only if it is mounted after its stack and state were read, and
            // on the carrier that holds it then (RUNNABLE alone also means queued, or yielding; a carrier read
            // before the stacks of thousands of others may hold another fiber by now). One parked, or
            // blocked on a monitor, while pinned is mounted (the JDK's dumps show its carrier too); a waiting
            // fiber counts as on its carrier only if its state held across that check: one that resumed
            // between the two reads would otherwise be listed as waiting on a carrier.
            int carrier = JdkVirtualThreads.onCarrier(f) && (state == Thread.State.RUNNABLE || f.getState() == state)
                    ? carrierHolding(pool, f) : -1;
            long since = !stamped ? -1 : carrier >= 0 ? 0 : Math.max(0, now - lastRun.get(i));
            entries.add(new Entry(f.getName(), f.threadId(), state, carrier, since, List.of(stack)));
        }
        entries.sort(Comparator.comparingLong(Entry::id));
        return new FiberDump(pool.name(), takenAt, stamped, partial, entries);
    }

    /** The index of the carrier {@code fiber} is mounted on now, or -1. */
    private static int carrierHolding(CarrierPool pool, Thread fiber) {
        for (Carrier c : pool.carriers) if (c.currentFiber() == fiber) return c.index;
        return -1;
    }

    /** The scheduler's name. */
    public String schedulerName() { return schedulerName; }

    /** When the dump was taken. */
    public Instant takenAt() { return takenAt; }

    /** Whether the entries carry the time since each fiber last ran (fiber tracking on). */
    public boolean complete() { return complete; }

    /**
     * Whether live fibers may be missing: part of the live-fiber list stayed locked by a carrier for
     * longer than the dump waits (100 ms), and its fibers were left out rather than waited for.
     */
    public boolean partial() { return partial; }

    /** The fibers, by id. */
    public List<Entry> fibers() { return fibers; }

    /** The dump as text, one block per fiber, in the style of a thread dump. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append("Fiber dump of scheduler '").append(schedulerName).append("' at ").append(takenAt)
                .append(": ").append(fibers.size()).append(" live fibers")
                .append(complete ? "" : " (fiber tracking is off: times since last run unknown)")
                .append(partial ? " (partial: a carrier held part of the fiber list; its fibers are left out)" : "")
                .append('\n');
        for (Entry e : fibers) {
            b.append('\n').append('"').append(e.name()).append("\" #").append(e.id()).append(' ').append(e.state());
            if (e.carrier() >= 0) b.append(" on carrier ").append(e.carrier());
            if (e.sinceLastRunNanos() > 0) b.append(", last ran ").append(Duration.ofNanos(e.sinceLastRunNanos())).append(" ago");
            b.append('\n');
            for (StackTraceElement f : e.stackTrace()) b.append("    at ").append(f).append('\n');
        }
        return b.toString();
    }

    /**
     * The dump as a JSON object: {@code {"scheduler", "takenAt", "complete", "partial", "fibers": [{"name", "id",
     * "state", "carrier", "sinceLastRunNanos", "stack": ["frame", ...]}]}}; {@code carrier} is null when
     * the fiber is not mounted and {@code sinceLastRunNanos} is null when unknown.
     */
    public String toJson() {
        StringBuilder b = new StringBuilder();
        b.append("{\"scheduler\":");
        quote(b, schedulerName);
        b.append(",\"takenAt\":");
        quote(b, takenAt.toString());
        b.append(",\"complete\":").append(complete).append(",\"partial\":").append(partial).append(",\"fibers\":[");
        for (int i = 0; i < fibers.size(); i++) {
            Entry e = fibers.get(i);
            if (i > 0) b.append(',');
            b.append("{\"name\":");
            quote(b, e.name());
            b.append(",\"id\":").append(e.id()).append(",\"state\":\"").append(e.state()).append('"');
            b.append(",\"carrier\":").append(e.carrier() >= 0 ? String.valueOf(e.carrier()) : "null");
            b.append(",\"sinceLastRunNanos\":").append(e.sinceLastRunNanos() >= 0 ? String.valueOf(e.sinceLastRunNanos()) : "null");
            b.append(",\"stack\":[");
            for (int j = 0; j < e.stackTrace().size(); j++) {
                if (j > 0) b.append(',');
                quote(b, e.stackTrace().get(j).toString());
            }
            b.append("]}");
        }
        return b.append("]}").toString();
    }

    @Override
    public String toString() {
        return toText();
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
