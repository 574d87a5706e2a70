/**
 * The queues of the engine (not API).
 *
 * <p>{@link dev.bobbin.scheduler.queue.RunQueue} is each carrier's bounded ring plus a "next" slot, split
 * into an owner handle ({@code Local}: push, pop, spill) and a thieves' handle ({@code Steal}: steal
 * half), so the owner-only operations cannot be called through the shared view.
 * {@link dev.bobbin.scheduler.queue.InjectionQueue} takes work from outside threads and spills (and holds
 * each carrier's inbox), lock-free, so no thread ever waits for a preempted one. Every ordering point in
 * the ring says which access it pairs with; both queues' protocols are checked by jcstress tests with
 * deliberately broken twins.
 */
package dev.bobbin.scheduler.queue;
