package dev.bobbin.http;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Micrometer meters of one Bobbin HTTP server (needs {@code micrometer-core} on the class path; the
 * server itself does not):
 * <ul>
 *   <li>{@code http.server.requests} — timer per request, from its head being parsed to its response
 *       being complete; tags {@code method} (one of the standard methods, else {@code UNKNOWN}),
 *       {@code status}, {@code outcome} ({@code SUCCESS}, {@code CLIENT_ERROR}, ...) and {@code uri},
 *       the matched context's path (never the raw URI, so the number of series stays bounded);</li>
 *   <li>{@code http.server.connections.active} — gauge of open connections;</li>
 *   <li>{@code http.server.connections.refused} — connections refused over the limit (a 503 over plain HTTP, a close over TLS);</li>
 *   <li>{@code http.server.bytes.received}, {@code http.server.bytes.sent} — counters, bytes;</li>
 *   <li>{@code http.server.failures} — handlers that threw and connections that failed.</li>
 * </ul>
 * Requests the server refuses before a context is chosen (malformed, over a limit) count in none of
 * the timers. Every meter carries the tags given to {@link #of(HttpServer, Iterable)}. The meters are
 * removed from the registry when the server has stopped (a later server bound there gets meters of its
 * own). Running servers bound to one registry need tags of their own ({@code Tags.of("server", "api")}): a
 * registry hands back the meter it has for the same name and tags, so a second server bound with the same
 * tags would show the first's figures and never its own; {@link #bindTo} refuses it with an
 * {@link IllegalArgumentException} naming the meter. The Prometheus names are listed in the metrics module's
 * README.
 *
 * <pre>{@code
 * HttpServerMetrics.of(server).bindTo(registry);
 * }</pre>
 */
public final class HttpServerMetrics implements MeterBinder {
    /** The tags {@code http.server.requests} gets per request, which extra tags must not name. */
    private static final Set<String> TIMER_TAGS = Set.of("method", "status", "outcome", "uri");
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

    /**
     * The server whose meters each registry has, by the tags they were bound with. A registry hands back the
     * meter it has for an identical name and tags, so a second server bound with the same tags would be given
     * the first's meters: its own figures unseen, the first's shown for both. That binding is refused instead.
     * Guarded by itself, and held across a whole binding so that bindings take turns.
     */
    private static final Map<MeterRegistry, Map<Tags, Owner>> OWNERS = new WeakHashMap<>();

    /** The server whose meters a registry has under some tags: its recorder, and the ids of its meters. */
    private record Owner(ServerCore core, Recorder recorder, List<Meter.Id> ids) { }

    private final ServerCore core;
    private final Tags tags;
    private final Map<MeterRegistry, Recorder> bound = new IdentityHashMap<>();  // guarded by this
    private boolean stopped;                                                       // guarded by this
    private boolean removeOnStop;                                                  // guarded by this: the hook is registered

    private HttpServerMetrics(ServerCore core, Tags tags) {
        this.core = core;
        this.tags = tags;
    }

    /**
     * The meters of {@code server}, a Bobbin server.
     *
     * @throws IllegalArgumentException if {@code server} is not a Bobbin server
     */
    public static HttpServerMetrics of(HttpServer server) {
        return of(server, Tags.empty());
    }

    /**
     * {@link #of(HttpServer)} with {@code tags} on every meter.
     *
     * @throws NullPointerException if an argument is null or {@code tags} contains null
     * @throws IllegalArgumentException if {@code server} is not a Bobbin server, or {@code tags} has a
     *                                  {@code method}, {@code status}, {@code outcome} or {@code uri} tag (set
     *                                  per request on {@code http.server.requests})
     */
    public static HttpServerMetrics of(HttpServer server, Iterable<Tag> tags) {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(tags, "tags");
        for (Tag t : tags) {
            Objects.requireNonNull(t, "tags contains a null Tag");
            if (TIMER_TAGS.contains(t.getKey())) {
                throw new IllegalArgumentException("tag '" + t.getKey() + "' is set by HttpServerMetrics itself");
            }
        }
        ServerCore core;
        if (server instanceof BobbinHttpServer s) core = s.core();
        else if (server instanceof BobbinHttpsServer s) core = s.core();
        else throw new IllegalArgumentException("not a Bobbin server: " + server.getClass().getName());
        return new HttpServerMetrics(core, Tags.of(tags));
    }

    /**
     * Registers the meters in {@code registry}; binding this binder, or another binder of the same server with
     * the same tags, to the same registry again does nothing while those meters are there; once the
     * application removed them all ({@code registry.clear()}), it registers them anew.
     *
     * @throws IllegalArgumentException if a running server's meters are bound to {@code registry} with the same
     *                                  tags, or a meter of the same name and tags is there from elsewhere;
     *                                  nothing is registered
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (stopped) return;
        if (!removeOnStop) {
            removeOnStop = true;
            core.onStopped(this::serverStopped);
            if (stopped) return;                        // stopped already: the hook ran at once
        }
        synchronized (OWNERS) {
            Map<Tags, Owner> owners = OWNERS.computeIfAbsent(registry, r -> new HashMap<>());
            Owner owner = owners.get(tags);
            if (owner != null && owner.ids().stream().noneMatch(id -> present(registry, id))) {
                // the application removed those meters (registry.clear()): the tags are free again, and the
                // server they were bound for (this one or another) no longer records there (its timers are gone
                // from the registry, and a new one's would be this binding's)
                owner.core().removeObserver(owner.recorder());
                owners.remove(tags);
                owner = null;
            }
            // this binder, or another binder of this server, bound these tags to this registry: its meters count
            // already (a second observer would count every request twice)
            if (owner != null && owner.core() == core) return;
            if (owner != null) throw clash("http.server.connections.active", "is bound already for another server");
            Set<Meter> before = Collections.newSetFromMap(new IdentityHashMap<>());
            before.addAll(registry.getMeters());
            Recorder recorder = new Recorder(registry, tags);
            if (!core.addObserver(recorder)) return;
            List<Meter.Id> registered = new ArrayList<>();
            try {
                registered.add(register(registry, before, "http.server.connections.active", r ->
                        Gauge.builder("http.server.connections.active", core, ServerCore::activeConnections)
                                .description("Open connections").tags(tags).register(r)));
                registered.add(register(registry, before, "http.server.connections.refused", r ->
                        FunctionCounter.builder("http.server.connections.refused", core, ServerCore::refusedConnections)
                                .description("Connections refused because the connection limit was reached").tags(tags).register(r)));
                // no base unit: the name says bytes already, and a Prometheus registry would append it again
                registered.add(register(registry, before, "http.server.bytes.received", r ->
                        FunctionCounter.builder("http.server.bytes.received", core, ServerCore::bytesIn)
                                .description("Bytes read from clients").tags(tags).register(r)));
                registered.add(register(registry, before, "http.server.bytes.sent", r ->
                        FunctionCounter.builder("http.server.bytes.sent", core, ServerCore::bytesOut)
                                .description("Bytes handed to client sockets").tags(tags).register(r)));
                registered.add(register(registry, before, "http.server.failures", r ->
                        FunctionCounter.builder("http.server.failures", core, ServerCore::failureCount)
                                .description("Handlers that threw and connections that failed").tags(tags).register(r)));
            } catch (RuntimeException e) {               // a clash, or a registry that refuses a meter: leave nothing behind
                core.removeObserver(recorder);
                for (Meter.Id id : registered) registry.remove(id);
                throw e;
            }
            owners.put(tags, new Owner(core, recorder, List.copyOf(registered)));
            bound.put(registry, recorder);
        }
    }

    /**
     * Registers the meter {@code name} by {@code register}, refusing one the registry has already from elsewhere
     * (the application, another library, or a meter filter that made two ids one): this server's figures would
     * not be seen.
     */
    private Meter.Id register(MeterRegistry registry, Set<Meter> before, String name, Function<MeterRegistry, Meter> register) {
        Set<Tag> exact = new HashSet<>(tags.stream().toList());
        for (Meter m : registry.find(name).tags(tags).meters()) {
            if (new HashSet<>(m.getId().getTags()).equals(exact)) throw clash(name, "is registered already, not by this binder");
        }
        Meter m = register.apply(registry);
        if (before.contains(m)) throw clash(name, "is registered already as " + m.getId());
        return m.getId();
    }

    /** Whether {@code registry} has a meter of {@code id}. */
    private static boolean present(MeterRegistry registry, Meter.Id id) {
        for (Meter m : registry.find(id.getName()).meters()) if (m.getId().equals(id)) return true;
        return false;
    }

    private IllegalArgumentException clash(String name, String why) {
        return new IllegalArgumentException("meter " + name + tags.stream().map(t -> t.getKey() + "=" + t.getValue())
                .collect(Collectors.joining(",", "{", "}")) + " " + why
                + ": give each server bound to one registry tags of its own");
    }

    /**
     * The server stopped: its meters leave every registry, so that they keep no stopped server's values and a
     * server bound later under the same tags is not given them (a registry returns a meter it has already).
     */
    private synchronized void serverStopped() {
        stopped = true;
        synchronized (OWNERS) {
            for (Map.Entry<MeterRegistry, Recorder> e : bound.entrySet()) {
                MeterRegistry registry = e.getKey();
                core.removeObserver(e.getValue());
                Map<Tags, Owner> owners = OWNERS.get(registry);
                Owner owner = owners == null ? null : owners.get(tags);
                // not the owner any more: the application removed these meters, and those of the same ids in the
                // registry now are another server's, bound since
                if (owner == null || owner.recorder() != e.getValue()) continue;
                owners.remove(tags);
                for (Meter.Id id : owner.ids()) registry.remove(id);
                e.getValue().stop();
                for (Timer t : e.getValue().timers().values()) registry.remove(t.getId());
            }
        }
        bound.clear();
    }

    /** The recorder bound to {@code registry}, or null: for tests, which play an exchange that ends late. */
    synchronized ExchangeObserver recorder(MeterRegistry registry) {
        return bound.get(registry);
    }

    /**
     * Records each finished exchange in the timer of its (method, status, context); timers are cached. An
     * exchange that ends while its server stops may still be passing through here: once stopped, a recorder
     * registers no timer, and one it registered as the stop came is removed again. A Dekker pair on
     * {@code stopped}: the stop sets it, then removes every cached timer; the recorder caches its timer,
     * then reads it, so one of the two removes that timer.
     */
    private record Recorder(MeterRegistry registry, Tags tags, ConcurrentHashMap<Key, Timer> timers,
                            AtomicBoolean stopped) implements ExchangeObserver {
        Recorder(MeterRegistry registry, Tags tags) {
            this(registry, tags, new ConcurrentHashMap<>(), new AtomicBoolean());
        }

        private record Key(String method, int status, String uri) { }

        void stop() {
            stopped.set(true);                                // volatile; before the stop removes the cached timers
        }

        @Override
        public void exchangeFinished(String method, int status, String contextPath, boolean complete, long nanos) {
            Key k = new Key(METHODS.contains(method) ? method : "UNKNOWN", status, contextPath);
            Timer t = timers.get(k);
            if (t == null) {
                if (stopped.get()) return;                    // the server's meters are gone: no timer of its own comes back
                t = timers.computeIfAbsent(k, this::timer);
                if (stopped.get()) {                          // volatile, after the cache's write: the stop may have missed it
                    registry.remove(t.getId());
                    return;
                }
            }
            t.record(nanos, TimeUnit.NANOSECONDS);
        }

        private Timer timer(Key k) {
            return Timer.builder("http.server.requests")
                    .description("HTTP requests, from the parsed head to the complete response")
                    .tags(tags)
                    .tag("method", k.method())
                    .tag("status", k.status() < 0 ? "UNKNOWN" : Integer.toString(k.status()))
                    .tag("outcome", outcome(k.status()))
                    .tag("uri", k.uri())
                    .register(registry);
        }

        private static String outcome(int status) {
            if (status >= 100 && status < 200) return "INFORMATIONAL";
            if (status >= 200 && status < 300) return "SUCCESS";
            if (status >= 300 && status < 400) return "REDIRECTION";
            if (status >= 400 && status < 500) return "CLIENT_ERROR";
            if (status >= 500 && status < 600) return "SERVER_ERROR";
            return "UNKNOWN";
        }

        // one recorder per registry and tags: addObserver keeps two registries apart, and refuses a second binder
        // of the same server bound to the same registry with the same tags (its timers are the same: it would count twice)
        @Override public boolean equals(Object o) { return o instanceof Recorder r && r.registry == registry && r.tags.equals(tags); }
        @Override public int hashCode() { return 31 * System.identityHashCode(registry) + tags.hashCode(); }
    }
}
