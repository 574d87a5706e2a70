package app;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.concurrent.ExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;

/** An application that uses Bobbin from its Maven coordinates: a fiber, an executor, Jetty and Tomcat. */
public final class Main {
    private static final Logger TOMCAT = Logger.getLogger("org.apache");

    public static void main(String[] args) throws Exception {
        TOMCAT.setLevel(Level.WARNING);
        try (FiberScheduler scheduler = FiberScheduler.create()) {
            scheduler.start(() -> System.out.println("fiber: " + Thread.currentThread())).join();
        }
        try (ExecutorService executor = FiberExecutor.create()) {
            System.out.println("executor: " + executor.submit(() -> FiberScheduler.current().isPresent()).get());
        }
        try (FiberExecutor fibers = FiberExecutor.create(); HttpClient client = HttpClient.newHttpClient()) {
            System.out.println("jetty: " + jetty(fibers, client));
            System.out.println("tomcat: " + tomcat(fibers, client));
        }
    }

    private static String get(HttpClient client, int port) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String jetty(FiberExecutor fibers, HttpClient client) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setVirtualThreadsExecutor(fibers);
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Content.Sink.write(response, true, "on bobbin=" + FiberScheduler.current().isPresent(), callback);
                return true;
            }
        });
        server.start();
        try {
            return get(client, connector.getLocalPort());
        } finally {
            server.stop();
        }
    }

    private static String tomcat(FiberExecutor fibers, HttpClient client) throws Exception {
        var base = Files.createTempDirectory("tomcat");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.getProtocolHandler().setExecutor(fibers);
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", base.toString());
        ((StandardContext) context).setClearReferencesRmiTargets(false);
        Tomcat.addServlet(context, "hello", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.getWriter().print("on bobbin=" + FiberScheduler.current().isPresent());
            }
        }).addMapping("/");
        tomcat.start();
        try {
            return get(client, connector.getLocalPort());
        } finally {
            tomcat.stop();
            tomcat.destroy();
            try (var files = Files.walk(base)) {          // Tomcat's work directory: leave nothing behind
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
