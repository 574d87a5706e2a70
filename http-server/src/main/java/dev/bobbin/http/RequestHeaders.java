package dev.bobbin.http;

import com.sun.net.httpserver.Headers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The request headers an exchange exposes: read-only, as the JDK server's are, with keys normalized as
 * {@link Headers} normalizes them (first character upper case, the rest lower case, ASCII letters only).
 *
 * <p>The parser hands over the header fields as parallel arrays of normalized names and values, in
 * arrival order. Lookups ({@link #getFirst}, {@link #get}, {@link #containsKey}) scan those arrays and
 * compare each character against the normalized form of the key, so they allocate nothing (the JDK's
 * {@code Headers} normalizes every key into a new string). The map views ({@link #keySet},
 * {@link #entrySet}, {@link #values}, equality, {@link #toString}) are built on first use.
 */
final class RequestHeaders extends Headers {
    private final String[] names;     // normalized field names, one per field line
    private final String[] values;    // the field values, same index
    private final int count;          // field lines
    private Map<String, List<String>> view;   // built on first use; unmodifiable

    RequestHeaders(String[] names, String[] values, int count) {
        this.names = names;
        this.values = values;
        this.count = count;
    }

    /**
     * Whether {@code key} equals the normalized name {@code normalized} once normalized. Rejects CR and LF
     * in the key, as {@code Headers} does.
     */
    static boolean matches(String normalized, String key) {
        int n = key.length();
        if (n != normalized.length()) return false;
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (i == 0) {
                if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
            } else if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != normalized.charAt(i)) return false;
        }
        return true;
    }

    private static String checkKey(Object key) {
        String k = (String) Objects.requireNonNull(key);
        for (int i = 0; i < k.length(); i++) {
            char c = k.charAt(i);
            if (c == '\r' || c == '\n') throw new IllegalArgumentException("illegal character in key");
        }
        return k;
    }

    @Override
    public String getFirst(String key) {
        checkKey(key);
        for (int i = 0; i < count; i++) {
            if (matches(names[i], key)) return values[i];
        }
        return null;
    }

    @Override
    public List<String> get(Object key) {
        String k = checkKey(key);
        int first = -1;
        int matches = 0;
        for (int i = 0; i < count; i++) {
            if (matches(names[i], k)) {
                if (first < 0) first = i;
                matches++;
            }
        }
        if (matches == 0) return null;
        if (matches == 1) return Collections.singletonList(values[first]);
        String[] all = new String[matches];
        for (int i = first, j = 0; i < count; i++) {
            if (matches(names[i], k)) all[j++] = values[i];
        }
        return Collections.unmodifiableList(Arrays.asList(all));
    }

    @Override
    public boolean containsKey(Object key) {
        Objects.requireNonNull(key);
        if (!(key instanceof String k)) return false;
        checkKey(k);
        for (int i = 0; i < count; i++) {
            if (matches(names[i], k)) return true;
        }
        return false;
    }

    private Map<String, List<String>> view() {
        Map<String, List<String>> v = view;
        if (v == null) {
            Map<String, List<String>> m = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) m.computeIfAbsent(names[i], n -> new ArrayList<>(1)).add(values[i]);
            m.replaceAll((n, l) -> Collections.unmodifiableList(l));
            v = Collections.unmodifiableMap(m);
            view = v;
        }
        return v;
    }

    @Override public int size() { return view().size(); }
    @Override public boolean isEmpty() { return count == 0; }
    @Override public boolean containsValue(Object value) { return view().containsValue(Objects.requireNonNull(value)); }
    @Override public Set<String> keySet() { return view().keySet(); }
    @Override public Collection<List<String>> values() { return view().values(); }
    @Override public Set<Map.Entry<String, List<String>>> entrySet() { return view().entrySet(); }
    @Override public boolean equals(Object o) { return view().equals(o); }
    @Override public int hashCode() { return view().hashCode(); }
    @Override public String toString() { return "Headers { " + view() + " }"; }

    private static UnsupportedOperationException readOnly() {
        return new UnsupportedOperationException("unsupported operation");
    }

    @Override public List<String> put(String key, List<String> value) { throw readOnly(); }
    @Override public void add(String key, String value) { throw readOnly(); }
    @Override public void set(String key, String value) { throw readOnly(); }
    @Override public List<String> remove(Object key) { throw readOnly(); }
    @Override public boolean remove(Object key, Object value) { throw readOnly(); }
    @Override public void putAll(Map<? extends String, ? extends List<String>> t) { throw readOnly(); }
    @Override public void clear() { throw readOnly(); }
    @Override public List<String> replace(String key, List<String> value) { throw readOnly(); }
    @Override public boolean replace(String key, List<String> oldValue, List<String> newValue) { throw readOnly(); }
    @Override public void replaceAll(BiFunction<? super String, ? super List<String>, ? extends List<String>> f) { throw readOnly(); }
    // putIfAbsent, computeIfAbsent, computeIfPresent, compute and merge keep Map's defaults, as the JDK's
    // read-only request headers do: they fail through put or remove when they would change the map, and
    // answer when they would not (computeIfAbsent of a present key returns its values)
}
