package dev.bobbin.integration;

import dev.bobbin.CapturedLogs;
import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.AbstractBlockingStub;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * gRPC-java (Netty, shaded inside {@code grpc-netty-shaded}) with its call handlers and its blocking stubs on
 * fibers, over real sockets on loopback. The recipe is {@code NettyServerBuilder...executor(fiberExecutor)}: every
 * handler runs on a fiber of that executor, so it may block. Clients call blocking stubs from the fibers of a
 * second executor, which is the channel's {@code executor(...)} too: an asynchronous call's callbacks run on its
 * fibers (a blocking stub waits on the calling fiber and runs its call's callbacks there). Every case runs with both executors from {@link FiberExecutor#create()} and,
 * as the control, both from the JDK's {@code newVirtualThreadPerTaskExecutor()}, and expects the same; a third
 * variant puts both Bobbin executors on one one-carrier scheduler.
 *
 * <p>The service is defined without generated code: {@link MethodDescriptor}s with a UTF-8 string marshaller
 * and a stub written the way generated blocking stubs are.
 *
 * <p>Behaviour that belongs to gRPC and is the same on the control, named so nobody mistakes it for Bobbin's:
 * gRPC never interrupts a handler (a cancelled call cancels the handler's {@link Context}; a handler blocked
 * in something else stays blocked until its executor is shut down); a blocking stub's calling thread
 * interrupted cancels the call and comes back with {@code CANCELLED} and its interrupt status set; and when a
 * client deadline expires the server cancels the handler's context either through its own copy of the
 * deadline or through the client's {@code RST_STREAM}, whichever comes first, so the context's status is
 * {@code DEADLINE_EXCEEDED} or {@code CANCELLED}.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("executors")
@Timeout(value = 60, unit = SECONDS)
class GrpcOnBobbinTest {

    /** How a case makes its two executors: from nothing, or on the case's one-carrier scheduler ({@code oneCarrier}). */
    record Fibers(String name, boolean bobbin, Function<FiberScheduler, ExecutorService> factory, boolean oneCarrier) {
        @Override public String toString() { return name; }
    }

    static List<Fibers> executors() {
        return List.of(
                new Fibers("jdk", false, one -> Executors.newVirtualThreadPerTaskExecutor(), false),
                new Fibers("bobbin", true, one -> FiberExecutor.create(), false),
                // handlers, clients and their blocking stubs' waits all on one carrier
                new Fibers("bobbin-1-carrier", true, FiberExecutor::create, true));
    }

    static final String SERVICE = "bobbin.Echo";

    /** A UTF-8 string as the whole message: no protobuf. */
    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(UTF_8));
        }

        @Override public String parse(InputStream stream) {
            try (stream) {
                return new String(stream.readAllBytes(), UTF_8);
            } catch (IOException e) {
                throw Status.INTERNAL.withCause(e).asRuntimeException();
            }
        }
    };

    /** Answers the request with where it ran: {@code echo:<request> bobbin=<on a Bobbin fiber>}. */
    static final MethodDescriptor<String, String> ECHO = method(MethodType.UNARY, "Echo");
    /** Answers {@code <n> <padding>} with the messages {@code 0} to {@code n - 1}, each followed by that many dashes. */
    static final MethodDescriptor<String, String> COUNT = method(MethodType.SERVER_STREAMING, "Count");
    /**
     * Never answers: blocks until its context is cancelled ({@code until-cancelled:<id>}) or for ever
     * ({@code forever:<id>}), and reports what it saw through {@link #blocked}.
     */
    static final MethodDescriptor<String, String> BLOCK = method(MethodType.UNARY, "Block");

    static MethodDescriptor<String, String> method(MethodType type, String name) {
        return MethodDescriptor.newBuilder(UTF8, UTF8).setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name)).build();
    }

    /** A blocking stub as the gRPC code generator writes one. */
    static final class EchoBlockingStub extends AbstractBlockingStub<EchoBlockingStub> {
        EchoBlockingStub(Channel channel, CallOptions options) { super(channel, options); }

        @Override protected EchoBlockingStub build(Channel channel, CallOptions options) {
            return new EchoBlockingStub(channel, options);
        }

        String echo(String request) {
            return ClientCalls.blockingUnaryCall(getChannel(), ECHO, getCallOptions(), request);
        }

        Iterator<String> count(String request) {
            return ClientCalls.blockingServerStreamingCall(getChannel(), COUNT, getCallOptions(), request);
        }

        String block(String request) {
            return ClientCalls.blockingUnaryCall(getChannel(), BLOCK, getCallOptions(), request);
        }
    }

    /** A {@link #BLOCK} handler that has started: where it runs, once it ends what it saw, and when gRPC cancelled its context. */
    record Blocked(String request, boolean onBobbin, CompletableFuture<String> outcome, CountDownLatch contextCancelled) { }

    private final Fibers fibers;
    private CapturedLogs logs;
    private final BlockingQueue<Blocked> blocked = new LinkedBlockingQueue<>();
    private final CountDownLatch never = new CountDownLatch(1);
    private FiberScheduler one;
    private ExecutorService handlers;
    private ExecutorService clients;
    private Server server;
    private ManagedChannel channel;
    private EchoBlockingStub stub;

    GrpcOnBobbinTest(Fibers fibers) {
        this.fibers = fibers;
    }

    @BeforeEach
    void start() throws IOException {
        // gRPC (and its shaded Netty) log through java.util.logging: captured, never printed, checked after each case
        logs = new CapturedLogs("io.grpc", "dev.bobbin");
        if (fibers.oneCarrier()) one = FiberScheduler.create(SchedulerConfig.builder().name("grpc-one").parallelism(1).build());
        handlers = fibers.factory().apply(one);
        clients = fibers.factory().apply(one);
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
                .addMethod(ECHO, ServerCalls.asyncUnaryCall(this::echo))
                .addMethod(COUNT, ServerCalls.asyncServerStreamingCall(this::count))
                .addMethod(BLOCK, ServerCalls.asyncUnaryCall(this::block))
                .build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .executor(handlers)                                  // recipe: gRPC's handlers on Bobbin fibers
                .addService(service)
                .build()
                .start();
        channel = NettyChannelBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getPort()))
                .usePlaintext()
                .executor(clients)                                   // recipe: the channel's callbacks on fibers
                .build();
        stub = EchoBlockingStub.newStub(EchoBlockingStub::new, channel);
    }

    @AfterEach
    void stop() throws InterruptedException {
        try {
            channel.shutdownNow();
            server.shutdownNow();
            assertTrue(channel.awaitTermination(30, SECONDS), "the channel terminated");
            assertTrue(server.awaitTermination(30, SECONDS), "the server terminated");
            never.countDown();   // a case that left a handler blocked for ever has failed already
            clients.close();
            handlers.close();
            if (one != null) one.close();
        } finally {
            logs.close();
        }
        assertEquals(List.of(), logs.warnings().stream().map(CapturedLogs::describe).toList(), "gRPC and Bobbin logged nothing at WARNING or above");
    }

    // ---- the service -------------------------------------------------------------------------------

    private void echo(String request, StreamObserver<String> response) {
        response.onNext("echo:" + request + " bobbin=" + FiberScheduler.current().isPresent());
        response.onCompleted();
    }

    private void count(String request, StreamObserver<String> response) {
        assertEquals(fibers.bobbin(), FiberScheduler.current().isPresent(), "the handler runs on a Bobbin fiber");
        String[] countAndPadding = request.split(" ");
        String padding = "-".repeat(Integer.parseInt(countAndPadding[1]));
        for (int i = 0, n = Integer.parseInt(countAndPadding[0]); i < n; i++) response.onNext(i + padding);
        response.onCompleted();
    }

    private void block(String request, StreamObserver<String> response) {
        Context context = Context.current();
        CountDownLatch cancelled = new CountDownLatch(1);
        context.addListener(c -> cancelled.countDown(), Runnable::run);
        CompletableFuture<String> outcome = new CompletableFuture<>();
        blocked.add(new Blocked(request, FiberScheduler.current().isPresent(), outcome, cancelled));
        try {
            (request.startsWith("forever:") ? never : cancelled).await();
            outcome.complete("context cancelled: " + Contexts.statusFromCancelled(context).getCode()
                    + " interrupted=" + Thread.currentThread().isInterrupted());
        } catch (InterruptedException e) {
            outcome.complete("interrupted, context cancelled=" + context.isCancelled());
        }
        // no answer: the call is gone
    }

    // ---- cases -------------------------------------------------------------------------------------

    @Test
    void unaryCallsFromConcurrentFibers() throws Exception {
        int n = 200;
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String request = "r" + i;
            answers.add(clients.submit(() -> {
                assertEquals(fibers.bobbin(), FiberScheduler.current().isPresent(), "the client runs on a Bobbin fiber");
                return stub.echo(request);
            }));
        }
        for (int i = 0; i < n; i++) {
            assertEquals("echo:r" + i + " bobbin=" + fibers.bobbin(), answers.get(i).get(30, SECONDS),
                    "the handler ran on a Bobbin fiber");
        }
    }

    @Test
    void asyncCallbacksRunOnTheChannelsExecutor() throws Exception {
        int n = 50;
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            answers.add(answer);
            ClientCalls.asyncUnaryCall(channel.newCall(ECHO, CallOptions.DEFAULT), "a" + i, new StreamObserver<>() {
                @Override public void onNext(String value) {
                    answer.complete(value + " callback bobbin=" + FiberScheduler.current().isPresent());
                }
                @Override public void onError(Throwable t) { answer.completeExceptionally(t); }
                @Override public void onCompleted() { }
            });
        }
        for (int i = 0; i < n; i++) {
            assertEquals("echo:a" + i + " bobbin=" + fibers.bobbin() + " callback bobbin=" + fibers.bobbin(),
                    answers.get(i).get(30, SECONDS), "the handler and the client's callback ran on Bobbin fibers");
        }
    }

    @Test
    void serverStreaming() throws Exception {
        // 4 MiB in all: more than HTTP/2's flow-control windows, so the server waits for the client to read
        int n = 1024;
        int padding = 4096;
        List<String> received = clients.submit(() -> {
            List<String> messages = new ArrayList<>();
            stub.count(n + " " + padding).forEachRemaining(messages::add);
            return messages;
        }).get(30, SECONDS);
        assertEquals(n, received.size());
        for (int i = 0; i < n; i++) assertEquals(i + "-".repeat(padding), received.get(i));
    }

    @Test
    void clientDeadlineExpiresWhileTheHandlerBlocks() throws Exception {
        Future<String> call = clients.submit(() -> {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> stub.withDeadlineAfter(1, SECONDS).block("until-cancelled:deadline"));
            return describe(e, false);
        });
        Blocked handler = blocked.take();   // hang guard: @Timeout
        assertEquals(fibers.bobbin(), handler.onBobbin(), "the handler runs on a Bobbin fiber");
        assertEquals("DEADLINE_EXCEEDED cause=null interrupted=false", call.get(30, SECONDS));
        // which of the server's deadline and the client's RST_STREAM cancels the context first is gRPC's race
        assertTrue(Set.of("context cancelled: DEADLINE_EXCEEDED interrupted=false",
                        "context cancelled: CANCELLED interrupted=false").contains(handler.outcome().get(30, SECONDS)),
                handler.outcome().getNow(null));
    }

    @Test
    void clientCancelsItsContext() throws Exception {
        CompletableFuture<Context.CancellableContext> context = new CompletableFuture<>();
        Future<String> call = clients.submit(() -> {
            Context.CancellableContext cancellable = Context.current().withCancellation();
            context.complete(cancellable);
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> cancellable.call(() -> stub.block("until-cancelled:context")));
            return describe(e, true);
        });
        Blocked handler = blocked.take();   // hang guard: @Timeout
        assertEquals(fibers.bobbin(), handler.onBobbin(), "the handler runs on a Bobbin fiber");
        clients.submit(() -> context.join().cancel(null)).get(30, SECONDS);   // from another fiber
        assertEquals("CANCELLED io.grpc.Context was cancelled without error cause=null interrupted=false",
                call.get(30, SECONDS));
        assertEquals("context cancelled: CANCELLED interrupted=false", handler.outcome().get(30, SECONDS));
    }

    @Test
    void callingFiberInterrupted() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        Future<?> call = clients.submit(() -> {
            try {
                stub.block("until-cancelled:interrupt");
                seen.complete("answered");
            } catch (StatusRuntimeException e) {
                seen.complete(describe(e, true));
            } catch (Throwable t) {
                seen.completeExceptionally(t);
            }
        });
        Blocked handler = blocked.take();   // hang guard: @Timeout
        assertEquals(fibers.bobbin(), handler.onBobbin(), "the handler runs on a Bobbin fiber");
        assertTrue(call.cancel(true));
        assertEquals("CANCELLED Thread interrupted cause=InterruptedException interrupted=true", seen.get(30, SECONDS));
        assertEquals("context cancelled: CANCELLED interrupted=false", handler.outcome().get(30, SECONDS));
    }

    @Test
    void shutdownNowWithHandlersBlocked() throws Exception {
        int n = 20;
        List<Future<String>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String request = "forever:" + i;
            calls.add(clients.submit(() -> {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.block(request));
                return describe(e, false);
            }));
        }
        List<Blocked> started = new ArrayList<>();
        for (int i = 0; i < n; i++) started.add(blocked.take());   // hang guard: @Timeout
        server.shutdownNow();
        assertTrue(server.awaitTermination(30, SECONDS), "the server terminated with its handlers still blocked");
        Set<String> outcomes = new TreeSet<>();
        for (Future<String> call : calls) outcomes.add(call.get(30, SECONDS));
        // the server resets each stream (RST_STREAM CANCEL) before it closes the connection
        assertEquals(Set.of("CANCELLED cause=null interrupted=false"), outcomes, "every client call failed");
        for (Blocked handler : started) {
            assertEquals(fibers.bobbin(), handler.onBobbin(), "the handler runs on a Bobbin fiber");
            assertFalse(handler.outcome().isDone(), "gRPC does not interrupt a handler");
        }
        // gRPC cancels each call's context through the handlers' executor (a task of its own, not the
        // handler's); wait for those tasks, so the interrupts below come after them as the test intends
        for (Blocked handler : started) {
            assertTrue(handler.contextCancelled().await(30, SECONDS), "gRPC cancelled the context of " + handler.request());
        }
        assertEquals(List.of(), handlers.shutdownNow(), "no handler was waiting to start");
        assertTrue(handlers.awaitTermination(30, SECONDS), "every handler's fiber ended");
        for (Blocked handler : started) {
            assertEquals("interrupted, context cancelled=true", handler.outcome().getNow("not ended"));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** The status code (and its description when it is fixed text), the cause's type, the interrupt status. */
    private static String describe(StatusRuntimeException e, boolean withDescription) {
        Status status = e.getStatus();
        return status.getCode() + (withDescription ? " " + status.getDescription() : "")
                + " cause=" + (status.getCause() == null ? "null" : status.getCause().getClass().getSimpleName())
                + " interrupted=" + Thread.currentThread().isInterrupted();
    }
}
