/**
 * Runnable programs a newcomer starts from (not a library): {@code ./bobbin example [name]} runs one.
 *
 * <p>{@link dev.bobbin.examples.EchoServerExample} (the default) serves blocking-style io_uring sockets;
 * {@link dev.bobbin.examples.MigrationDemo} shows a fiber keeping its thread identity and thread-locals
 * while it moves between carriers; {@link dev.bobbin.examples.ThreadModelExample} the three task models;
 * {@link dev.bobbin.examples.ExecutorExample} a {@code FiberExecutor} as a drop-in {@code ExecutorService};
 * {@link dev.bobbin.examples.HttpServerExample} the embedded HTTP server; and
 * {@link dev.bobbin.examples.MetricsExample} the Micrometer meters. They use only the public API
 * packages ({@code dev.bobbin}, {@code dev.bobbin.uring}, {@code dev.bobbin.http},
 * {@code dev.bobbin.metrics}).
 */
package dev.bobbin.examples;
