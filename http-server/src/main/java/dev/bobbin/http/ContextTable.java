package dev.bobbin.http;

import java.util.Objects;

/**
 * A server's contexts; a request goes to the context with the longest path that prefixes its path
 * (case-sensitive, plain string prefix, as {@code com.sun.net.httpserver} specifies). Copy on write:
 * lookups, one per request, read one volatile array; changes are rare and synchronized.
 */
final class ContextTable {
    private volatile ServerContext[] contexts = new ServerContext[0];   // sorted longest path first

    ServerContext find(String path) {
        if (path == null) path = "";
        for (ServerContext c : contexts) {
            if (path.startsWith(c.getPath())) return c;
        }
        return null;
    }

    synchronized void add(ServerContext c) {
        for (ServerContext o : contexts) {
            if (o.getPath().equals(c.getPath())) throw new IllegalArgumentException("cannot add context to list: " + c.getPath() + " exists");
        }
        ServerContext[] old = contexts;
        ServerContext[] n = java.util.Arrays.copyOf(old, old.length + 1);
        n[old.length] = c;
        java.util.Arrays.sort(n, (a, b) -> Integer.compare(b.getPath().length(), a.getPath().length()));
        contexts = n;
    }

    synchronized void remove(String path) {
        Objects.requireNonNull(path, "path");
        for (ServerContext c : contexts) {
            if (c.getPath().equals(path)) {
                remove(c);
                return;
            }
        }
        throw new IllegalArgumentException("cannot remove element from list: no context " + path);
    }

    synchronized void remove(Object context) {
        ServerContext[] old = contexts;
        for (int i = 0; i < old.length; i++) {
            if (old[i] == context) {
                ServerContext[] n = new ServerContext[old.length - 1];
                System.arraycopy(old, 0, n, 0, i);
                System.arraycopy(old, i + 1, n, i, old.length - i - 1);
                contexts = n;
                return;
            }
        }
        throw new IllegalArgumentException("no such context in list");
    }
}
