import http2, { type ClientHttp2Session } from 'node:http2'
import net from 'node:net'
import tls from 'node:tls'
import type { TlsOptions } from './origin-connection.js'
import type { LookupFunction } from './resolve-map.js'
import { splitConnectUs } from './connect-timing.js'
import type { TlsSessionCache } from './tls-session-cache.js'
import { WireSession } from './h2-wire.js'

/** An HTTP/2 connection: Loads' own (h2-wire.ts), or node:http2's with LOADS_HTTP2=node. */
export type H2Session = ClientHttp2Session | WireSession

/**
 * Which HTTP/2 client new connections use: Loads' own framing (h2-wire.ts), unless
 * LOADS_HTTP2=node asks for node:http2, the reference the differential tests compare it with
 * (LOADS_HTTP2=undici: undici's h2, chosen in origin-connection.ts). Read at each connect.
 */
export function h2Backend(): 'wire' | 'node' {
  return process.env['LOADS_HTTP2'] === 'node' ? 'node' : 'wire'
}

/** An error with undici's codes, so `classify-network-error` reads h2 failures as it reads h1's. */
export class H2Error extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'H2Error'
    this.code = code
  }
}

/** Where and how to open one connection for HTTP/2. */
export interface H2ConnectOptions {
  /** `https://host:port` (TLS, ALPN) or `http://host:port` (h2c, prior knowledge). */
  readonly url: URL
  readonly tls: TlsOptions
  readonly lookup: LookupFunction | undefined
  /** 0: no limit. */
  readonly connectTimeoutMs: number
  /** TLS sessions by origin: a reconnect resumes instead of doing a full handshake. */
  readonly tlsSessions: TlsSessionCache
  /** Over TLS, offer http/1.1 beside h2 (the server chooses); false offers h2 only. */
  readonly offerHttp1: boolean
}

/** The outcome of a connect: an h2 session, or a TLS socket on which the server chose HTTP/1.1. */
export type H2ConnectResult =
  | { readonly session: H2Session; readonly http1Socket?: undefined }
  | { readonly session?: undefined; readonly http1Socket: tls.TLSSocket }

/**
 * Opens TCP (and TLS with ALPN) to `options.url` and calls back once: with an h2 session ready
 * for streams, with the socket when the server chose HTTP/1.1, or with the error. `connectUs` is
 * the time from the call to TCP's connect, `tlsUs` the TLS handshake's after it (0 without TLS,
 * or when TCP never connected); failures included: the time lost belongs to the hit.
 */
export function connectH2(options: H2ConnectOptions, callback: (err: Error | null, result: H2ConnectResult | null, connectUs: number, tlsUs: number) => void): void {
  const startMs = performance.now()
  let tcpDoneMs = 0
  const { url } = options
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const secure = url.protocol === 'https:'
  const port = Number(url.port || (secure ? 443 : 80))
  let done = false
  let timer: NodeJS.Timeout | null = null
  const finish = (err: Error | null, result: H2ConnectResult | null): void => {
    if (done) return
    done = true
    if (timer !== null) clearTimeout(timer)
    socket.removeListener('error', onSocketError)
    if (err !== null) socket.destroy()
    callback(err, result, ...splitConnectUs(startMs, tcpDoneMs, performance.now()))
  }
  const onSocketError = (err: Error): void => finish(err, null)

  // The own client reads with `onread` (no Readable stream per socket); node:http2 needs 'data'.
  const reads = h2Backend() === 'wire' ? new ReadRouter() : null
  let socket: net.Socket
  if (secure) {
    const tlsOptions: tls.ConnectionOptions = {
      host,
      port,
      ALPNProtocols: options.offerHttp1 ? ['h2', 'http/1.1'] : ['h2'],
      rejectUnauthorized: options.tls.insecure !== true,
    }
    // SNI takes host names only (RFC 6066), as undici's connector does.
    if (net.isIP(host) === 0) tlsOptions.servername = host
    tlsOptions.secureContext = options.tlsSessions.secureContext(options.tls)
    if (options.lookup !== undefined) tlsOptions.lookup = options.lookup as net.LookupFunction
    const cached = options.tlsSessions.get(url.origin)
    if (cached !== undefined) tlsOptions.session = cached
    if (reads !== null) (tlsOptions as tls.ConnectionOptions & { onread?: net.OnReadOpts }).onread = reads.onread
    const tlsSocket = tls.connect(tlsOptions)
    socket = tlsSocket
    tlsSocket.once('connect', () => (tcpDoneMs = performance.now()))
    tlsSocket.on('session', (session: Buffer) => options.tlsSessions.set(url.origin, session))
    tlsSocket.once('secureConnect', () => {
      tlsSocket.setNoDelay(true)
      if (tlsSocket.alpnProtocol === 'h2') finish(null, { session: startSession(url, tlsSocket, reads) })
      else if (options.offerHttp1) {
        // Its HTTP/1.1 client reads the socket as a stream: what `onread` takes goes back into it.
        reads?.to((chunk) => tlsSocket.push(chunk))
        finish(null, { http1Socket: tlsSocket })
      }
      else finish(new H2Error('UND_ERR_INFO', `${url.host} does not speak HTTP/2 (ALPN answer: ${tlsSocket.alpnProtocol || 'none'})`), null)
    })
  } else {
    const netOptions: net.NetConnectOpts = { host, port, noDelay: true }
    if (options.lookup !== undefined) netOptions.lookup = options.lookup as net.LookupFunction
    if (reads !== null) netOptions.onread = reads.onread
    socket = net.connect(netOptions)
    socket.once('connect', () => finish(null, { session: startSession(url, socket, reads) }))
  }
  socket.on('error', onSocketError)
  if (options.connectTimeoutMs > 0) {
    timer = setTimeout(() => {
      finish(new H2Error('UND_ERR_CONNECT_TIMEOUT', `Connect Timeout Error (attempted address: ${host}:${port}, timeout: ${options.connectTimeoutMs}ms)`), null)
    }, options.connectTimeoutMs)
  }
}

function startSession(url: URL, socket: net.Socket, reads: ReadRouter | null): H2Session {
  if (reads !== null) {
    const session = new WireSession(socket, true)
    reads.to((chunk) => {
      session.receive(chunk)
      return true
    })
    return session
  }
  return http2.connect(url.origin, {
    createConnection: () => socket,
    // Responses of a load test are read at once; a larger window lets big bodies stream.
    settings: { enablePush: false, initialWindowSize: 1 << 20 },
  })
}

/** Where every connection of this thread reads into; each read is copied out at once. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)

/**
 * One connection's reads through `onread` (as H1Connection reads): bytes land in READ_BUFFER and
 * are copied into a Buffer of their own (the session keeps views of them: DATA payloads, a frame
 * split across reads). Reads before the connection has a reader (TLS: application data can come
 * with the end of the handshake) wait for it. The reader returns false to stop reading for now.
 */
class ReadRouter {
  #reader: ((chunk: Buffer) => boolean) | null = null
  #early: Buffer[] | null = null
  readonly onread: net.OnReadOpts = {
    buffer: READ_BUFFER,
    callback: (length: number): boolean => {
      const chunk = Buffer.allocUnsafe(length)
      READ_BUFFER.copy(chunk, 0, 0, length)
      if (this.#reader !== null) return this.#reader(chunk)
      ;(this.#early ??= []).push(chunk)
      return true
    },
  }

  /** From now on reads go to `reader`, those that came before first. */
  to(reader: (chunk: Buffer) => boolean): void {
    this.#reader = reader
    const early = this.#early
    this.#early = null
    if (early !== null) for (const chunk of early) reader(chunk)
  }
}
