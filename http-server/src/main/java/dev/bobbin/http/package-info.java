/**
 * Bobbin's embedded HTTP/1.1 server: a {@code com.sun.net.httpserver} provider whose connections are
 * fibers on Bobbin's io carriers (io_uring where the kernel offers it, else epoll or NIO).
 *
 * <h2>Using it</h2>
 * With this module's jar on the class path, {@code HttpServer.create(...)} and
 * {@code HttpsServer.create(...)} return {@link dev.bobbin.http.BobbinHttpServer} and
 * {@link dev.bobbin.http.BobbinHttpsServer} through {@link dev.bobbin.http.BobbinHttpServerProvider}:
 * an existing application runs on Bobbin unchanged. {@link dev.bobbin.http.HttpServerOptions} sets the
 * limits, timeouts and scheduler; {@link dev.bobbin.http.HttpServerMetrics} binds Micrometer meters.
 *
 * <h2>Implementation overview</h2>
 * One fiber per connection ({@code Connection}) runs a plain blocking loop: read a request head, run
 * the context's filters, authenticator and handler, drain what is left of the request body, repeat.
 * Requests on a connection are handled in order, so pipelined requests are answered in order. Handlers
 * run on the connection's fiber unless the application set an executor; blocking in a handler parks a
 * fiber, never a carrier. An acceptor fiber places each connection's fiber round-robin on the carriers,
 * so its socket lives on that carrier's ring; a sweeper fiber enforces every timeout (idle keep-alive,
 * slow head, stalled body read or write) by closing the connection, which wakes its blocked fiber. The
 * sweeper itself never writes: a 408 goes out on a fiber of its own, which the sweeper closes at the io
 * timeout if its client reads nothing. A handler may hand its exchange to another thread and return; a
 * connection closed meanwhile releases its buffers under a lock that every stream operation of the
 * exchange takes, so that thread's later calls fail with an {@code IOException}.
 *
 * <p>Buffers. A connection reads Netty buffers straight from its socket ({@code FiberSocket.receive},
 * the carrier's receive buffer, no copy). A request head is found in that buffer by a tight scan
 * ({@code ByteBuf.forEachByte}), then copied once into the parser's reusable 2 KiB array (a larger head
 * into an array of its own, not kept), from which the
 * header names and values are made: a {@code String} needs its bytes in an array anyway, and this one
 * copy of a few hundred bytes replaces the per-field copies a stream parser makes. Request bodies go from
 * the receive buffer straight into the handler's array; a connection waiting for its next request holds
 * no receive buffer (nor, over TLS, a decrypt buffer). A response (head and body) is written into one
 * pooled direct buffer that goes to the socket in one write when the exchange ends (or when it fills,
 * or the handler flushes); chunked bodies are coalesced into chunks of up to 16 KiB.
 *
 * <p>Why a parser of its own. Netty's HTTP codec is an event-driven pipeline stage; a blocking server
 * would have to run it in an embedded channel and convert its message objects into the JDK API's types,
 * paying for both. The parts that fit are reused: Netty's reason phrases ({@code HttpResponseStatus})
 * and date format ({@code DateFormatter}). The parser is small, strict and allocation-light: common
 * header names are shared constants. Measured under wrk on the benchmark machine, a hello-world request
 * costs 16 µs of server CPU in total at 64 connections: 0.63x Helidon's and 0.90x a Netty io_uring
 * server's built on Netty's own HTTP codec (bench/README.md, "HTTP servers").
 *
 * <h2>Protocol rules and defenses</h2>
 * HTTP/1.1 and 1.0, persistent connections, pipelining, chunked bodies both ways, {@code Expect:
 * 100-continue} (the interim response is sent when the handler first reads the body, or sends response
 * headers below 400 before reading it; a refusal of 400 or more goes out without it, and the connection
 * closes), HEAD,
 * {@code Connection: close}, absolute-form targets, a {@code Date} on every response. The server is
 * deliberately stricter than {@code com.sun.net.httpserver}'s built-in provider where leniency lets a
 * proxy and the server disagree on where a message ends (request smuggling): each of these is answered
 * with a status and the connection closed:
 * <ul>
 *   <li>400: Content-Length with Transfer-Encoding; two Content-Length fields; an invalid Content-Length;
 *       a Transfer-Encoding whose last coding is not a single {@code chunked}, or any on HTTP/1.0;
 *       obs-fold; invalid header names; control characters in values; a bare CR (before the request line
 *       too); a missing or repeated Host on HTTP/1.1, or a Host value that is no {@code uri-host [":" port]};
 *       a malformed request line or chunk; a trailer line that is no field line, or not ended by CRLF;</li>
 *   <li>414 request line over the limit; 431 header block over the limit or over 200 fields; 413 body
 *       over the limit; 501 a transfer coding other than chunked; 505 an HTTP major version other than 1;
 *       408 a head not complete within the header timeout; 503 a connection over the limit (over TLS a
 *       connection over the limit is closed without a handshake).</li>
 * </ul>
 * A handler that throws gets a 500 when nothing was sent yet (the built-in provider closes the
 * connection), otherwise the connection closes; the failure is logged once per minute at WARNING, each
 * one at DEBUG, and the server goes on serving. A request the server's executor rejects gets a 503 (the
 * built-in provider closes the connection). Response fields with a line break (other than a folded
 * one), a character outside ISO-8859-1 or a null value make {@code sendResponseHeaders} throw
 * IllegalArgumentException before anything is sent or changed (no 100 Continue, no framing field, no
 * response code), so a handler may mend its fields and try again (the built-in provider keeps a refused
 * attempt's {@code Transfer-encoding} and code); so do status codes outside 100-999 (the built-in
 * provider sends those). {@code HttpExchange} attributes belong to the exchange (the built-in provider
 * of JDK 25 keeps them in the context, shared by its requests).
 */
package dev.bobbin.http;
