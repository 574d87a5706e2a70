package dev.bobbin.integration;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Jetty 12 with Bobbin as its virtual-thread executor: blocking handlers run on Bobbin fibers. The
 * recipe is the two lines marked below.
 */
class JettyOnBobbinTest {

    @Test
    void blockingHandlersRunOnBobbinFibers() throws Exception {
        try (FiberExecutor fibers = FiberExecutor.create()) {
            QueuedThreadPool threads = new QueuedThreadPool();
            threads.setVirtualThreadsExecutor(fibers);           // recipe: Jetty's blocking work on Bobbin
            Server server = new Server(threads);
            ServerConnector connector = new ServerConnector(server);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            server.setHandler(new Handler.Abstract() {            // a blocking handler (the default type)
                @Override
                public boolean handle(Request request, Response response, Callback callback) throws Exception {
                    Thread.sleep(5);                               // blocks: parks the fiber, not a Jetty thread
                    String body = "bobbin=" + FiberScheduler.current().isPresent()
                            + " virtual=" + Thread.currentThread().isVirtual();
                    response.setStatus(200);
                    Content.Sink.write(response, true, body, callback);
                    return true;
                }
            });
            server.start();
            try {
                int port = connector.getLocalPort();
                for (HttpResponse<String> r : Http.getConcurrently(port, "/hello", 50)) {
                    assertEquals(200, r.statusCode());
                    assertEquals("bobbin=true virtual=true", r.body(), "the handler ran on a Bobbin fiber");
                }
            } finally {
                server.stop();
            }
        }
    }
}
