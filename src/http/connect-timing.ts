/**
 * A connect's time, split as k6 and browsers split it: TCP (from asking for the socket to
 * TCP's connect) and the TLS handshake after it (to `secureConnect`). Clocks are
 * `performance.now()` ms. `tcpDoneMs` 0: TCP never connected (or a plain socket), so the whole
 * time is the connect's and there was no handshake. A connect that took any time counts at least
 * 1 µs, so "connected" is never read as "reused" (0).
 *
 * @returns [connectUs, tlsUs]; tlsUs 0 when there was no handshake
 */
export function splitConnectUs(startMs: number, tcpDoneMs: number, endMs: number): [number, number] {
  if (tcpDoneMs === 0) return [Math.max(1, Math.round((endMs - startMs) * 1000)), 0]
  return [Math.max(1, Math.round((tcpDoneMs - startMs) * 1000)), Math.max(1, Math.round((endMs - tcpDoneMs) * 1000))]
}
