package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A started server keeps the JVM alive until it is stopped, as the JDK's provider does (its dispatcher
 * thread is not a daemon when the starting thread is not): a {@code main} that starts a server and returns
 * goes on serving, although the scheduler's carriers are daemon threads.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServerKeepsJvmAliveTest {

    /** The child JVM: starts a server with a {@code /stop} context that stops it, prints its port, and returns. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            HttpServer s = args[0].equals("jdk")
                    ? ((HttpServerProvider) Class.forName(HttpServerConformanceTest.JDK_PROVIDER).getConstructor().newInstance()).createHttpServer(any, 0)
                    : HttpServer.create(any, 0);
            s.createContext("/stop", x -> {
                x.sendResponseHeaders(200, 2);
                try (OutputStream o = x.getResponseBody()) {
                    o.write("ok".getBytes(StandardCharsets.ISO_8859_1));
                }
                s.stop(0);
            });
            s.start();
            System.out.println("port " + s.getAddress().getPort() + " " + s.getClass().getSimpleName());
        }
    }

    @Test
    void aStartedServerKeepsTheJvmAliveUntilStoppedAsTheJdksDoes() throws Exception {
        for (String provider : List.of("jdk", "bobbin")) {
            String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
            Process p = new ProcessBuilder(java, "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                    "--add-exports", "jdk.httpserver/sun.net.httpserver=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), Child.class.getName(), provider)
                    .redirectErrorStream(true).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = out.readLine()) != null && !line.startsWith("port ")) { }
                assertNotNull(line, provider + ": the child printed no port");
                assertTrue(line.endsWith(provider.equals("jdk") ? "HttpServerImpl" : "BobbinHttpServer"), line);
                String answer;
                try (Socket c = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(line.split(" ")[1]))) {
                    c.getOutputStream().write("GET /stop HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                } catch (java.io.IOException e) {
                    answer = e.toString();
                }
                assertTrue(answer.startsWith("HTTP/1.1 200"), provider + ": the server of a main that returned answers: " + answer);
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), provider + ": the JVM exits once the server is stopped");
                assertEquals(0, p.exitValue(), provider);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
