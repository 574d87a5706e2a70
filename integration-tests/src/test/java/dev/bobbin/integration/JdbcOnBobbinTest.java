package dev.bobbin.integration;

import dev.bobbin.CapturedLogs;
import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A real JDBC driver over real sockets from fibers: H2's client ({@code jdbc:h2:tcp://...}) talking to H2's
 * TCP server (its own platform threads) on loopback. Every case runs on the JDK's
 * {@code newVirtualThreadPerTaskExecutor()} (the control), on {@link FiberExecutor#create()}, on a
 * {@link FiberExecutor} over the class's shared scheduler and on one over a one-carrier {@link FiberScheduler},
 * and expects the same: the driver's socket reads park the fiber and wait through the JDK's poller.
 *
 * <p>The shared scheduler (default configuration) is created before the H2 server starts and before any fiber
 * or virtual thread touches a socket, so when this class is the first in its JVM to use sockets (as when it
 * runs alone) it is the first Bobbin scheduler and hosts the JDK's sub-pollers on its carriers for the whole
 * class: the "bobbin-shared" fibers are then woken by sub-pollers on their own carriers, and every other
 * variant's (the control's included) by sub-pollers on the shared scheduler's carriers.
 *
 * <p>Each case has an in-memory database of its own, held open by a monitor connection on the test thread,
 * which also watches the server's sessions ({@code INFORMATION_SCHEMA.SESSIONS}): that a fiber's statement is
 * executing or waiting for a row lock before the case acts on it, and that every fiber's session is gone at
 * the end. Statements that must run long either wait for a row lock held by another connection (no CPU) or,
 * where only H2's cancellation ends them, sum an unbounded {@code SYSTEM_RANGE}.
 *
 * <p>Behaviour that belongs to H2 and is the same on the control, named so nobody mistakes it for Bobbin's:
 * {@code Statement.cancel()} and a query timeout do not end a row-lock wait (so those cases use the long
 * sum), and an interrupted fiber abandons its connection but not its statement, which the server still
 * runs and commits once the lock is free (so interrupts here hit lock waits: an abandoned endless sum would
 * run on in the server).
 */
@ParameterizedClass(name = "{0}")
@MethodSource("executors")
@Timeout(value = 60, unit = SECONDS)
class JdbcOnBobbinTest {
    /** A statement H2 runs until cancelled, checking for cancellation as it goes. */
    static final String ENDLESS = "SELECT SUM(X * 2) FROM SYSTEM_RANGE(1, 9000000000000000)";

    /** H2's SQLState (and error code) for a statement cancelled or timed out: a {@link SQLTimeoutException}. */
    static final int CANCELLED = 57014;

    /**
     * How many fibers connect at once. H2's server listens with the JDK's default backlog (50) and accepts on one
     * thread; a burst of more connects than that overflows the accept queue, the kernel drops SYNs and the
     * clients retransmit them a second later, and one dropped twice outlives H2's 2 s connect timeout
     * ({@code h2.socketConnectTimeout}) on the control as well as on Bobbin. Connecting through this gate keeps
     * the queue short; once connected, the fibers run their transactions concurrently.
     */
    static final int CONNECTING_AT_ONCE = 25;

    /** H2's SQLState (and error code) for a broken connection: a {@link SQLNonTransientConnectionException}. */
    static final int CONNECTION_BROKEN = 90067;

    record Fibers(String name, boolean bobbin, Supplier<Runner> factory) {
        @Override public String toString() { return name; }
    }

    /** An executor under test and what closing it must also close. */
    record Runner(ExecutorService executor, FiberScheduler scheduler) implements AutoCloseable {
        @Override public void close() {
            executor.close();
            if (scheduler != null) scheduler.close();
        }
    }

