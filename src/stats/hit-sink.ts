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
   * @param failed   for a response (errorKind null): whether its status is a failure — one the
   *                 test did not expect (`expect: [404]`), by default any status ≥ 400. Omitted:
   *                 status ≥ 400. A network failure always fails.
   * @param scenario the config-file scenario whose user made the hit: set by the user's sink
   *                 (load/user-groups.ts), never by a protocol; the recorder keeps the endpoint's
   *                 figures per scenario, so metrics outputs can label them.
   * @param tlsUs    µs of the TLS handshake of the connection opened for this request (after
   *                 `connectUs`, which is TCP alone); 0 or omitted when there was none (plain TCP,
   *                 a reused connection).
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
    failed?: boolean,
    scenario?: string,
    tlsUs?: number,
  ): void

  /**
   * A keep-alive connection was closed because the server sent bytes that no request asked for
   * (while none was outstanding, or left over after a complete response): reusing it could book
   * a response against the wrong request. Optional: sinks that do not count it leave it out.
   */
  recordStrayBytes?(): void
}

/**
 * Where a WebSocket client reports its traffic after the handshake (the handshake itself is a
 * hit of method `WS`). Called per message, so O(1) as well.
 */
export interface WsSink {
  /** A message sent (`out`) or received (`in`); `bytes` is its payload size. `scenario`: as for recordHit. */
  recordWsMessage(name: string, direction: 'in' | 'out', bytes: number, scenario?: string): void
  /** A connection closed, by either side, with `code` (1005 when no code was given, 1006 when the connection dropped). */
  recordWsClose(name: string, code: number, scenario?: string): void
}

/**
 * Where streaming protocols other than WebSocket (gRPC) report each message, under the call's
 * (method, name): counted and sized in the endpoint's message counts, as WebSocket messages are.
 * Called per message, so O(1).
 */
export interface StreamSink {
  /** A message sent (`out`) or received (`in`); `bytes` is its serialized size. `scenario`: as for recordHit. */
  recordStreamMessage(method: string, name: string, direction: 'in' | 'out', bytes: number, scenario?: string): void
}
