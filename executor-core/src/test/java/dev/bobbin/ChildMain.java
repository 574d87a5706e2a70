package dev.bobbin;

import dev.bobbin.scheduler.JdkVirtualThreads;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/** Entry point of the child JVMs started by {@link JvmFlagsTest}. */
public final class ChildMain {
    public static void main(String[] args) throws Throwable {
        switch (args[0]) {
            case "create" -> {
                try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("child").parallelism(1).build())) {
                    s.start(() -> System.out.println("fiber ran")).join();
                }
            }
            case "pollers-raw" -> {
                Executor custom = Executors.newSingleThreadExecutor();
                Thread t = JdkVirtualThreads.newBuilder(custom).start(ChildMain::echoOnce);
                t.join();
                System.out.println("pollers-on-custom-scheduler=" + pollersScheduledBy(custom));
                System.exit(0);
            }
            case "pollers-bobbin" -> {
                try (FiberScheduler s = FiberScheduler.create(SchedulerConfig.builder().name("child").parallelism(2).build())) {
                    s.start(ChildMain::echoOnce).join();
                    Object pool = s.getClass().getDeclaredField("pool");
                    Field f = s.getClass().getDeclaredField("pool");
                    f.setAccessible(true);
                    System.out.println("pollers-on-custom-scheduler=" + pollersScheduledBy(f.get(s)));
                }
            }
            case "poller-mode", "poller-mode-after-jdk-io", "poller-mode-single-thread", "poller-mode-one-carrier" -> {
                if (args[0].equals("poller-mode-after-jdk-io")) Thread.ofVirtual().start(ChildMain::echoOnce).join();
                SchedulerConfig config = args[0].equals("poller-mode-single-thread")
                        ? SchedulerConfig.builder().name("child").policy(SchedulingPolicy.SINGLE_THREAD).build()
                        : args[0].equals("poller-mode-one-carrier")   // work stealing, one carrier, a spare (the default), stall protection on
                        ? SchedulerConfig.builder().name("child").parallelism(1).build()
                        : SchedulerConfig.builder().name("child").parallelism(2).build();
                try (FiberScheduler s = FiberScheduler.create(config)) {
                    s.start(ChildMain::echoOnce).join();
                    System.out.println("hosted=" + pollersScheduledBy(s.pool()));
                }
                System.out.println("property=" + System.getProperty("jdk.pollerMode"));
                System.out.println("virtual-pollers=" + virtualPollers());
            }
            case "hosted-lifecycle" -> hostedLifecycle();
            case "hosted-starvation" -> hostedStarvation();
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /**
     * The first scheduler hosts the JDK's pollers; JDK-socket I/O keeps working in its fibers, then, once
     * it is closed (while a JDK virtual thread is in the middle of an echo loop), in that virtual thread,
     * in another scheduler's fibers and in new JDK virtual threads.
     */
    private static void hostedLifecycle() throws Exception {
        FiberScheduler host = FiberScheduler.create(SchedulerConfig.builder().name("host").parallelism(2).build());
        host.start(() -> echoLoop(200)).join();
        System.out.println("hosted=" + pollersScheduledBy(host.pool()) + " count=" + host.pool().hostedJdkPollers());
        System.out.println("host-live=" + host.stats().fibers().live());
        // busy pollers across the close: eight JDK virtual threads keep echoing (a sub-poller with events
        // yields and polls again, so the host's carriers always have its task queued)
        java.util.List<AtomicReference<String>> through = new java.util.ArrayList<>();
        java.util.List<Thread> across = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            AtomicReference<String> r = new AtomicReference<>("not finished");
            through.add(r);
            across.add(Thread.ofVirtual().start(() -> r.set(echoLoop(3_000))));
        }
        Thread.sleep(20);
        host.close();                                  // returns although the pollers it hosts live on
        System.out.println("closed=" + host.isTerminated());
        for (Thread t : across) t.join();
        System.out.println("through-close=" + (through.stream().allMatch(r -> r.get().equals("ok")) ? "ok" : through));
        System.out.println("after-close-vthread=" + echoLoopIn(Thread.ofVirtual()));
        try (FiberScheduler other = FiberScheduler.create(SchedulerConfig.builder().name("other").parallelism(2).build())) {
            System.out.println("after-close-fiber=" + echoLoopIn(other.ofVirtual()));
            System.out.println("other-hosts=" + other.pool().hostedJdkPollers());
        }
        boolean runner = Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("bobbin-jdk-pollers-host"));
        System.out.println("runner=" + runner);
    }

    private static String echoLoopIn(Thread.Builder builder) throws InterruptedException {
        AtomicReference<String> r = new AtomicReference<>("not finished");
        builder.start(() -> r.set(echoLoop(200))).join();
        return r.get();
    }

    /**
     * The first scheduler hosts the JDK's pollers, and as many fibers as it has carriers and spares spin
     * without yielding; a JDK virtual thread (its carriers are the JDK's) must still get its socket
     * wake-ups. The spinners stop only after the echo loop ended or 30 s passed.
     */
    private static void hostedStarvation() throws Exception {
        int parallelism = 2, spares = 2;
        FiberScheduler host = FiberScheduler.create(SchedulerConfig.builder().name("host").parallelism(parallelism)
                .maxSpareCarriers(spares).build());
        host.start(ChildMain::echoOnce).join();          // the pollers start, hosted here
        System.out.println("hosted=" + pollersScheduledBy(host.pool()));
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> spinners = new java.util.ArrayList<>();
        for (int i = 0; i < parallelism + spares; i++) {
            spinners.add(host.start(() -> {
                long x = 0;
                while (!stop.get()) x++;
            }));
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (host.pool().monitor.sparesStarted() < spares && System.nanoTime() < deadline) Thread.sleep(5);
        System.out.println("spares-started=" + host.pool().monitor.sparesStarted());
        AtomicReference<String> echo = new AtomicReference<>("not finished");
        Thread vt = Thread.ofVirtual().start(() -> echo.set(echoLoop(20)));
        boolean done = vt.join(java.time.Duration.ofSeconds(30));
        stop.set(true);
        for (Thread t : spinners) t.join();
        vt.join();
        System.out.println("echo-while-spinning=" + (done ? echo.get() : "not finished while the host spun"));
        System.out.println("poller-rescues=" + (host.pool().monitor.pollerRescues() > 0));
        host.close();
    }

    /** {@code rounds} one-byte round trips with a platform-thread peer; "ok" or what went wrong. */
    private static String echoLoop(int rounds) {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread peer = Thread.ofPlatform().start(() -> {
                try (Socket c = server.accept()) {
                    InputStream in = c.getInputStream();
                    OutputStream out = c.getOutputStream();
                    for (int b; (b = in.read()) >= 0; ) out.write(b);
                } catch (IOException ignored) {
                    // the test side reports
                }
            });
            try (Socket s = new Socket(server.getInetAddress(), server.getLocalPort())) {
                s.setSoTimeout(20_000);                // a lost wake-up fails instead of hanging
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                for (int i = 0; i < rounds; i++) {
                    out.write(i & 0x7f);
                    int b = in.read();              // parks on the JDK's poller
                    if (b != (i & 0x7f)) return "round " + i + " read " + b;
                }
            }
            peer.join();
            return "ok";
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** Blocking socket I/O from the calling (virtual) thread: the JDK starts its pollers on first use. */
    private static void echoOnce() {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            AtomicReference<Throwable> err = new AtomicReference<>();
            Thread peer = Thread.ofPlatform().start(() -> {
                try (Socket c = server.accept()) {
                    c.getOutputStream().write(c.getInputStream().read());
                } catch (Throwable t) {
                    err.set(t);
                }
            });
            try (Socket s = new Socket(server.getInetAddress(), server.getLocalPort())) {
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write(42);
                // a blocking read in a virtual thread parks on the JDK poller
                int b = in.read();
                System.out.println(b == 42 ? "echoed=ok" : "echoed=" + b);
            }
            peer.join();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** Whether the JDK's read pollers are virtual threads (its VTHREAD_POLLERS mode) rather than platform threads. */
    private static boolean virtualPollers() throws Exception {
        Class<?> poller = Class.forName("sun.nio.ch.Poller");
        Field owner = poller.getDeclaredField("owner");
        owner.setAccessible(true);
        Method m = poller.getDeclaredMethod("readPollers");
        m.setAccessible(true);
        List<?> pollers = (List<?>) m.invoke(null);
        if (pollers.isEmpty()) throw new IllegalStateException("no read pollers");
        boolean anyVirtual = false, anyPlatform = false;
        for (Object p : pollers) {
            Thread t = (Thread) owner.get(p);
            if (t == null) throw new IllegalStateException("read poller without a thread: " + p);
            if (t.isVirtual()) anyVirtual = true; else anyPlatform = true;
        }
        if (anyVirtual == anyPlatform) throw new IllegalStateException("mixed poller threads");
        return anyVirtual;
    }

    /** Whether any of the JDK's read/write poller threads is a virtual thread scheduled by {@code scheduler}. */
    private static boolean pollersScheduledBy(Object scheduler) throws Exception {
        Class<?> poller = Class.forName("sun.nio.ch.Poller");
        Field owner = poller.getDeclaredField("owner");
        owner.setAccessible(true);
        Field vtScheduler = Class.forName("java.lang.VirtualThread").getDeclaredField("scheduler");
        vtScheduler.setAccessible(true);
        boolean any = false;
        for (String list : new String[] {"readPollers", "writePollers"}) {
            Method m = poller.getDeclaredMethod(list);
            m.setAccessible(true);
            for (Object p : (List<?>) m.invoke(null)) {
                Thread t = (Thread) owner.get(p);
                if (t != null && t.isVirtual() && vtScheduler.get(t) == scheduler) any = true;
            }
        }
        return any;
    }
}
