package dev.bobbin;

import dev.bobbin.scheduler.Carrier;
import dev.bobbin.scheduler.CarrierPool;
import dev.bobbin.scheduler.JdkVirtualThreads;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A value per carrier thread, the fiber counterpart of per-CPU data: per-carrier buffers, caches,
 * counters to be summed later, a handle to the carrier's I/O ring.
 *
 * <pre>{@code
 * static final CarrierLocal<StringBuilder> SCRATCH = CarrierLocal.withInitial(StringBuilder::new);
 *
 * String render(Order o) {
 *     return SCRATCH.with(sb -> { sb.setLength(0); return sb.append(o.id()).append(':').append(o.total()).toString(); });
 * }
 * }</pre>
 *
 * <p>The value is reachable only inside {@link #with}: while the function runs, the fiber does not
 * migrate. If it blocks inside, it resumes on the same carrier (it is bound to that carrier for the
 * duration, as a fiber started with {@link FiberScheduler#startLocal} is for its whole life), so the value
 * is never used from two carriers. Fibers of one carrier run one at a time, so no locking is needed, but
 * they can interleave where one of them blocks inside {@code with}: leave the value consistent before
 * blocking, or do not block there. {@code with} returning the value itself is refused, so the value
 * cannot leave its carrier through this API (other references escaping from the function are the
 * caller's business).
 *
 * <p>Values are created on first use on each carrier, per carrier of every scheduler, and live as long
 * as the carrier. Like a {@link ThreadLocal}, a {@code CarrierLocal} is meant to be a long-lived
 * (typically static) object. Thread-safe.
 *
 * @param <T> the value type
 */
public final class CarrierLocal<T> {
    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    private final int id;                          // index into each carrier's value array
    private final Supplier<? extends T> initial;

    private CarrierLocal(Supplier<? extends T> initial) {
        this.initial = initial;
        this.id = NEXT_ID.getAndIncrement();
        if (id < 0) throw new IllegalStateException("too many CarrierLocal instances");
    }

    /**
     * A carrier-local whose value on each carrier is created by {@code initial} on first use, on that
     * carrier. The supplier must not return null. A supplier that blocks lets other fibers of the carrier
     * run, and they may call it too: the first value stored wins, every fiber of the carrier sees that one,
     * and the others are dropped (so a supplier that opens a resource should not block).
     */
    public static <T> CarrierLocal<T> withInitial(Supplier<? extends T> initial) {
        return new CarrierLocal<>(Objects.requireNonNull(initial, "initial"));
    }

    /**
     * Runs {@code fn} with this carrier's value and returns its result. The calling fiber stays on its
     * carrier until {@code fn} returns. Nested calls (of this or other carrier-locals) are allowed.
     *
     * @throws IllegalStateException if the caller is not a fiber of a Bobbin scheduler (or a Bobbin
     *                               carrier thread), or if {@code fn} returns the value itself
     */
    public <R> R with(Function<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "fn");
        Carrier c = currentCarrier();
        Thread self = Thread.currentThread();
        if (self == c) return apply(c, fn);          // the carrier thread itself cannot move
        CarrierPool pool = c.pool;
        if (pool.homeOf(self) != null) return apply(c, fn); // already bound (to this carrier: it runs here)
        pool.bind(self, c);
        try {
            // The binding map may block us (a contended bin lock), and we may have resumed elsewhere:
            // once the binding is in place, a yield brings us to the home carrier for good.
            while (JdkVirtualThreads.currentCarrier() != c) Thread.yield();
            return apply(c, fn);
        } finally {
            pool.unbind(self);
        }
    }

    @SuppressWarnings("unchecked")
    private <R> R apply(Carrier c, Function<? super T, ? extends R> fn) {
        T value = (T) c.localValue(id, initial);
        R result = fn.apply(value);
        if (result == value) {
            throw new IllegalStateException("CarrierLocal.with must not return the carrier's value itself: it would"
                    + " leave carrier " + c.getName());
        }
        return result;
    }

    private static Carrier currentCarrier() {
        if (JdkVirtualThreads.isAvailable() && JdkVirtualThreads.currentCarrier() instanceof Carrier c) return c;
        throw new IllegalStateException("CarrierLocal.with must be called from a fiber of a Bobbin scheduler, not "
                + Thread.currentThread());
    }

    @Override
    public String toString() {
        return "CarrierLocal[" + id + "]";
    }
}
