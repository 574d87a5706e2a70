package dev.bobbin.http;

/** Receives every finished exchange of a server (the metrics binding is one); called on the handler's thread. */
interface ExchangeObserver {
    void exchangeFinished(String method, int status, String contextPath, boolean complete, long nanos);
}
