package dev.bobbin.bench.echo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The parsed command line of the echo benchmark's programs: positional arguments, {@code --name value}
 * options and {@code --name} switches. Unknown names, missing values and malformed numbers throw
 * {@link IllegalArgumentException} with a message meant for the user.
 */
public final class Flags {
    private final List<String> positional;
    private final Map<String, String> values;

    private Flags(List<String> positional, Map<String, String> values) {
        this.positional = positional;
        this.values = values;
    }

    /**
     * Parses {@code args}.
     *
     * @param valued   option names (without {@code --}) that take a value
     * @param switches option names that take none
     */
    public static Flags parse(String[] args, Set<String> valued, Set<String> switches) {
        Objects.requireNonNull(args, "args");
        List<String> positional = new ArrayList<>();
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = Objects.requireNonNull(args[i], "argument");
            if (!a.startsWith("--")) {
                positional.add(a);
                continue;
            }
            String name = a.substring(2);
            if (switches.contains(name)) {
                values.put(name, "true");
            } else if (valued.contains(name)) {
                if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
                values.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("unknown option " + a);
            }
        }
        return new Flags(List.copyOf(positional), values);
    }

    public List<String> positional() {
        return positional;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    public long longValue(String name, long fallback, long min, long max) {
        String v = values.get(name);
        return v == null ? fallback : parseLong("--" + name, v, min, max);
    }

    public int intValue(String name, int fallback, int min, int max) {
        return (int) longValue(name, fallback, min, max);
    }

    /** Parses a whole number in [min, max]; {@code what} names it in the error message. */
    public static long parseLong(String what, String text, long min, long max) {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a whole number: '" + text + "'");
        }
        if (v < min || v > max) throw new IllegalArgumentException(what + " must be " + min + " to " + max + ": " + v);
        return v;
    }
}
