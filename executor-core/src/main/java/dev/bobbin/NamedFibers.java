package dev.bobbin;

import dev.bobbin.base.LinePadding;
import dev.bobbin.base.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * A thread-safe factory that names each fiber {@code <prefix><n>}, n counting from 0, over a factory of
 * unnamed fibers. The JDK's builder can count names itself ({@code name(prefix, start)}), but its
 * factory's counter is a VarHandle call with an int where the handle takes a long, adapted at every
 * call: 6 % of the CPU of an invokeAll loop of tiny tasks. Here a fiber is renamed before its start,
 * for one atomic increment of a counter padded off its neighbours' lines ({@link LinePadding}): the
 * thread that submits writes it at every task.
 */
final class NamedFibers extends NamedFibersCounter implements ThreadFactory {
    private static final VarHandle NEXT = VarHandles.field(MethodHandles.lookup(), NamedFibersCounter.class, "next", long.class);

    @SuppressWarnings("unused")                    // after the counter: see LinePadding
    private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

    private final ThreadFactory unnamed;
    private final String prefix;

    NamedFibers(ThreadFactory unnamed, String prefix) {
        this.unnamed = Objects.requireNonNull(unnamed, "unnamed");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
    }

    @Override
    public Thread newThread(Runnable task) {
        Thread t = unnamed.newThread(task);
        t.setName(prefix + (long) NEXT.getAndAdd(this, 1L));   // not started yet: no other thread sees it
        return t;
    }
}

/** The name counter of {@link NamedFibers}, behind 128 bytes of padding. */
abstract class NamedFibersCounter extends LinePadding {
    @SuppressWarnings("unused") volatile long next;   // the next fiber's number; getAndAdd by any thread
}