    static List<Fibers> executors() {
        return List.of(
                new Fibers("jdk", false, () -> new Runner(Executors.newVirtualThreadPerTaskExecutor(), null)),
                new Fibers("bobbin", true, () -> new Runner(FiberExecutor.create(), null)),
                new Fibers("bobbin-shared", true, () -> new Runner(FiberExecutor.create(shared), null)),
                new Fibers("bobbin-1-carrier", true, () -> {
                    FiberScheduler one = FiberScheduler.create(SchedulerConfig.builder().name("jdbc-one").parallelism(1).build());
                    return new Runner(FiberExecutor.create(one), one);
                }));
    }

    private static FiberScheduler shared;
    private static Server server;
    private static final AtomicInteger databases = new AtomicInteger();

    private final Fibers fibers;
    private CapturedLogs logs;
    private String url;
    private Connection monitor;

    JdbcOnBobbinTest(Fibers fibers) {
        this.fibers = fibers;
    }

    @BeforeAll
    static void startServer() throws SQLException {
        shared = FiberScheduler.create();   // first: see the class comment
        // -ifNotExists: clients create their in-memory databases remotely; the server listens on loopback only
        server = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
    }

    @AfterAll
    static void stopServer() {
        try {
            server.stop();
        } finally {
            shared.close();
        }
    }

    @BeforeEach
    void openDatabase() throws SQLException {
        logs = new CapturedLogs("dev.bobbin");
        // LOCK_TIMEOUT: a lock wait outlives every case (the class's @Timeout is the hang guard);
        // TRACE_LEVEL_SYSTEM_OUT=0: H2 prints nothing
        url = "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + "/mem:jdbc" + databases.incrementAndGet()
                + ";LOCK_TIMEOUT=120000;TRACE_LEVEL_SYSTEM_OUT=0";
        monitor = connect();
        try (Statement s = monitor.createStatement()) {
            s.execute("CREATE TABLE account(id INT PRIMARY KEY, owner INT NOT NULL, balance BIGINT NOT NULL)");
            s.execute("CREATE TABLE counter(id INT PRIMARY KEY, n INT NOT NULL)");
            s.execute("INSERT INTO counter VALUES (1, 0)");
        }
    }

    @AfterEach
    void closeDatabase() throws SQLException {
        try {
            monitor.close();   // the last connection: the in-memory database goes with it
        } finally {
            logs.close();
        }
        assertEquals(List.of(), logs.warnings().stream().map(CapturedLogs::describe).toList(), "Bobbin logged nothing at WARNING or above");
    }

    @Test
    void concurrentFibersEachWithItsOwnConnection() throws Exception {
        int n = 200;
        List<Future<String>> results = new ArrayList<>();
        Semaphore connecting = new Semaphore(CONNECTING_AT_ONCE);
        try (Runner runner = fibers.factory().get()) {
            for (int i = 0; i < n; i++) {
                int owner = i;
                results.add(runner.executor().submit(() -> {
                    assertEquals(fibers.bobbin(), FiberScheduler.current().isPresent(), "runs on a Bobbin fiber");
                    connecting.acquire();
                    Connection opened;
                    try {
                        opened = connect();
                    } finally {
                        connecting.release();
                    }
                    try (Connection c = opened) {
                        c.setAutoCommit(false);
                        try (PreparedStatement insert = c.prepareStatement("INSERT INTO account VALUES (?, ?, ?)")) {
                            for (int k = 0; k < 5; k++) {
                                insert.setInt(1, owner * 10 + k);
                                insert.setInt(2, owner);
                                insert.setLong(3, owner * 100L + k);
                                insert.addBatch();
                            }
                            insert.executeBatch();
                        }
                        c.commit();
                        try (Statement s = c.createStatement()) {   // a transaction rolled back leaves nothing
                            s.executeUpdate("INSERT INTO account VALUES (" + (owner * 10 + 9) + ", " + owner + ", 1)");
                            s.executeUpdate("UPDATE account SET balance = 0 WHERE owner = " + owner);
                            c.rollback();
                            s.executeUpdate("UPDATE account SET balance = balance + 1 WHERE id = " + (owner * 10));
                            s.executeUpdate("UPDATE counter SET n = n + 1 WHERE id = 1");   // contended row: waits in turn
                            c.commit();
                        }
                        try (PreparedStatement q = c.prepareStatement(
                                "SELECT COUNT(*), SUM(balance) FROM account WHERE owner = ?")) {
                            q.setInt(1, owner);
                            try (ResultSet rs = q.executeQuery()) {
                                assertTrue(rs.next());
                                return rs.getInt(1) + " " + rs.getLong(2);
                            }
                        }
                    }
                }));
            }
            for (int i = 0; i < n; i++) {
                assertEquals("5 " + (5 * i * 100L + 10 + 1), results.get(i).get(30, SECONDS), "owner " + i);
            }
        }
        try (Statement s = monitor.createStatement();
             ResultSet rows = s.executeQuery("SELECT COUNT(*), SUM(balance) FROM account")) {
            assertTrue(rows.next());
            assertEquals(5 * n, rows.getInt(1));
            assertEquals(500L * n * (n - 1) / 2 + 11L * n, rows.getLong(2));
        }
        assertEquals(n, counter(), "every fiber's increment of the contended row committed");
        awaitSessions(1);   // only the monitor's
    }

