package dev.bobbin.uring.driver;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.ChildJvm;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.IoTransport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.Field;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The deadlock that pinned NIO wakeups prevent, made to happen on purpose (CI once hung on it in
 * {@link RingHandOffStressTest}). A fiber bound to carrier 1 queues a task on carrier 1's NIO loop while
 * another thread holds that selector's wakeup lock, so Netty's wakeup of the selector contends the lock.
 * Unpinned (the twin), the fiber leaves carrier 1, whose loop then wakes the selector itself (Netty's flag
 * says a wakeup is under way) and contends the lock as well; when the holder lets go, the fiber is the
 * lock's successor, and carrier 1 waits for a fiber that only carrier 1 can run. Pinned, the fiber blocks
 * carrier 1 and takes the lock when it is released. In a child JVM: the twin leaves its scheduler
 * deadlocked, and the selector's lock is reached by reflection, which needs {@code sun.nio.ch} opened.
 */
class NioWakeupDeadlockTest {

    @ParameterizedTest(name = "pinned={0}")
    @ValueSource(booleans = {true, false})              // false: the broken twin, unpinned wakeups
    void aFiberWakingItsOwnCarriersNioLoopWhileTheSelectorIsContendedFinishes(boolean pinned) throws Exception {
        String out = ChildJvm.run(List.of("--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"), Child.class,
                Boolean.toString(pinned));
        assertTrue(out.contains(pinned ? "RAN" : "STUCK"), out);
    }

    /** The scenario; prints RAN if the fiber's task got queued and it finished, STUCK if not within 10 s. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            boolean pinned = Boolean.parseBoolean(args[0]);
            FiberIo io = FiberIo.of(IoTransport.NIO);
            FiberScheduler scheduler = FiberScheduler.create(io.schedulerConfig().name("nio-wakeup").parallelism(2)
                    .maxSpareCarriers(0).stallThreshold(Duration.ZERO).build());  // the fiber spins: no stall handling
            IoCarrierDriver d1 = StalledCarrierIoTest.driversOf(scheduler, io, 2)[1];
            d1.drivers.pinLoopWakeups = pinned;
            Object handler = field(d1.loop, "handler");
            Selector selector = (Selector) field(handler, "unwrappedSelector");
            AtomicBoolean handlerWoken = (AtomicBoolean) field(handler, "wakenUp");
            Object wakeupLock = field(selector, "interruptLock");
            Thread carrier1 = d1.carrier.carrierThread();
            CountDownLatch spinning = new CountDownLatch(1), ran = new CountDownLatch(1);
            AtomicBoolean go = new AtomicBoolean();
            Thread fiber = scheduler.startOn(1, () -> {
                spinning.countDown();
                while (!go.get()) Thread.onSpinWait();       // holds carrier 1, out of its loop
                d1.drivers.execute(d1.loop, () -> { });      // Netty wakes the selector: contends the wakeup lock
                ran.countDown();
            });
            if (!spinning.await(10, TimeUnit.SECONDS)) throw new AssertionError("the fiber never ran");
            synchronized (wakeupLock) {
                handlerWoken.set(false);                     // so that Netty's wakeup reaches the selector
                go.set(true);
                awaitState(fiber, Thread.State.BLOCKED);
                // unpinned, the fiber left carrier 1, whose loop then wakes the selector (Netty's wakenUp was
                // set by the fiber) and contends the lock too; pinned, carrier 1 is blocked in the fiber
                awaitState(carrier1, Thread.State.BLOCKED);
            }
            System.out.println(ran.await(10, TimeUnit.SECONDS) ? "RAN" : "STUCK: fiber " + fiber.getState()
                    + ", carrier 1 " + carrier1.getState());
            System.out.flush();
            Runtime.getRuntime().halt(0);                    // the twin's carriers never stop
        }

        private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (t.getState() != state) {
                if (System.nanoTime() > until) throw new AssertionError(t + " never became " + state + ": " + t.getState());
                Thread.sleep(1);
            }
        }

        private static Object field(Object o, String name) throws ReflectiveOperationException {
            for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
                try {
                    Field f = c.getDeclaredField(name);
                    f.setAccessible(true);
                    return f.get(o);
                } catch (NoSuchFieldException e) {
                    // a superclass declares it
                }
            }
            throw new NoSuchFieldException(name + " in " + o.getClass());
        }
    }
}
