package dev.bobbin.integration;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Embedded Tomcat 11 with Bobbin as its connector's executor: every request is processed on a Bobbin
 * fiber. The recipe is the line marked below.
 */
class TomcatOnBobbinTest {
    private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");   // kept: quiet start-up INFO lines

    @Test
    void servletsRunOnBobbinFibers(@TempDir Path base) throws Exception {   // Tomcat's work directory, removed afterwards
        TOMCAT_LOG.setLevel(Level.WARNING);
        try (FiberExecutor fibers = FiberExecutor.create()) {
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(base.toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            connector.getProtocolHandler().setExecutor(fibers);   // recipe: request processing on Bobbin
            tomcat.setConnector(connector);
            Context context = tomcat.addContext("", base.toString());
            ((StandardContext) context).setClearReferencesRmiTargets(false); // no RMI here; its check wants a JVM flag
            Tomcat.addServlet(context, "probe", new HttpServlet() {
                @Override
                protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                    try {
                        Thread.sleep(5);                           // a blocking call in the servlet
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    resp.setContentType("text/plain");
                    resp.getWriter().print("bobbin=" + FiberScheduler.current().isPresent()
                            + " virtual=" + Thread.currentThread().isVirtual());
                }
            }).addMapping("/");
            tomcat.start();
            try {
                int port = connector.getLocalPort();
                for (HttpResponse<String> r : Http.getConcurrently(port, "/hello", 50)) {
                    assertEquals(200, r.statusCode());
                    assertEquals("bobbin=true virtual=true", r.body(), "the servlet ran on a Bobbin fiber");
                }
            } finally {
                tomcat.stop();
                tomcat.destroy();
            }
        }
    }
}
