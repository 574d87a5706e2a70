package dev.bobbin.http;

import java.net.URI;

/**
 * One parsed request head: request line and header fields, already checked against the protocol rules
 * (see {@link HeadParser}). The header fields are parallel arrays of normalized names and values.
 */
record RequestHead(String method, String target, URI uri, int minorVersion, String[] names, String[] values,
                   int fieldCount, int headBytes) {

    /** An HTTP/1.0 request (its connection closes unless it asks to be kept alive; no chunked bodies). */
    boolean http10() {
        return minorVersion == 0;
    }

    /** The protocol string an exchange reports, as sent ({@code HTTP/1.1}, {@code HTTP/1.0}, {@code HTTP/1.2}...). */
    String protocol() {
        return switch (minorVersion) {
            case 0 -> "HTTP/1.0";
            case 1 -> "HTTP/1.1";
            default -> "HTTP/1." + minorVersion;
        };
    }

    /** The first value of {@code normalizedName}, or null. */
    String first(String normalizedName) {
        for (int i = 0; i < fieldCount; i++) {
            if (names[i] == normalizedName || names[i].equals(normalizedName)) return values[i];
        }
        return null;
    }

    /** How many fields are named {@code normalizedName}. */
    int count(String normalizedName) {
        int n = 0;
        for (int i = 0; i < fieldCount; i++) {
            if (names[i] == normalizedName || names[i].equals(normalizedName)) n++;
        }
        return n;
    }

    boolean hasToken(String normalizedName, String token) {
        for (int i = 0; i < fieldCount; i++) {
            if (names[i] == normalizedName || names[i].equals(normalizedName)) {
                for (String part : values[i].split(",")) {
                    if (part.strip().equalsIgnoreCase(token)) return true;
                }
            }
        }
        return false;
    }
}
