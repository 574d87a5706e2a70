package dev.bobbin.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import dev.bobbin.FiberScheduler;
import dev.bobbin.http.BobbinHttpServer;
import dev.bobbin.http.BobbinHttpsServer;
import dev.bobbin.http.HttpServerOptions;
import dev.bobbin.uring.FiberIo;
import dev.bobbin.uring.FiberServerSocket;
import dev.bobbin.uring.FiberSocket;
import io.netty.util.internal.PlatformDependent;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory per idle connection, the figure a server holding thousands of keep-alive connections pays: a
 * server in a fresh JVM keeps N connections open and idle, and its heap after full GCs and its direct
 * memory are compared before they open and once they are idle, for each Bobbin server and the JDK server a
 * user would pick instead. The clients are JDK sockets in this JVM.
 *
 * <ul>
 *   <li>{@code bobbin-socket}: a {@link FiberSocket} per connection, its fiber parked in a read (the
 *       runtime's transport: io_uring where it works); {@code jdk-socket}: a {@code java.net.Socket} per
 *       connection read by a JDK virtual thread.</li>
 *   <li>{@code bobbin-http} and {@code bobbin-https}: Bobbin's HTTP server after one request on each
 *       connection; {@code jdk-http} and {@code jdk-https}: the JDK's provider with a virtual thread per
 *       exchange, its idle-connection cap ({@code sun.net.httpserver.maxIdleConnections}, 200 by
 *       default, past which it closes idle connections) raised above N and its idle timeout
 *       ({@code sun.net.httpserver.idleInterval}, 30 s) to an hour, as Bobbin's is set to 30 minutes.</li>
 * </ul>
 * Direct memory is the JDK's direct buffer pool plus what Netty allocates outside it; a pooled
 * allocator's chunks make it coarse (a few bytes per connection are chunk rounding, not a buffer held).
 *
 * <pre>
 *   ./bobbin java -cp bench/target/benchmarks.jar dev.bobbin.bench.IdleConnectionFootprint [connections] [rounds]
 * </pre>
 */
public final class IdleConnectionFootprint {
    private IdleConnectionFootprint() { }

    private static final String[] KINDS = {"bobbin-socket", "jdk-socket", "bobbin-http", "jdk-http", "bobbin-https", "jdk-https"};
    private static final String PASSWORD = "bench-only";
    private static final byte[] OK = "ok".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        String usage = "IdleConnectionFootprint [connections (default 2000, at least 100)] [rounds (default 1)]";
        MainArgs.helpIfAsked(args, usage);
        if (args.length == 3 && args[0].equals("serve")) {
            serve(args[1], Path.of(args[2]));
            return;
        }
        int n = MainArgs.intArg(args, 0, 2_000, 100, usage);
        int rounds = MainArgs.intArg(args, 1, 1, 1, usage);
        Path keyStore = Files.createTempFile("idle-footprint", ".p12");
        Files.delete(keyStore);
        try {
            makeKeyStore(keyStore);
            System.out.printf("idle connections: %,d, rounds: %d (each server in a fresh JVM)%n%n", n, rounds);
            System.out.println("| round | server | heap B/connection | direct B/connection | heap left after close, B | vs JDK (heap + direct) |");
            System.out.println("|---:|---|---:|---:|---:|---:|");
            for (int r = 1; r <= rounds; r++) {
                double jdkTotal = Double.NaN;
                double[] bobbin = null;
                for (String kind : KINDS) {
                    double[] m = measure(kind, n, keyStore);
                    String ratio = "";
                    if (kind.startsWith("bobbin")) bobbin = m;
                    else {
                        jdkTotal = m[0] + m[1];
                        ratio = String.format("%.2fx", (bobbin[0] + bobbin[1]) / jdkTotal);
                    }
                    System.out.printf("| %d | %s | %,.0f | %,.0f | %,.0f | %s |%n", r, kind, m[0], m[1], m[2], ratio);
                }
            }
        } finally {
            Files.deleteIfExists(keyStore);
        }
    }

    // ---- the driver: runs each server in a fresh JVM and opens its connections ----

    /** {heap, direct bytes per idle connection, heap bytes left after all closed} of {@code kind}. */
    private static double[] measure(String kind, int n, Path keyStore) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xms1g", "-Xmx1g", "-XX:+UseParallelGC",
                "-Dsun.net.httpserver.maxIdleConnections=" + (n * 2), "-Dsun.net.httpserver.idleInterval=3600",
                "-cp", System.getProperty("java.class.path"),
                IdleConnectionFootprint.class.getName(), "serve", kind, keyStore.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Socket> clients = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintStream in = new PrintStream(p.getOutputStream(), true, StandardCharsets.UTF_8)) {
            int port = Integer.parseInt(expect(out, "PORT"));
            SSLContext tls = kind.endsWith("https") ? trustAll() : null;
            // warm-up: the same connections, closed again, so that the server's code is compiled and its
            // allocator has its chunks before the baseline
            for (int round = 0; round < 3; round++) {
                List<Socket> warm = open(kind, port, tls, Math.max(100, n / 5));
                awaitSettled(in, out, warm.size());
                for (Socket s : warm) s.close();
                awaitSettled(in, out, 0);
            }
            long[] before = read(in, out);
            clients.addAll(open(kind, port, tls, n));
            awaitSettled(in, out, n);
            long[] idle = read(in, out);
            for (Socket s : clients) s.close();
            clients.clear();
            awaitSettled(in, out, 0);
            long[] after = read(in, out);
            return new double[] {(double) (idle[0] - before[0]) / n, (double) (idle[1] - before[1]) / n, after[0] - before[0]};
        } finally {
            for (Socket s : clients) s.close();
            p.destroy();
            p.waitFor();
        }
    }

    /** Opens {@code count} connections; over HTTP each sends one request and reads its response. */
    private static List<Socket> open(String kind, int port, SSLContext tls, int count) throws IOException {
        List<Socket> sockets = new ArrayList<>(count);
        byte[] request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < count; i++) {
            Socket s = tls != null
                    ? tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)
                    : new Socket(InetAddress.getLoopbackAddress(), port);
            sockets.add(s);
            if (!kind.contains("http")) continue;
            s.setSoTimeout(30_000);
            if (s instanceof SSLSocket ssl) ssl.startHandshake();
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            readResponse(s.getInputStream());
        }
        return sockets;
    }

    /** Reads one response to its body "ok". */
    private static void readResponse(InputStream in) throws IOException {
        int matched = 0;
        String end = "\r\n\r\nok";
        while (matched < end.length()) {
            int b = in.read();
            if (b < 0) throw new IOException("the server closed the connection before its response");
            matched = b == end.charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
    }

    /**
     * Waits until the server's count of open connections (socket kinds: fibers in a read; HTTP kinds: its
     * sockets) is at least {@code atLeast} and has stopped changing: connections it has yet to accept, or
     * closes it has yet to see, are not measured.
     */
    private static void awaitSettled(PrintStream in, BufferedReader out, int atLeast) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int last = -1, same = 0;
        for (;;) {
            in.println("count");
            int open = Integer.parseInt(expect(out, "COUNT"));
            same = open == last ? same + 1 : 0;
            last = open;
            if (open >= atLeast && same >= 5) return;
            if (System.nanoTime() > deadline) throw new IllegalStateException(open + " connections open, waiting for " + atLeast);
            Thread.sleep(50);
        }
    }

    /** {heap after full GCs, direct} of the server. */
    private static long[] read(PrintStream in, BufferedReader out) throws IOException {
        in.println("measure");
        String[] f = expect(out, "MEM").split(" ");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
    }

    private static String expect(BufferedReader out, String tag) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith(tag + " ")) return line.substring(tag.length() + 1);
        }
        throw new IOException("the server JVM ended before it printed " + tag);
    }

    private static void makeKeyStore(Path file) throws Exception {
        Path keytool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "bench", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", file.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD)
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("keytool failed: " + log);
    }

    /** A client context that trusts any certificate: the bench's own, on the loopback. */
    private static SSLContext trustAll() throws Exception {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new X509TrustManager() {
            @Override public void checkClientTrusted(X509Certificate[] chain, String authType) { }
            @Override public void checkServerTrusted(X509Certificate[] chain, String authType) { }
            @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }}, null);
        return c;
    }

    // ---- the server JVM ----

    /** Serves {@code kind}, prints its port, then answers "count" and "measure" on its standard input. */
    private static void serve(String kind, Path keyStore) throws Exception {
        AtomicInteger open = new AtomicInteger();        // socket kinds: connections whose fiber waits in a read
        boolean http = kind.contains("http");            // HTTP kinds: connections counted as this JVM's sockets
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        int port;
        switch (kind) {
            case "bobbin-socket" -> {
                FiberIo io = FiberIo.system();
                FiberScheduler s = io.newScheduler("idle", Runtime.getRuntime().availableProcessors());
                FiberServerSocket server = io.openServer();
                s.start(() -> {
                    try {
                        server.bind(any, 4096);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).join();
                port = server.localAddress().getPort();
                s.start(() -> {
                    for (;;) {
                        FiberSocket c;
                        try {
                            c = server.accept();
                        } catch (IOException e) {
                            return;
                        }
                        s.start(() -> idleUntilClosed(c::read, c, open));
                    }
                });
            }
            case "jdk-socket" -> {
                ServerSocket server = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
                port = server.getLocalPort();
                Thread.ofVirtual().start(() -> {
                    for (;;) {
                        Socket c;
                        try {
                            c = server.accept();
                        } catch (IOException e) {
                            return;
                        }
                        Thread.ofVirtual().start(() -> {
                            try {
                                InputStream in = c.getInputStream();
                                idleUntilClosed(b -> in.read(b.array(), 0, 1), c, open);
                            } catch (IOException e) {
                                // the connection failed: it counts as closed
                            }
                        });
                    }
                });
            }
            case "bobbin-http", "bobbin-https", "jdk-http", "jdk-https" -> {
                boolean tls = kind.endsWith("https");
                HttpServer server;
                if (kind.startsWith("bobbin")) {
                    HttpServerOptions o = HttpServerOptions.builder().idleTimeout(Duration.ofMinutes(30)).build();
                    server = tls ? BobbinHttpsServer.create(any, 4096, o) : BobbinHttpServer.create(any, 4096, o);
                } else {
                    String provider = HttpServerProvider.provider().getClass().getName();
                    if (!provider.equals("sun.net.httpserver.DefaultHttpServerProvider")) {
                        throw new IllegalStateException("the JVM selected HttpServerProvider " + provider);
                    }
                    server = tls ? HttpsServer.create(any, 4096) : HttpServer.create(any, 4096);
                    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
                }
                if (tls) ((HttpsServer) server).setHttpsConfigurator(new HttpsConfigurator(serverTls(keyStore)));
                HttpHandler ok = IdleConnectionFootprint::answer;
                server.createContext("/", ok);
                server.start();
                port = server.getAddress().getPort();
            }
            default -> throw new IllegalArgumentException("unknown kind " + kind + "; kinds: " + String.join(", ", KINDS));
        }
        System.out.println("PORT " + port);
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = commands.readLine()) != null; ) {
            switch (line) {
                case "count" -> System.out.println("COUNT " + (http ? sockets() : open.get()));
                case "measure" -> System.out.println("MEM " + usedHeapAfterGc() + " " + directMemory());
                default -> System.out.println("ERROR unknown command " + line);
            }
        }
        System.exit(0);
    }

    private interface Read { int read(ByteBuffer b) throws IOException; }

    /** Counts the connection open while a one-byte read waits for the client to close it. */
    private static void idleUntilClosed(Read read, AutoCloseable c, AtomicInteger open) {
        open.incrementAndGet();
        try (c) {
            ByteBuffer b = ByteBuffer.allocate(1);
            while (read.read(b.clear()) > 0) {
                // idle connections send nothing
            }
        } catch (Exception e) {
            // a reset: closed all the same
        } finally {
            open.decrementAndGet();
        }
    }

    private static void answer(HttpExchange x) throws IOException {
        x.getRequestBody().transferTo(OutputStream.nullOutputStream());
        x.sendResponseHeaders(200, OK.length);
        x.getResponseBody().write(OK);
        x.close();
    }

    /** The sockets this JVM holds (its connections and its listener): an HTTP server's connections are not ours to count. */
    private static int sockets() throws IOException {
        int sockets = 0;
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) sockets++;
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return sockets;
    }

    private static SSLContext serverTls(Path keyStore) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream f = Files.newInputStream(keyStore)) {
            ks.load(f, PASSWORD.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD.toCharArray());
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf.getKeyManagers(), null, null);
        return c;
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static long directMemory() {
        long direct = 0;
        for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (p.getName().equals("direct")) direct += p.getMemoryUsed();
        }
        return direct + Math.max(0, PlatformDependent.usedDirectMemory());   // Netty's own, outside the pool
    }
}