    @Test
    void statementCancelledFromAnotherFiber() throws Exception {
        try (Runner runner = fibers.factory().get()) {
            CompletableFuture<Statement> statement = new CompletableFuture<>();
            CompletableFuture<Integer> session = new CompletableFuture<>();
            Future<String> query = runner.executor().submit(() -> {
                assertEquals(fibers.bobbin(), FiberScheduler.current().isPresent(), "runs on a Bobbin fiber");
                try (Connection c = connect(); Statement s = c.createStatement()) {
                    session.complete(sessionId(c));
                    statement.complete(s);
                    SQLException e = assertThrows(SQLException.class, () -> s.executeQuery(ENDLESS));
                    String outcome = describe(e);
                    return outcome + afterwards(c);
                }
            });
            awaitExecuting(session.get(30, SECONDS));
            runner.executor().submit(() -> {
                statement.join().cancel();
                return null;
            }).get(30, SECONDS);
            assertEquals("SQLTimeoutException " + CANCELLED + " interrupted=false; open, valid, usable",
                    query.get(30, SECONDS));
        }
        awaitSessions(1);
    }

    @Test
    void queryTimeout() throws Exception {
        try (Runner runner = fibers.factory().get()) {
            Future<String> query = runner.executor().submit(() -> {
                try (Connection c = connect(); Statement s = c.createStatement()) {
                    s.setQueryTimeout(1);
                    SQLException e = assertThrows(SQLException.class, () -> s.executeQuery(ENDLESS));
                    return describe(e) + afterwards(c);
                }
            });
            assertEquals("SQLTimeoutException " + CANCELLED + " interrupted=false; open, valid, usable",
                    query.get(30, SECONDS));
        }
        awaitSessions(1);
    }

