package dev.bobbin.examples;

import dev.bobbin.FiberScheduler;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An echo server written as plain blocking code, one fiber per connection, on Bobbin's io_uring carriers
 * (or epoll, or NIO, where io_uring is unavailable; {@code -Dbobbin.io.transport=...} forces one).
 *
 * <pre>
 *   ./bobbin example echo                 start on an ephemeral port, run 100 client fibers, print what they did, exit
 *   ./bobbin example echo 7000 0          serve on port 7000 until Ctrl-C (try: nc localhost 7000)
 *   ./bobbin example echo 7000 500 2000   500 client fibers, 2000 round trips each
 * </pre>
 */
public final class EchoServerExample {
    private static final String USAGE = "usage: ./bobbin example echo [port [clients [round-trips]]] [-- JVM options]";

    public static void main(String[] args) throws Exception {
        Usage.helpIfAsked(args, USAGE);
        int port, clients, roundTrips;
        try {
            if (args.length > 3) throw new IllegalArgumentException("three arguments at most, not " + args.length);
            port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
            clients = args.length > 1 ? Integer.parseInt(args[1]) : 100;
            roundTrips = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
            if (port < 0 || port > 0xFFFF) throw new IllegalArgumentException("port out of range: " + port);
            if (clients < 0 || roundTrips < 0) throw new IllegalArgumentException("a negative count");
        } catch (NumberFormatException e) {
            usage("not a number: " + e.getMessage().replaceFirst("^For input string: ", ""));
            return;
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }

        FiberIo io;
        try {
            io = FiberIo.system();
        } catch (IllegalStateException e) {            // -Dbobbin.io.transport names an unknown or unavailable one
            System.err.println("echo: " + e.getMessage());
            System.exit(2);
            return;
        }
        int carriers = Runtime.getRuntime().availableProcessors();
        try (FiberScheduler scheduler = io.newScheduler("echo", carriers);
             FiberServerSocket server = io.openServer()) {
            // bind from a fiber, so that the listening socket lives on a carrier's ring
            AtomicReference<IOException> bindFailure = new AtomicReference<>();
            scheduler.start(() -> {
                try {
                    server.bind(new InetSocketAddress(port), 1024);
                } catch (IOException e) {
                    bindFailure.set(e);
                }
            }).join();
            if (bindFailure.get() != null) {
                System.err.println("echo: cannot listen on port " + port + ": " + bindFailure.get().getMessage());
                System.exit(1);
            }
            System.out.printf("echo server on %s, transport %s (%s), %d carriers%n",
                    server.localAddress(), io.transport().id(), io.selectionReason(), carriers);

            scheduler.start(() -> acceptLoop(scheduler, server));
            if (clients == 0) {
                Thread.currentThread().join();           // serve until the process is killed
            }
            if (!runClients(io, scheduler, server.localAddress(), clients, roundTrips)) System.exit(1);
        }
    }

    private static void usage(String problem) {
        Usage.refuse(USAGE, problem);
    }

    /** Accepts forever; each connection gets a fiber running ordinary stream code. */
    private static void acceptLoop(FiberScheduler scheduler, FiberServerSocket server) {
        for (;;) {
            FiberSocket socket;
            try {
                socket = server.accept();
            } catch (ClosedChannelException e) {
                return;                                  // the server was closed
            } catch (IOException e) {
                System.err.println("accept failed: " + e);
                return;
            }
            scheduler.start(() -> echo(socket));
        }
    }

    private static void echo(FiberSocket socket) {
        try (socket; InputStream in = socket.inputStream(); OutputStream out = socket.outputStream()) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
        } catch (IOException e) {
            // the client went away
        }
    }

    /** Runs the clients and prints what they did; false if any of them failed. */
    private static boolean runClients(FiberIo io, FiberScheduler scheduler, InetSocketAddress server,
                                      int clients, int roundTrips) throws InterruptedException {
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", server.getPort());
        CountDownLatch done = new CountDownLatch(clients);
        AtomicLong exchanged = new AtomicLong(), failed = new AtomicLong();
        AtomicReference<IOException> firstFailure = new AtomicReference<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            scheduler.start(() -> {
                byte[] msg = "hello, bobbin\n".getBytes();
                byte[] back = new byte[msg.length];
                try (FiberSocket s = io.connect(target, Duration.ofSeconds(10))) {
                    // a server that cannot accept (out of descriptors, which these clients hold) never answers
                    s.setReadTimeout(Duration.ofSeconds(10));
                    OutputStream out = s.outputStream();
                    InputStream in = s.inputStream();
                    for (int i = 0; i < roundTrips; i++) {
                        out.write(msg);
                        if (in.readNBytes(back, 0, back.length) < back.length) {
                            throw new java.io.EOFException("the server closed the connection");
                        }
                        exchanged.incrementAndGet();
                    }
                } catch (IOException e) {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        double secs = (System.nanoTime() - t0) / 1e9;
        // One cold run, clients and server sharing the carriers: it shows the code works, not how fast it is
        // (bench/echo-bench.sh measures that, against the JDK and Netty, with the load in another process).
        System.out.printf("%d clients x %d round trips: %d exchanges in %.2f s (one cold run, clients in the same"
                        + " process; bench/echo-bench.sh measures throughput)%n",
                clients, roundTrips, exchanged.get(), secs);
        System.out.println(io.stats());
        if (failed.get() == 0) return true;
        System.err.println("echo: " + failed.get() + " of " + clients + " clients failed; the first: " + firstFailure.get());
        return false;
    }
}
