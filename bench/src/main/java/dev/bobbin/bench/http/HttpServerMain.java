package dev.bobbin.bench.http;

import dev.bobbin.bench.echo.Flags;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one HTTP server of the benchmark in its own JVM, so that its CPU time can be read alone from
 * {@code /proc/<pid>/stat}.
 *
 * <pre>
 * HttpServerMain &lt;kind&gt; [--port 0] [--max-seconds S] [--stop-on-stdin-eof]
 * </pre>
 *
 * Prints {@code READY kind=<id> port=<port> pid=<pid> impl=<what serves>} once it accepts connections,
 * then serves until SIGTERM/SIGINT, the {@code --max-seconds} limit (default 900) or, with
 * {@code --stop-on-stdin-eof}, the end of standard input. A kind that cannot run here prints
 * {@code UNAVAILABLE kind=<id> reason=<why>} and exits with status 3; bad arguments exit with 2.
 */
public final class HttpServerMain {
    static final int EXIT_USAGE = 2;
    static final int EXIT_UNAVAILABLE = 3;
    private static final String USAGE = "usage: HttpServerMain <kind> [--port 0] [--max-seconds S] [--stop-on-stdin-eof]\n  kinds: "
            + HttpServerKind.ids();

    private HttpServerMain() { }

    public static void main(String[] args) throws Exception {
        HttpServerKind kind;
        int port;
        long maxSeconds;
        boolean stopOnStdinEof;
        try {
            Flags f = Flags.parse(args, Set.of("port", "max-seconds"), Set.of("stop-on-stdin-eof"));
            if (f.positional().size() != 1) throw new IllegalArgumentException("expected <kind>");
            kind = HttpServerKind.of(f.positional().getFirst());
            port = f.intValue("port", 0, 0, 65_535);
            maxSeconds = f.longValue("max-seconds", 900, 1, 86_400);
            stopOnStdinEof = f.has("stop-on-stdin-eof");
        } catch (IllegalArgumentException e) {
            System.err.println("HttpServerMain: " + e.getMessage());
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
        HttpBenchServer server = kind.start(port);
        AtomicBoolean closed = new AtomicBoolean();
        Runnable closeOnce = () -> {
            if (closed.compareAndSet(false, true)) server.close();
        };
        Runtime.getRuntime().addShutdownHook(new Thread(closeOnce, "http-server-shutdown"));
        CountDownLatch stop = new CountDownLatch(1);
        if (stopOnStdinEof) {
            Thread.ofPlatform().daemon().name("http-server-stdin").start(() -> {
                drain(System.in);
                stop.countDown();
            });
        }
        System.out.println("READY kind=" + kind.id() + " port=" + server.port() + " pid=" + ProcessHandle.current().pid()
                + " impl=" + server.implementation());
        System.out.flush();
        if (!stop.await(maxSeconds, TimeUnit.SECONDS)) {
            System.err.println("HttpServerMain: --max-seconds " + maxSeconds + " reached; stopping");
        }
        closeOnce.run();
        System.exit(0);
    }

    private static void drain(InputStream in) {
        byte[] b = new byte[256];
        try {
            while (in.read(b) >= 0) {
                // only the end of input matters
            }
        } catch (IOException e) {
            // a broken pipe ends it as well
        }
    }
}
