package dev.bobbin.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Which scheduler or executor each Bobbin meter of each registry reports on. A registry hands back the meter
 * it has already for an identical name and tags, so a second scheduler or executor bound under the same name
 * and tags would be given the first one's meters: it would report the first's figures, and be invisible
 * itself. A binder therefore claims each meter here before registering it, and its binding is refused with an
 * {@link IllegalArgumentException} naming the meter when the meter is claimed for another object, or is in the
 * registry already from elsewhere (the application, another library; or a registry's meter filter that made
 * two ids one). Another binder of the same object with the same tags binds nothing: its meters are there.
 * A refused or failed binding removes the meters it registered. Claims are dropped as their meters are removed, by
 * their binder or (found at the next binding) by the application.
 */
final class MeterClaims {
    /** A meter as a binder asks for it, before a registry's meter filters rename or retag it. */
    record Key(String name, Tags tags) { }

    /** The object a meter reports on, and the id the registry gave it. */
    private record Claim(Object owner, Meter.Id id) { }

    /** The claims of each registry; guarded by itself, and held across a whole binding so that bindings take turns. */
    private static final Map<MeterRegistry, Map<Key, Claim>> CLAIMS = new WeakHashMap<>();

    /**
     * The meters of one binding, to remove together: each with the claim this binding made for it (a later
     * binding may have replaced it, once the application removed the meter, with a meter of the same id).
     */
    record Bound(MeterRegistry registry, Object owner, List<Key> keys, List<Meter.Id> ids, List<?> claims) { }

    /** Thrown by {@link Registrations#register} to end a binding whose meters another binder of its object registered. */
    private static final class AlreadyBound extends RuntimeException {
        AlreadyBound() { super(null, null, false, false); }
    }

    /** Registers the meters of one binding, claiming each. */
    static final class Registrations {
        private final MeterRegistry registry;
        private final Object owner;
        private final String what;                 // "scheduler", "executor": for the message
        private final Set<Meter> before;           // identity: the meters there before this binding
        private final Map<Key, Claim> claims;
        private final List<Key> keys = new ArrayList<>();
        private final List<Meter.Id> ids = new ArrayList<>();
        private final List<Claim> made = new ArrayList<>();

        private Registrations(MeterRegistry registry, Object owner, String what, Map<Key, Claim> claims) {
            this.registry = registry;
            this.owner = owner;
            this.what = what;
            this.claims = claims;
            this.before = Collections.newSetFromMap(new IdentityHashMap<>());
            before.addAll(registry.getMeters());
        }

        /** Registers the meter {@code name} with {@code tags} by {@code register}, once nothing else claims its id. */
        <M extends Meter> M register(String name, Tags tags, Function<MeterRegistry, M> register) {
            Key key = new Key(name, tags);
            Claim c = claims.get(key);
            if (c != null && !present(c.id())) {           // removed by the application (remove, clear): not bound
                claims.remove(key);
                c = null;
            }
            if (c != null && c.owner() == owner) throw new AlreadyBound();
            if (c != null) throw clash(name, tags, "is bound already for another " + what + " of that name");
            Set<Tag> exact = new HashSet<>(tags.stream().toList());
            for (Meter m : registry.find(name).tags(tags).meters()) {
                if (new HashSet<>(m.getId().getTags()).equals(exact)) throw clash(name, tags, "is registered already, not by Bobbin");
            }
            M meter = register.apply(registry);
            // a meter filter made this id one the registry had: it would report the other's figures
            if (before.contains(meter)) throw clash(name, tags, "is registered already as " + meter.getId());
            Claim claim = new Claim(owner, meter.getId());
            keys.add(key);
            ids.add(meter.getId());
            made.add(claim);
            claims.put(key, claim);
            return meter;
        }

        /** Whether the registry still has a meter of {@code id}. */
        private boolean present(Meter.Id id) {
            for (Meter m : registry.find(id.getName()).meters()) if (m.getId().equals(id)) return true;
            return false;
        }

        private IllegalArgumentException clash(String name, Tags tags, String why) {
            return new IllegalArgumentException("meter " + name + tags.stream().map(t -> t.getKey() + "=" + t.getValue())
                    .collect(Collectors.joining(",", "{", "}")) + " " + why
                    + ": give each " + what + " bound to one registry a distinct name or a tag of its own");
        }

        /** Removes what this binding registered. */
        private void undo() {
            for (Key k : keys) claims.remove(k);
            for (Meter.Id id : ids) registry.remove(id);
        }
    }

    private MeterClaims() { }

    /**
     * Runs {@code registrations} for {@code owner} in {@code registry}: the meters bound, or null if another
     * binder of {@code owner} bound them there already.
     *
     * @throws IllegalArgumentException if a meter is claimed for another object or is in the registry already
     *                                  from elsewhere; nothing of this binding is left registered
     */
    static Bound bind(MeterRegistry registry, Object owner, String what, Consumer<Registrations> registrations) {
        synchronized (CLAIMS) {
            Map<Key, Claim> claims = CLAIMS.computeIfAbsent(registry, r -> new HashMap<>());
            Registrations r = new Registrations(registry, owner, what, claims);
            try {
                registrations.accept(r);
            } catch (AlreadyBound e) {
                r.undo();
                return null;
            } catch (RuntimeException | Error e) {       // a clash, or a registry that refused a meter
                r.undo();
                throw e;
            }
            return new Bound(registry, owner, List.copyOf(r.keys), List.copyOf(r.ids), List.copyOf(r.made));
        }
    }

    /**
     * Removes the meters of {@code bound} from its registry, with their claims: those it still claims. A meter
     * whose claim is gone or another binding's was removed by the application, and the meter of that id now in
     * the registry is not this binding's (another scheduler's or executor's, bound since, or the application's).
     */
    static void release(Bound bound) {
        synchronized (CLAIMS) {
            Map<Key, Claim> claims = CLAIMS.get(bound.registry());
            if (claims == null) return;
            for (int i = 0; i < bound.keys().size(); i++) {
                Key k = bound.keys().get(i);
                if (claims.get(k) != bound.claims().get(i)) continue;   // identity: this binding's claim
                claims.remove(k);
                bound.registry().remove(bound.ids().get(i));
            }
        }
    }
}
