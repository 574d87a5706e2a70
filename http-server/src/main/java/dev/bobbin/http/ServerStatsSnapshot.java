package dev.bobbin.http;

/** Builds {@link HttpServerStats} from a server's counters. */
final class ServerStatsSnapshot {
    private ServerStatsSnapshot() { }

    static HttpServerStats of(ServerCore c) {
        return new HttpServerStats(c.activeConnections(), c.refusedConnections(), c.bytesIn(), c.bytesOut(), c.failureCount());
    }
}
