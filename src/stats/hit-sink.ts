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

/**
 * Where a WebSocket client reports its traffic after the handshake (the handshake itself is a
 * hit of method `WS`). Called per message, so O(1) as well.
 */
export interface WsSink {
  /** A message sent (`out`) or received (`in`); `bytes` is its payload size. */
  recordWsMessage(name: string, direction: 'in' | 'out', bytes: number): void
  /** A connection closed, by either side, with `code` (1005 when no code was given, 1006 when the connection dropped). */
  recordWsClose(name: string, code: number): void
}
