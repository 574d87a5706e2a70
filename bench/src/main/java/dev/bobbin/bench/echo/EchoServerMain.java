package dev.bobbin.bench.echo;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one echo server in its own JVM, so that the benchmark can read the server's CPU time alone from
 * {@code /proc/<pid>/stat}.
 *
 * <pre>
 * EchoServerMain &lt;kind&gt; &lt;port&gt; [--threads N] [--backlog N] [--max-seconds S] [--stop-on-stdin-eof]
 * </pre>
 *
 * Prints one line {@code READY kind=<id> port=<port> pid=<pid> threads=<n>} on standard output once it
 * accepts connections (port 0 binds an ephemeral port), then serves until one of: SIGTERM/SIGINT, the
 * {@code --max-seconds} limit (default 900, a safety net), or with {@code --stop-on-stdin-eof} the end of
 * standard input, which also stops an orphaned server when the process that started it dies. A kind that
 * cannot run here prints {@code UNAVAILABLE kind=<id> reason=<why>} and exits with status 3; bad
 * arguments exit with status 2.
 */
public final class EchoServerMain {
    static final int EXIT_USAGE = 2;
    static final int EXIT_UNAVAILABLE = 3;
    private static final String USAGE = "usage: EchoServerMain <kind> <port> [--threads N] [--backlog N]"
            + " [--max-seconds S] [--stop-on-stdin-eof]\n  kinds: " + ServerKind.ids();

    private EchoServerMain() { }

    public static void main(String[] args) throws Exception {
        ServerKind kind;
        ServerOptions options;
        long maxSeconds;
        boolean stopOnStdinEof;
        try {
            Flags f = Flags.parse(args, Set.of("threads", "backlog", "max-seconds"), Set.of("stop-on-stdin-eof"));
            if (f.positional().size() != 2) throw new IllegalArgumentException("expected <kind> <port>");
            kind = ServerKind.of(f.positional().get(0));
            int port = (int) Flags.parseLong("port", f.positional().get(1), 0, 65_535);
            ServerOptions d = ServerOptions.defaults();
            options = new ServerOptions(port, f.intValue("threads", d.threads(), 1, 4096),
                    f.intValue("backlog", d.backlog(), 1, 65_535));
            maxSeconds = f.longValue("max-seconds", 900, 1, 86_400);
            stopOnStdinEof = f.has("stop-on-stdin-eof");
        } catch (IllegalArgumentException e) {
            System.err.println("EchoServerMain: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(EXIT_USAGE);
            return;
        }
        if (kind.unavailableReason().isPresent()) {
            System.out.println("UNAVAILABLE kind=" + kind.id() + " reason=" + kind.unavailableReason().get());
            System.out.flush();
            System.exit(EXIT_UNAVAILABLE);
            return;
        }

        EchoServer server = kind.start(options);
        AtomicBoolean closed = new AtomicBoolean();
        Runnable closeOnce = () -> {
            if (closed.compareAndSet(false, true)) server.close();
        };
        Runtime.getRuntime().addShutdownHook(new Thread(closeOnce, "echo-server-shutdown"));
        CountDownLatch stop = new CountDownLatch(1);
        if (stopOnStdinEof) {
            Thread.ofPlatform().daemon().name("echo-server-stdin").start(() -> {
                drain(System.in);
                stop.countDown();
            });
        }
        System.out.println("READY kind=" + kind.id() + " port=" + server.port() + " pid=" + ProcessHandle.current().pid()
                + " threads=" + server.serviceThreads());
        System.out.flush();
        if (!stop.await(maxSeconds, TimeUnit.SECONDS)) {
            System.err.println("EchoServerMain: --max-seconds " + maxSeconds + " reached; stopping");
        }
        closeOnce.run();
        System.exit(0);
    }

    /** Reads until end of stream or an error. */
    private static void drain(InputStream in) {
        byte[] b = new byte[256];
        try {
            while (in.read(b) >= 0) {
                // ignore input; only its end matters
            }
        } catch (IOException e) {
            // a broken pipe ends it as well
        }
    }
}
