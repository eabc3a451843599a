/**
 * Where the HTTP layer reports each hit. Called once per request on the hot path, so it takes
 * plain arguments (no Hit object is allocated) and must do O(1) work.
 */
export interface HitSink {
  /**
   * @param method   HTTP method (`GET`), or `WS` for WebSocket traffic.
   * @param name     the URL path, or the `name` option the test gave (`/items/{id}`).
   * @param status   HTTP status, or 0 when the request failed on the network.
   * @param totalUs  from the request's start to the last byte of the body (or the failure), µs.
   * @param ttfbUs   from the request's start to the response headers, µs (0 on failure).
   * @param connectUs µs spent opening a connection for this request; 0 when one was reused.
   * @param errorKind null, or the network failure's kind: ECONNREFUSED, ECONNRESET, ENOTFOUND,
   *                 TIMEOUT, ABORTED, TLS, PROTOCOL, …
   */
  recordHit(
    method: string,
    name: string,
    status: number,
    totalUs: number,
    ttfbUs: number,
    connectUs: number,
    bytesIn: number,
    bytesOut: number,
    errorKind: string | null,
  ): void
}
