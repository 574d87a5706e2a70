package dev.bobbin.uring.driver;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fails fast, with a message naming what was found and what is needed, when the class path holds a Netty
 * older than 4.2: the io backend is built on 4.2's {@code IoHandler} API, and with 4.1 the first socket
 * would otherwise fail with a bare {@link NoClassDefFoundError}. Reads the versions Netty's jars declare
 * ({@code io.netty.util.Version}, present in 4.1 and 4.2); a class path without them (a shaded jar that
 * dropped the versions file) is not judged.
 *
 * <p>{@code FiberIo.system()} and {@code FiberIo.of(IoTransport)} call {@link #require()} first, so loading,
 * verifying and initializing {@code FiberIo} and {@code IoTransport} (which a caller of {@code of} loads
 * first) must need no Netty 4.2 type: a change there can turn this message back into a bare
 * {@link NoClassDefFoundError}. {@code NettyVersionCheckTest} checks it in a child
 * JVM with a real Netty 4.1 {@code netty-transport} jar.
 */
public final class NettyVersionCheck {
    static final String NEEDED = "4.2";
    static final String TESTED = "4.2.18.Final";
    private static volatile boolean passed;

    private NettyVersionCheck() { }

    /** Throws {@link IllegalStateException} if Netty on the class path is older than 4.2. */
    public static void require() {
        if (passed) return;
        Map<String, String> versions = new LinkedHashMap<>();
        try {
            io.netty.util.Version.identify().forEach((artifact, v) -> versions.put(artifact, v.artifactVersion()));
        } catch (LinkageError e) {
            throw new IllegalStateException("Bobbin's io backend needs Netty " + NEEDED + " (tested with " + TESTED
                    + "); netty-common could not be loaded: " + e, e);
        }
        check(versions);
        passed = true;
    }

    /** The check itself, on the artifact versions Netty declares (e.g. netty-transport -> 4.1.115.Final). */
    public static void check(Map<String, String> artifactVersions) {
        for (Map.Entry<String, String> e : artifactVersions.entrySet()) {
            if (!e.getKey().equals("netty-common") && !e.getKey().equals("netty-transport")) continue;
            String v = e.getValue();
            String[] parts = v.split("\\.");
            if (parts.length < 2) continue;
            int major, minor;
            try {
                major = Integer.parseInt(parts[0]);
                minor = Integer.parseInt(parts[1]);
            } catch (NumberFormatException notAVersion) {
                continue;
            }
            if (major < 4 || (major == 4 && minor < 2)) {
                throw new IllegalStateException("Bobbin's io backend needs Netty " + NEEDED + " or newer (tested with "
                        + TESTED + "), but the class path has " + e.getKey() + " " + v
                        + "; align the io.netty dependencies, e.g. by importing io.netty:netty-bom:" + TESTED);
            }
        }
    }
}
