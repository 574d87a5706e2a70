package dev.bobbin.http;

import java.nio.charset.StandardCharsets;

/**
 * Header field names in the form {@link com.sun.net.httpserver.Headers} gives them (first character upper
 * case, the rest lower case), made from the request bytes. The names browsers and load generators send
 * most are shared constants, so a typical request allocates no string for its header names.
 */
final class HeaderNames {
    static final String HOST = "Host";
    static final String CONTENT_LENGTH = "Content-length";
    static final String TRANSFER_ENCODING = "Transfer-encoding";
    static final String CONNECTION = "Connection";
    static final String EXPECT = "Expect";

    private static final String[] COMMON = {
        HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, EXPECT, "Accept", "Accept-encoding",
        "Accept-language", "Accept-charset", "Authorization", "Cache-control", "Content-type", "Cookie",
        "Date", "If-modified-since", "If-none-match", "Keep-alive", "Origin", "Pragma", "Range", "Referer",
        "Te", "Upgrade", "User-agent", "Upgrade-insecure-requests", "Sec-fetch-dest", "Sec-fetch-mode",
        "Sec-fetch-site", "Sec-fetch-user", "Priority", "Dnt", "X-forwarded-for", "X-forwarded-proto",
        "X-request-id", "Content-encoding", "Via", "Forwarded",
    };
    private static final byte[][] COMMON_BYTES = new byte[COMMON.length][];
    /** Indexes into COMMON by name length; lengths above the longest common name have no entry. */
    private static final int[][] BY_LENGTH;

    static {
        int longest = 0;
        for (int i = 0; i < COMMON.length; i++) {
            COMMON_BYTES[i] = COMMON[i].getBytes(StandardCharsets.ISO_8859_1);
            longest = Math.max(longest, COMMON[i].length());
        }
        BY_LENGTH = new int[longest + 1][];
        for (int len = 0; len <= longest; len++) {
            int n = 0;
            for (String s : COMMON) if (s.length() == len) n++;
            int[] idx = new int[n];
            n = 0;
            for (int i = 0; i < COMMON.length; i++) if (COMMON[i].length() == len) idx[n++] = i;
            BY_LENGTH[len] = idx;
        }
    }

    private HeaderNames() { }

    /** The normalized name of the (already validated token) bytes {@code a[off, off + len)}. */
    static String normalized(byte[] a, int off, int len) {
        if (len < BY_LENGTH.length) {
            for (int i : BY_LENGTH[len]) {
                if (equalsIgnoreCase(COMMON_BYTES[i], a, off, len)) return COMMON[i];
            }
        }
        char[] c = new char[len];
        for (int i = 0; i < len; i++) {
            int b = a[off + i] & 0xff;
            if (i == 0) {
                if (b >= 'a' && b <= 'z') b -= 'a' - 'A';
            } else if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            c[i] = (char) b;
        }
        return new String(c);
    }

    private static boolean equalsIgnoreCase(byte[] known, byte[] a, int off, int len) {
        for (int i = 0; i < len; i++) {
            int x = known[i], y = a[off + i];
            if (x != y && (x | 0x20) != (y | 0x20)) return false;   // names are tokens: ASCII letters fold with 0x20
        }
        return true;
    }
}
