package dev.bobbin.http;

/**
 * A snapshot of one Bobbin HTTP server's counters.
 *
 * @param activeConnections   connections open now
 * @param refusedConnections  connections refused because {@link HttpServerOptions#maxConnections()} were open (answered with
 *                            503 over plain HTTP, closed over TLS)
 * @param bytesReceived       bytes read from clients (TLS: after decryption)
 * @param bytesSent           bytes handed to the sockets (TLS: before encryption)
 * @param failures            handlers that threw and connections that failed unexpectedly
 */
public record HttpServerStats(int activeConnections, long refusedConnections, long bytesReceived, long bytesSent,
                              long failures) {
}
