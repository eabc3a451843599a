import { Client, buildConnector, type Dispatcher } from 'undici'
import { H1Connection } from './h1-connection.js'
import { pinnedLookup, type ResolveMap } from './resolve-map.js'

/** What a session needs of a connection: undici's Client, or the leaner H1Connection. */
export interface ConnectionClient {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean
  close(): Promise<void>
  destroy(err?: Error): Promise<void>
}

/**
 * `http:` origins use H1Connection unless LOADS_HTTP1=undici asks for undici's Client (to
 * compare the two, or to rule this client out when something looks wrong).
 */
const FAST_H1 = process.env['LOADS_HTTP1'] !== 'undici'

/** TLS settings of a session, passed to every connection it opens. */
export interface TlsOptions {
  /** Accept any server certificate (self-signed, expired, wrong host). */
  insecure?: boolean
  /** Certificate authorities to trust instead of Node's bundled list (PEM). */
  ca?: string | Buffer
  /** Client certificate for mutual TLS (PEM). */
  cert?: string | Buffer
  /** Private key of the client certificate (PEM). */
  key?: string | Buffer
}

/** How a session connects: TLS, plus HTTP/2 and pinned addresses. */
export interface ConnectionOptions extends TlsOptions {
  /** Offer HTTP/2 by ALPN to https:// origins (`--http2`); a server that declines keeps HTTP/1.1. */
  http2?: boolean
  /** `--resolve`: `host:port` → address to connect to instead of asking DNS. */
  resolve?: ResolveMap
}

/**
 * One virtual user's keep-alive connection to one origin, like a browser tab's: a single undici
 * Client with pipelining 1, so the user's requests to that origin go one at a time over one socket
 * that is reopened only when the server closes it.
 *
 * It also measures connects honestly: the connector is wrapped so the time from asking for a
 * socket to having it (TCP, plus TLS handshake for https) is known, and handed to the first
 * request that runs on the new socket.
 */
export class OriginConnection {
  readonly client: ConnectionClient
  #pendingConnectUs = 0

  /** @param connectTimeoutMs how long to wait for TCP+TLS before failing with TIMEOUT. */
  constructor(origin: string, tls: ConnectionOptions, connectTimeoutMs: number) {
    if (FAST_H1 && origin.startsWith('http:')) {
      const url = new URL(origin)
      const lookup = pinnedLookup(tls.resolve, url.hostname, Number(url.port || 80))
      this.client = new H1Connection(origin, connectTimeoutMs, lookup, (us) => (this.#pendingConnectUs = us))
      return
    }
    const options: buildConnector.BuildOptions = {
      timeout: connectTimeoutMs,
      rejectUnauthorized: tls.insecure !== true,
    }
    if (tls.http2 === true) options.allowH2 = true
    if (tls.resolve !== undefined) {
      const url = new URL(origin)
      const lookup = pinnedLookup(tls.resolve, url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)))
      if (lookup !== undefined) (options as { lookup?: unknown }).lookup = lookup
    }
    if (tls.ca !== undefined) options.ca = tls.ca
    if (tls.cert !== undefined) options.cert = tls.cert
    if (tls.key !== undefined) options.key = tls.key
    const connect = buildConnector(options)
    this.client = new Client(origin, {
      pipelining: 1,
      ...(tls.http2 === true ? { allowH2: true } : {}),
      connect: (connectOptions, callback) => {
        const startMs = performance.now()
        connect(connectOptions, (err, socket) => {
          // Set on failure too: the time lost trying to connect belongs to the failed hit.
          this.#pendingConnectUs = Math.max(1, Math.round((performance.now() - startMs) * 1000))
          if (err === null) callback(null, socket)
          else callback(err, null)
        })
      },
    })
  }

  /**
   * µs spent opening the connection the caller's request is about to use, or 0 when that
   * connection was already open (reused). Each connect is handed out once.
   */
  takeConnectUs(): number {
    const us = this.#pendingConnectUs
    this.#pendingConnectUs = 0
    return us
  }
}
