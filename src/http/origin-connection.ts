import type net from 'node:net'
import { createRequire } from 'node:module'
import { TLSSocket } from 'node:tls'
import type { Client, buildConnector, Dispatcher } from 'undici'
import { ConnectionShare } from './connection-share.js'
import { Utf8HeadersClient } from './header-values.js'
import { H1Connection } from './h1-connection.js'
import { H2Connection } from './h2-connection.js'
import { openTlsSocket } from './tls-connect.js'
import { splitConnectUs } from './connect-timing.js'
import { pinnedLookup, type LookupFunction, type ResolveMap } from './resolve-map.js'

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

/** `https:` HTTP/1.1 goes through H1Connection over TLS too, unless LOADS_HTTPS1=undici. */
const FAST_TLS_H1 = process.env['LOADS_HTTPS1'] !== 'undici'

/** HTTP/2 goes through H2Connection (own framing, or node:http2 with LOADS_HTTP2=node) unless LOADS_HTTP2=undici asks for undici's h2. */
const FAST_H2 = process.env['LOADS_HTTP2'] !== 'undici'

/**
 * undici, loaded (synchronously: it is CommonJS) the first time a connection needs its Client:
 * only LOADS_HTTP1/LOADS_HTTPS1/LOADS_HTTP2=undici and HTTP/1.1 chosen by an HTTP/2 server's ALPN
 * do. Its ~110 modules cost every runner and every worker thread ~0.1-0.3 CPU-s at start-up.
 */
let undici: typeof import('undici') | undefined
const loadUndici = (): typeof import('undici') => (undici ??= createRequire(import.meta.url)('undici') as typeof import('undici'))

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
  /** Speak HTTP/2 without TLS to http:// origins, by prior knowledge (`--h2c`). */
  h2c?: boolean
  /**
   * What the users of a worker share: TLS sessions, HTTP/2 connections (`--h2-streams`), TLS
   * connectors. Without it each session keeps its own.
   */
  share?: ConnectionShare
  /** `--resolve`: `host:port` → address to connect to instead of asking DNS. */
  resolve?: ResolveMap
}

/**
 * One virtual user's keep-alive connection to one origin, like a browser tab's: a single undici
 * Client with pipelining 1, so the user's requests to that origin go one at a time over one socket
 * that is reopened only when the server closes it.
 *
 * It also measures connects honestly: the time from asking for a socket to TCP's connect, and
 * apart from it the TLS handshake for https, are known and handed to the first request that runs
 * on the new socket.
 */
export class OriginConnection {
  readonly client: ConnectionClient
  #pendingConnectUs = 0
  #pendingTlsUs = 0

  /**
   * @param connectTimeoutMs how long to wait for TCP+TLS before failing with TIMEOUT.
   * @param onStrayBytes hears each connection dropped because the server sent bytes no request
   *   asked for (the http:// transport; undici drops such connections silently).
   */
  constructor(origin: string, tls: ConnectionOptions, connectTimeoutMs: number, onStrayBytes?: () => void) {
    const url = new URL(origin)
    const secure = url.protocol === 'https:'
    const lookup = pinnedLookup(tls.resolve, url.hostname.replace(/^\[(.*)\]$/, '$1'), Number(url.port || (secure ? 443 : 80)))
    const share = tls.share ?? new ConnectionShare()
    if ((secure && tls.http2 === true && FAST_H2) || (!secure && tls.h2c === true)) {
      const links = share.h2Links
      const link = links.acquire({ url, tls, lookup, connectTimeoutMs, tlsSessions: share.tlsSessions, offerHttp1: secure })
      const onConnected = (us: number, tlsUs: number): void => {
        this.#pendingConnectUs = us
        this.#pendingTlsUs = tlsUs
      }
      this.client = new H2Connection(url, links, link, onConnected, (socket) => new Utf8HeadersClient(this.#undiciClient(origin, tls, connectTimeoutMs, share, lookup, socket)))
      return
    }
    if (FAST_H1 && (!secure || FAST_TLS_H1)) {
      const openTls = secure ? (onread: net.OnReadOpts) => openTlsSocket(url, tls, lookup, share.tlsSessions, onread) : undefined
      this.client = new H1Connection(origin, connectTimeoutMs, lookup, (us, tlsUs) => {
        this.#pendingConnectUs = us
        this.#pendingTlsUs = tlsUs
      }, onStrayBytes, openTls)
      return
    }
    this.client = new Utf8HeadersClient(this.#undiciClient(origin, tls, connectTimeoutMs, share, lookup, undefined))
  }

  /**
   * undici's Client for `origin`, on the share's connector (its TLS session cache serves every
   * user). `handed`: a TLS socket already open on which the server chose HTTP/1.1 — used first.
   */
  #undiciClient(origin: string, tls: ConnectionOptions, connectTimeoutMs: number, share: ConnectionShare, lookup: LookupFunction | undefined, handed: TLSSocket | undefined): Client {
    let connect = share.connectors.get(origin)
    if (connect === undefined) {
      const options: buildConnector.BuildOptions = {
        timeout: connectTimeoutMs,
        rejectUnauthorized: tls.insecure !== true,
      }
      if (tls.http2 === true) options.allowH2 = true
      if (lookup !== undefined) (options as { lookup?: unknown }).lookup = lookup
      if (tls.ca !== undefined) options.ca = tls.ca
      if (tls.cert !== undefined) options.cert = tls.cert
      if (tls.key !== undefined) options.key = tls.key
      connect = loadUndici().buildConnector(options)
      share.connectors.set(origin, connect)
    }
    const connector = connect
    let socket = handed
    return new (loadUndici().Client)(origin, {
      pipelining: 1,
      ...(tls.http2 === true ? { allowH2: true } : {}),
      connect: (connectOptions, callback) => {
        if (socket !== undefined) {
          const open = socket
          socket = undefined
          // undici expects its connector to answer asynchronously.
          process.nextTick(callback, null, open)
          return
        }
        const startMs = performance.now()
        let tcpDoneMs = 0
        // undici's connector returns the socket it opens (its type says void): TCP's connect on
        // a TLS socket marks where the handshake starts.
        const opening = connector(connectOptions, (err, connected) => {
          // Set on failure too: the time lost trying to connect belongs to the failed hit.
          ;[this.#pendingConnectUs, this.#pendingTlsUs] = splitConnectUs(startMs, tcpDoneMs, performance.now())
          if (err === null) callback(null, connected)
          else callback((err as Error & { code?: string }).code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? new HostnameMismatchError(err) : err, null)
        }) as unknown
        if (opening instanceof TLSSocket) opening.once('connect', () => (tcpDoneMs = performance.now()))
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

  /** µs of the TLS handshake of the connection `takeConnectUs` handed out last; 0 without one. Call it right after. */
  takeTlsUs(): number {
    const us = this.#pendingTlsUs
    this.#pendingTlsUs = 0
    return us
  }
}

/**
 * A certificate whose names do not match the host, under another code: undici's Client (7.x)
 * handles ERR_TLS_CERT_ALTNAME_INVALID apart, failing the queued requests without counting them
 * done, so the next request and `close()` wait forever. Under this code the failure takes
 * undici's ordinary path; its kind is still TLS (classify-network-error: `ERR_TLS_` codes).
 */
class HostnameMismatchError extends Error {
  readonly code = 'ERR_TLS_HOSTNAME_MISMATCH'
  constructor(cause: Error) {
    super(cause.message, { cause })
    this.name = 'HostnameMismatchError'
  }
}
