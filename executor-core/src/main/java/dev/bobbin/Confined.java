package dev.bobbin;

import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A group of non-thread-safe objects that only its owning thread may touch, and whose ownership moves
 * between fibers explicitly: a capsule. The owner works on the graph without locks; when it hands the
 * capsule over, everything it wrote happens-before everything the new owner does with it.
 *
 * <pre>{@code
 * Confined<Map<String, Integer>> counts = Confined.of(new HashMap<>()); // owned by the calling fiber
 * counts.use(m -> m.merge("a", 1, Integer::sum));
 * Thread next = scheduler.ofVirtual().unstarted(() -> counts.use(m -> ...));
 * counts.transferTo(next);                                             // now only `next` may touch it
 * next.start();                                                        // after the transfer: no wait needed
 * }</pre>
 *
 * <p>Every access checks ownership: a foreign thread gets a {@link WrongThreadException} naming the
 * owner and the intruder. Because a fiber keeps its identity when it migrates between carriers,
 * confinement holds across migrations: the owner is a fiber, not a carrier. Ownership moves with
 * {@link #transferTo} (owner to a named thread), or with {@link #release} and {@link #claim} (owner to
 * whoever claims it first, e.g. through a queue). The owner field is volatile: a transfer or release
 * (a volatile write by the old owner) happens-before the new owner's first successful access or claim
 * (a volatile read of the same field).
 *
 * <p>The check is shallow: objects obtained from the graph and kept outside the access function are the
 * caller's responsibility. Instances are thread-safe; the wrapped graph need not be.
 *
 * @param <T> the type of the wrapped graph's root
 */
public final class Confined<T> {
    private final T value;
    private volatile Thread owner;   // null while released
    private int depth;               // owner only: apply/use calls in progress; ownership cannot move meanwhile

    private Confined(T value, Thread owner) {
        this.value = value;
        this.owner = owner;
    }

    /** Wraps {@code value}, owned by the calling thread (fiber). */
    public static <T> Confined<T> of(T value) {
        return new Confined<>(Objects.requireNonNull(value, "value"), Thread.currentThread());
    }

    /**
     * Wraps {@code value}, released: the first thread to {@link #claim} it becomes its owner. For a
     * capsule built on one thread and consumed by whichever fiber takes it.
     */
    public static <T> Confined<T> released(T value) {
        return new Confined<>(Objects.requireNonNull(value, "value"), null);
    }

    /**
     * The wrapped root. Owner only; prefer {@link #apply}/{@link #use}, which make the confined region
     * explicit.
     *
     * @throws WrongThreadException if the caller is not the owner
     */
    public T get() {
        checkOwner("access");
        return value;
    }

    /** Applies {@code fn} to the wrapped root and returns its result. Owner only. */
    public <R> R apply(Function<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "fn");
        checkOwner("access");
        depth++;
        try {
            return fn.apply(value);
        } finally {
            depth--;
        }
    }

    /** Passes the wrapped root to {@code action}. Owner only. */
    public void use(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        checkOwner("access");
        depth++;
        try {
            action.accept(value);
        } finally {
            depth--;
        }
    }

    /**
     * Makes {@code newOwner} the owner. Owner only; afterwards the caller may no longer touch the graph.
     * Transferring to oneself is allowed and does nothing (outside {@code apply}/{@code use}, as every
     * transfer).
     *
     * @throws IllegalStateException if called inside {@link #apply} or {@link #use}, which go on using
     *         the graph after this returns
     */
    public void transferTo(Thread newOwner) {
        Objects.requireNonNull(newOwner, "newOwner");
        checkOwner("transfer");
        checkNotInUse("transfer");
        owner = newOwner;                 // volatile write: releases the caller's writes to the new owner
    }

    /**
     * Gives up ownership; the next {@link #claim} takes it. Owner only.
     *
     * @throws IllegalStateException if called inside {@link #apply} or {@link #use}
     */
    public void release() {
        checkOwner("release");
        checkNotInUse("release");
        owner = null;                     // volatile write; pairs with the read in claim
    }

    /**
     * Makes the caller the owner if the capsule is released, already owned by the caller, or owned by a
     * thread that has terminated (an owner that ended without handing it over would otherwise lose the
     * graph for good; its termination happens-before the claim, as a {@code join} does).
     *
     * @return false if another live (or not yet started) thread owns it
     */
    public boolean claim() {
        Thread self = Thread.currentThread();
        for (;;) {
            Thread o = owner;             // volatile read; pairs with the write in release/transferTo
            if (o == self) return true;
            if (o != null && o.getState() != Thread.State.TERMINATED) return false;
            synchronized (this) {          // claims are rare; a monitor keeps the CAS simple
                if (owner == o) {
                    owner = self;
                    return true;
                }
            }
        }
    }

    /** The current owner, or empty while released. A snapshot: it can change right after. */
    public java.util.Optional<Thread> owner() {
        return java.util.Optional.ofNullable(owner);
    }

    /** Whether the calling thread owns the capsule now. */
    public boolean isOwnedByCurrentThread() {
        return owner == Thread.currentThread();
    }

    private void checkOwner(String what) {
        Thread o = owner;                 // volatile read: acquires the previous owner's writes
        Thread self = Thread.currentThread();
        if (o != self) {
            throw new WrongThreadException("Confined " + what + " by " + describe(self) + ", but its owner is "
                    + (o == null ? "nobody (released; call claim())"
                    : describe(o) + (o.getState() == Thread.State.TERMINATED ? ", terminated (call claim())" : "")));
        }
    }

    private void checkNotInUse(String what) {
        if (depth > 0) {
            throw new IllegalStateException("Confined " + what + " inside apply/use: the function still holds the graph");
        }
    }

    private static String describe(Thread t) {
        return (t.isVirtual() ? "fiber" : "thread") + " '" + t.getName() + "' (id " + t.threadId() + ")";
    }

    @Override
    public String toString() {
        Thread o = owner;
        return "Confined[owner=" + (o == null ? "none" : describe(o)) + "]";
    }
}