    @Test
    void interruptedWhileWaitingForARowLock() throws Exception {
        try (Runner runner = fibers.factory().get(); Connection holder = connect()) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.executeUpdate("UPDATE counter SET n = n + 1 WHERE id = 1");
            }
            CompletableFuture<String> seen = new CompletableFuture<>();
            Future<?> update = runner.executor().submit(() -> {
                Connection c = connect();
                try (Statement s = c.createStatement()) {
                    SQLException e = assertThrows(SQLException.class,
                            () -> s.executeUpdate("UPDATE counter SET n = n + 10 WHERE id = 1"));
                    seen.complete(describe(e) + afterwards(c));
                } catch (Throwable t) {
                    seen.completeExceptionally(t);
                } finally {
                    c.close();
                }
                return null;
            });
            awaitBlockedBy(sessionId(holder), 1);
            assertTrue(update.cancel(true));
            assertEquals("SQLNonTransientConnectionException " + CONNECTION_BROKEN + " interrupted=true; closed",
                    seen.get(30, SECONDS));
            holder.rollback();
            awaitSessions(2);   // the monitor's and the holder's: the server closed the fiber's once its statement ended
        }
        assertEquals(10, counter(), "H2 ran and committed the abandoned statement once the lock was free");
    }

    @Test
    void shutdownNowWhileFibersWaitInJdbcCalls() throws Exception {
        int n = 20;
        Runner runner = fibers.factory().get();
        try (Connection holder = connect()) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.executeUpdate("UPDATE counter SET n = n + 1 WHERE id = 1");
            }
            List<CompletableFuture<String>> seen = new ArrayList<>();
            List<Connection> connections = new CopyOnWriteArrayList<>();
            for (int i = 0; i < n; i++) {
                CompletableFuture<String> outcome = new CompletableFuture<>();
                seen.add(outcome);
                runner.executor().execute(() -> {
                    try (Connection c = connect(); Statement s = c.createStatement()) {
                        connections.add(c);
                        SQLException e = assertThrows(SQLException.class,
                                () -> s.executeUpdate("UPDATE counter SET n = n + 1 WHERE id = 1"));
                        outcome.complete(describe(e));
                    } catch (Throwable t) {
                        outcome.completeExceptionally(t);
                    }
                });
            }
            awaitBlockedBy(sessionId(holder), n);
            assertEquals(List.of(), runner.executor().shutdownNow(), "no task was waiting to start");
            assertTrue(runner.executor().awaitTermination(30, SECONDS), "every fiber ended while the lock was held");
            for (CompletableFuture<String> outcome : seen) {
                assertEquals("SQLNonTransientConnectionException " + CONNECTION_BROKEN + " interrupted=true",
                        outcome.getNow("not ended"));
            }
            assertEquals(n, connections.size());
            for (Connection c : connections) assertTrue(c.isClosed(), "the fiber's connection is closed");
            holder.rollback();
            awaitSessions(2);   // no fiber's session outlives its abandoned statement
        } finally {
            runner.close();
        }
        assertEquals(n, counter(), "H2 ran and committed every abandoned statement once the lock was free");
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url, "sa", "");
    }

    private static int sessionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT SESSION_ID()")) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    /** The exception's JDBC type (the JDK's SQLException subclass H2's extends), its SQLState and interrupt status. */
    private static String describe(SQLException e) {
        Class<?> type = e.getClass();
        while (!type.getPackageName().equals("java.sql")) type = type.getSuperclass();
        assertEquals(e.getSQLState(), Integer.toString(e.getErrorCode()), "H2's error code is its SQLState");
        return type.getSimpleName() + " " + e.getSQLState() + " interrupted=" + Thread.currentThread().isInterrupted();
    }

    /** The connection's state after a failed statement: closed, or open and whether it still answers. */
    private static String afterwards(Connection c) throws SQLException {
        if (c.isClosed()) return "; closed";
        String state = "; open, " + (c.isValid(10) ? "valid" : "invalid");
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            return state + (rs.next() && rs.getInt(1) == 1 ? ", usable" : ", wrong answer");
        }
    }

    private int counter() throws SQLException {
        try (Statement s = monitor.createStatement(); ResultSet rs = s.executeQuery("SELECT n FROM counter")) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    private int count(String sql) throws SQLException {
        try (Statement s = monitor.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    /** Waits until the database has exactly {@code n} sessions, the monitor's included (hang guard: @Timeout). */
    private void awaitSessions(int n) throws SQLException, InterruptedException {
        while (count("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS") != n) Thread.sleep(5);
    }

    /** Waits until session {@code id} runs a statement (hang guard: @Timeout). */
    private void awaitExecuting(int id) throws SQLException, InterruptedException {
        while (count("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID = " + id
                + " AND EXECUTING_STATEMENT IS NOT NULL") != 1) Thread.sleep(5);
    }

    /** Waits until {@code n} sessions wait for a lock held by session {@code holder} (hang guard: @Timeout). */
    private void awaitBlockedBy(int holder, int n) throws SQLException, InterruptedException {
        while (count("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE BLOCKER_ID = " + holder) != n) {
            Thread.sleep(5);
        }
    }
}
