package dev.bobbin.http;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client side of {@link TenThousandConnectionsTest}, run in its own JVM (both ends in one process
 * would need twice the descriptors): opens N keep-alive connections with one virtual thread each, sends
 * one GET on each, waits until all N have their answer and are still open, prints {@code FIRST N}, waits
 * for a line on its standard input (the test counts the server's open connections meanwhile: no client
 * has closed yet), then sends a second GET on each and closes. Prints {@code OK N} on success, the first
 * failure otherwise.
 * Arguments: host port N.
 */
public final class ManyKeepAliveClients {
    private ManyKeepAliveClients() { }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        CountDownLatch firstDone = new CountDownLatch(n);
        CountDownLatch secondGo = new CountDownLatch(1);
        AtomicInteger ok = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int id = i;
            threads.add(Thread.ofVirtual().start(() -> {
                boolean counted = false;
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 60_000);
                    s.setSoTimeout(60_000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    exchange(in, out, id);
                    firstDone.countDown();
                    counted = true;
                    secondGo.await();
                    exchange(in, out, id);
                    ok.incrementAndGet();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (!counted) firstDone.countDown();
                }
            }));
        }
        firstDone.await();
        System.out.println("FIRST " + n);
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();   // the test's go-ahead
        secondGo.countDown();
        for (Thread t : threads) t.join();
        if (failure.get() != null) {
            System.out.println("FAILED " + failure.get());
            System.exit(1);
        }
        System.out.println("OK " + ok.get());
    }

    private static void exchange(InputStream in, OutputStream out, int id) throws Exception {
        out.write(("GET /c/" + id + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        // the response: a head ending in an empty line, then Content-length bytes
        StringBuilder head = new StringBuilder();
        int c;
        while (!head.toString().endsWith("\r\n\r\n")) {
            if ((c = in.read()) < 0) throw new java.io.EOFException("connection " + id + " closed in the head");
            head.append((char) c);
        }
        String h = head.toString().toLowerCase(java.util.Locale.ROOT);
        if (!h.startsWith("http/1.1 200")) throw new IllegalStateException("connection " + id + ": " + h);
        int at = h.indexOf("content-length: ") + "content-length: ".length();
        int length = Integer.parseInt(h.substring(at, h.indexOf("\r\n", at)).trim());
        byte[] body = in.readNBytes(length);
        String expected = "/c/" + id;
        if (!new String(body, StandardCharsets.ISO_8859_1).equals(expected)) throw new IllegalStateException("connection " + id + " got the wrong body");
    }
}
