package dev.bobbin.scheduler;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event {@code dev.bobbin.CarrierStall}: a carrier ran one fiber longer than the stall threshold
 * without a blocking point, or sat in a pinning call. Committed once per stall by the {@link StallMonitor};
 * {@code jfr print --events dev.bobbin.CarrierStall rec.jfr} shows it with the offending fiber's stack.
 */
@Name("dev.bobbin.CarrierStall")
@Label("Carrier Stall")
@Category("Bobbin")
@Description("A Bobbin carrier ran one fiber past the stall threshold without yielding, or sat in a pinning call")
@StackTrace(false)   // the committing thread is the monitor; the offender's stack is in fiberStack
public final class CarrierStallEvent extends jdk.jfr.Event {
    @Label("Scheduler") String scheduler;
    @Label("Carrier") String carrier;
    @Label("Spare Carrier") boolean spareCarrier;
    @Label("Fiber") Thread fiber;
    @Label("Fiber Name") String fiberName;
    @Label("Stalled For") @Timespan(Timespan.MILLISECONDS) long stalledFor;
    @Label("Kind") String kind;
    @Label("Fiber Stack") String fiberStack;
    @Label("Queued Fibers Handed Off") int handedOff;
}
