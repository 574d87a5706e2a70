/**
 * The scheduling engine (not API: public only so that {@code dev.bobbin} can reach it).
 *
 * <p>Design. A {@link dev.bobbin.scheduler.CarrierPool} owns N {@link dev.bobbin.scheduler.Carrier}
 * platform threads (plus spares for stalls). Each carrier runs a duty cycle: find a task (next slot, own
 * run queue, injection queue every few tasks, its bound-fiber inbox), poll its driver, steal half of
 * another carrier's queue, and when there is nothing, park through its driver following the
 * {@link dev.bobbin.scheduler.IdleCarriers} protocol and the {@link dev.bobbin.scheduler.WakeHandshake}.
 * The {@link dev.bobbin.scheduler.StallMonitor} samples carriers and moves work off stalled ones.
 * {@link dev.bobbin.scheduler.JdkVirtualThreads} is the one place that touches JDK internals;
 * {@link dev.bobbin.scheduler.Telemetry} and {@link dev.bobbin.scheduler.FiberRegistry} keep the
 * counters and live-fiber set the public stats are read from. Tunables are in
 * {@link dev.bobbin.scheduler.Tunables}, each with its reason.
 *
 * <p>Invariants. A task is handed out exactly once (queue protocols, jcstress-tested with broken twins);
 * a parked carrier is woken whenever work is published that it could run (idle protocol, Dekker pairs
 * documented at each fence); a fiber's completion is counted once (the registry decides).
 *
 * <p>Who may call what. Owner-only operations (a carrier's own queue end, its counters' plain writes)
 * are called from that carrier thread only and say so; everything shared by thieves or outside threads
 * is in separate types or marked "any thread".
 *
 * <p>Stats. Each component reports its own part of an {@link dev.bobbin.scheduler.EngineStats} snapshot:
 * a carrier its {@code CarrierSnapshot} (its {@link dev.bobbin.scheduler.CarrierCounters} give the
 * counter groups, the carrier adds its state at that moment and its driver's counters from the
 * telemetry), the idle protocol the parked and searching carriers, the stall monitor its stalls and
 * spares, the telemetry the failure count and the transport. {@link dev.bobbin.scheduler.CarrierPool#stats()}
 * assembles them with the fiber counts and the injection queue's; the facade turns the snapshot into the
 * public {@code SchedulerStats}, group for group.
 *
 * <p>Dependencies. The engine imports {@code dev.bobbin.spi} (the driver seam), its own
 * {@code dev.bobbin.scheduler.queue} and {@code dev.bobbin.base}, and nothing of the public API package
 * {@code dev.bobbin}: the arrow points from the facade to here. The facade maps its configuration to an
 * {@link dev.bobbin.scheduler.EngineConfig} (with the engine's own {@code TaskModel} and
 * {@code Placement}) and the engine's {@code EngineStats} back to {@code SchedulerStats}. Facade code
 * that needs an engine answer ({@code CarrierLocal}, {@code FiberDump}, {@code FiberScheduler.current()})
 * calls into the engine, never the other way: the pool keeps the object that built it as an opaque
 * {@code owner}. {@code PackageGraphTest} (the examples module's tests) fails on any cycle between Bobbin's
 * packages.
 */
package dev.bobbin.scheduler;
