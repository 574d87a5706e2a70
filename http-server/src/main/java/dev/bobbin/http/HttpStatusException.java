package dev.bobbin.http;

import java.io.IOException;

/**
 * A request the server refuses with {@link #status()}: malformed, over a limit, or smuggling. It is an
 * {@link IOException} so that a handler reading a request body sees the usual type; the connection
 * answers with the status (if no response has started) and closes.
 */
final class HttpStatusException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    HttpStatusException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** A protocol verdict, not a fault: no stack trace to fill. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    int status() {
        return status;
    }
}
