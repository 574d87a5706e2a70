package dev.bobbin.uring;

import dev.bobbin.FiberScheduler;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class EchoQuickTest {
    static { LeakGuard.install(); }

    @Test
    void echo() throws Exception {
        FiberIo io = FiberIo.of(IoTransport.IO_URING);
        try (FiberScheduler s = io.newScheduler("q", 2)) {
            AtomicReference<Throwable> err = new AtomicReference<>();
            FiberServerSocket server = io.openServer();
            Thread t = s.start(() -> {
                try {
                    server.bind(new InetSocketAddress("127.0.0.1", 0), 16);
                    synchronized (server) { server.notifyAll(); }
                    FiberSocket c = server.accept();
                    ByteBuffer b = ByteBuffer.allocate(100);
                    int n;
                    while ((n = c.read(b.clear())) > 0) c.write(b.flip());
                    c.close();
                } catch (Throwable e) { err.set(e); }
            });
            while (server.localAddress() == null) Thread.sleep(10);
            Thread cl = s.start(() -> {
                try (FiberSocket c = io.connect(server.localAddress(), Duration.ofSeconds(5))) {
                    for (int i = 0; i < 1000; i++) {
                        c.write(ByteBuffer.wrap(("hello" + i).getBytes()));
                        ByteBuffer r = ByteBuffer.allocate(("hello" + i).length());
                        c.readFully(r);
                        assertEquals("hello" + i, new String(r.array()));
                    }
                } catch (Throwable e) { err.set(e); }
            });
            cl.join(10_000);
            assertFalse(cl.isAlive());
            t.join(10_000);
            server.close();
            if (err.get() != null) throw new AssertionError(err.get());
            System.out.println(io.stats());
        }
        LeakGuard.assertNoLeaks();
    }
}
