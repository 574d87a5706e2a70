package dev.bobbin.examples;

import dev.bobbin.FiberExecutor;
import dev.bobbin.FiberScheduler;
import dev.bobbin.SchedulerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The drop-in swap: the same code runs on the JDK's virtual-thread executor and on Bobbin's
 * {@link FiberExecutor}; only the line that creates the executor changes. Then two executors share
 * one scheduler as bulkheads, one of them bounded.
 *
 * <p>Run with {@code ./bobbin example executor}.
 */
public final class ExecutorExample {
    private static final String USAGE = "usage: ./bobbin example executor";

    /** Existing application code: knows only ExecutorService. */
    static String handleRequests(ExecutorService executor) throws Exception {
        List<Callable<String>> lookups = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            int id = i;
            lookups.add(() -> {
                Thread.sleep(5);                      // a blocking call: cheap on a virtual thread
                return "user-" + id;
            });
        }
        int found = 0;
        for (Future<String> f : executor.invokeAll(lookups)) if (f.get().startsWith("user-")) found++;
        String fastest = executor.invokeAny(List.of(() -> { Thread.sleep(50); return "replica-a"; }, () -> "replica-b"));
        String async = CompletableFuture.supplyAsync(() -> "async ok", executor).get();
        // No timing here: one cold run measures JIT warm-up and start-up, not the executor (see bench/).
        return String.format("%d lookups done, invokeAny -> %s, %s, running on %s",
                found, fastest, async,
                executor.submit(() -> Thread.currentThread().toString()).get());
    }

    public static void main(String[] args) throws Exception {
        Usage.helpIfAsked(args, USAGE);
        if (args.length > 0) {                          // takes none: say so rather than ignore them
            Usage.refuse(USAGE, "takes no arguments, not: " + String.join(" ", args));
        }
        // Before:
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            System.out.println("JDK:    " + handleRequests(executor));
        }
        // After: one line changed.
        try (ExecutorService executor = FiberExecutor.create()) {
            System.out.println("Bobbin: " + handleRequests(executor));
        }

        // Bulkheads: two executors on one scheduler; the database one runs at most 4 tasks at once.
        try (FiberScheduler scheduler = FiberScheduler.create(SchedulerConfig.builder().name("app").build());
             FiberExecutor api = FiberExecutor.builder().name("api").scheduler(scheduler).build();
             FiberExecutor db = FiberExecutor.builder().name("db").scheduler(scheduler)
                     .maxConcurrency(4).whenSaturated(FiberExecutor.Saturation.WAIT).build()) {
            AtomicInteger inDb = new AtomicInteger(), peak = new AtomicInteger();
            List<Callable<String>> requests = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                requests.add(() -> db.submit(() -> {
                    peak.accumulateAndGet(inDb.incrementAndGet(), Math::max);
                    Thread.sleep(10);
                    inDb.decrementAndGet();
                    return Thread.currentThread().getName();
                }).get());
            }
            List<Future<String>> answers = api.invokeAll(requests);
            System.out.printf("Bulkhead: %d requests through 'api', at most %d at once in 'db' (bound 4), e.g. %s%n",
                    answers.size(), peak.get(), answers.getFirst().get());
        }
    }
}
