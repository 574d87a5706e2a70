package dev.bobbin.scheduler.queue;

/**
 * The run-queue operations the protocol tests exercise, so one scenario can run against {@link RunQueue}
 * and against its deliberately broken twin ({@link BrokenRunQueue}). Owner operations are called from
 * one thread only, as {@link RunQueue.Local} requires; {@code stealInto} and {@code stealNext} from
 * any thread, with {@code dst} owned by the caller.
 */
interface QueueUnderTest {
    boolean offer(Runnable task);
    Runnable poll();
    Runnable swapNext(Runnable task);
    Runnable takeNext();
    Runnable[] drainHalfForSpill();
    Runnable stealInto(QueueUnderTest dst, int[] stolen);
    Runnable stealNext();
    void clearIfEmpty();

    /** The real {@link RunQueue}. */
    static QueueUnderTest real(int capacity) {
        return new Real(new RunQueue(capacity));
    }

    /** A test item: a task with an id. */
    record Item(int id) implements Runnable {
        @Override public void run() { }
    }

    /** Items 0..n-1. */
    static Item[] items(int n) {
        Item[] items = new Item[n];
        for (int i = 0; i < n; i++) items[i] = new Item(i);
        return items;
    }

    final class Real implements QueueUnderTest {
        final RunQueue queue;
        private final RunQueue.Local local;
        private final RunQueue.Steal steal;

        Real(RunQueue queue) {
            this.queue = queue;
            this.local = queue.local();
            this.steal = queue.steal();
        }

        @Override public boolean offer(Runnable task) { return local.offer(task); }
        @Override public Runnable poll() { return local.poll(); }
        @Override public Runnable swapNext(Runnable task) { return local.swapNext(task); }
        @Override public Runnable takeNext() { return local.takeNext(); }
        @Override public Runnable[] drainHalfForSpill() { return local.drainHalfForSpill(); }
        @Override public Runnable stealInto(QueueUnderTest dst, int[] stolen) {
            return steal.stealInto(((Real) dst).local, stolen);
        }
        @Override public Runnable stealNext() { return steal.stealNext(); }
        @Override public void clearIfEmpty() { local.clearIfEmpty(); }
    }
}
