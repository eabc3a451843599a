/**
 * A virtual user's WebSocket, on the `ws` package: connect, send, receive and close are promises,
 * and `open` / `message` / `close` / `error` are events too. The handshake is recorded as a hit of
 * method `WS` (status 101 when it opened); messages, their bytes and the close code are recorded
 * per URL name.
 */
import { callSiteFor, withCallSite, type CallSite } from '../http/call-site.js'
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import net from 'node:net'
import tls from 'node:tls'
import type WebSocket from 'ws'
import { networkErrorKind } from '../http/classify-network-error.js'
import type { ConnectionOptions } from '../http/origin-connection.js'
import { pinnedLookup } from '../http/resolve-map.js'
import { splitConnectUs } from '../http/connect-timing.js'
import type { HitSink, WsSink } from '../stats/hit-sink.js'
import { WsError } from './ws-error.js'
import { WsMessage } from './ws-message.js'

/**
 * The `ws` package, loaded (synchronously: it is CommonJS) by the first WebSocket a user opens:
 * every runner and worker thread imports this module through the public API, few tests use it.
 */
let wsClass: typeof WebSocket | undefined
const loadWs = (): typeof WebSocket => (wsClass ??= createRequire(import.meta.url)('ws') as typeof WebSocket)

/** What `this.createWs(url, options)` accepts. */
export interface WsOptions {
  /** Subprotocols offered in `Sec-WebSocket-Protocol`; the server's pick is `client.protocol`. */
  protocols?: string | string[]
  /** Extra headers of the opening handshake (cookies, authorization …). */
  headers?: Record<string, string>
  /** Stats name (default: the URL's path), like a request's `name`. */
  name?: string
  /** ms allowed for the handshake, for each `receive` and for the closing handshake (default: the run's `--timeout`). */
  timeoutMs?: number
}

/** What a client needs from its user: where to record, and how to connect. */
export interface WsUserContext {
  sink: HitSink & WsSink
  connection: ConnectionOptions
  timeoutMs: number
  /** The user's session base URL: relative URLs resolve against it (http → ws, https → wss). */
  baseUrl: string | undefined
  /** The label of the test the user runs now: a call site per test (see http/call-site.ts). */
  currentTest?: () => string | undefined
}

export interface WsEvents {
  open: []
  message: [message: WsMessage]
  close: [code: number, reason: string]
  error: [error: WsError]
}

/** How the socket ended: by us, the peer, or a dropped connection (1006). */
export interface WsClose {
  code: number
  reason: string
}

interface Waiter {
  predicate: ((message: WsMessage) => boolean) | undefined
  resolve: (message: WsMessage) => void
  reject: (error: WsError) => void
  timer: NodeJS.Timeout
}

/** Unread messages kept; past this the oldest go (a test that never reads must not grow memory). */
export const MAX_UNREAD_MESSAGES = 10_000

export class WsClient extends EventEmitter<WsEvents> {
  /** The ws:// or wss:// URL connected to. */
  readonly url: string
  /** The stats name its traffic is recorded under. */
  readonly name: string
  readonly #options: WsOptions
  readonly #context: WsUserContext
  readonly #timeoutMs: number
  #socket: WebSocket | undefined
  #connecting: Promise<this> | undefined
  #opened = false
  #aborted = false
  #closed: WsClose | undefined
  #closing: Promise<WsClose> | undefined
  readonly #unread: WsMessage[] = []
  readonly #waiters: Waiter[] = []

  /** @internal Made by `TestCase.createWs`, which tracks it for the user. */
  constructor(url: string, options: WsOptions, context: WsUserContext) {
    super()
    const target = resolveWsUrl(url, context.baseUrl)
    this.url = target.href
    this.name = options.name ?? target.pathname
    this.#options = options
    this.#context = context
    this.#timeoutMs = options.timeoutMs ?? context.timeoutMs
  }

  /** True between a successful connect and the close. */
  get isOpen(): boolean {
    return this.#opened && this.#closed === undefined
  }

  /** The subprotocol the server chose ('' when none). */
  get protocol(): string {
    return this.#socket?.protocol ?? ''
  }

  /** Set once the connection closed. */
  get closed(): WsClose | undefined {
    return this.#closed
  }

  /**
   * Opens the connection (once: later calls return the same promise). Rejects with a WsError of
   * kind `HANDSHAKE` (with `status`) when the server answers without upgrading, or a network kind
   * (ECONNREFUSED, TIMEOUT, TLS …); either way the handshake was recorded as a hit.
   */
  connect(): Promise<this> {
    this.#connecting ??= this.#open(callSiteFor('WS', this.name, this.connect, this.#context.currentTest?.()))
    return this.#connecting
  }

  /**
   * Sends a text (string) or binary (Buffer, typed array) message; resolves once written. A
   * failure (CLOSED, a network kind) has its stack at the test's line that awaited it.
   */
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView): Promise<void> {
    return atAwaiter(this.#send(data))
  }

  #send(data: string | Buffer | ArrayBuffer | ArrayBufferView): Promise<void> {
    const socket = this.#socket
    if (socket === undefined || !this.isOpen) return Promise.reject(this.#notOpen('send'))
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    return new Promise<void>((resolve, reject) => {
      socket.send(data, (err) => {
        if (err) {
          reject(new WsError(this.#closed !== undefined ? 'CLOSED' : networkErrorKind(err), this.url, `send failed: ${err.message}`, { cause: err }))
        } else {
          this.#context.sink.recordWsMessage(this.name, 'out', bytes)
          resolve()
        }
      })
    })
  }

  /** `send(JSON.stringify(value))`. */
  sendJson(value: unknown): Promise<void> {
    return this.send(JSON.stringify(value))
  }

  /**
   * The next message; or, with a predicate, the next message it accepts (messages before it are
   * skipped). Rejects with kind TIMEOUT after `timeoutMs`, or CLOSED when the connection ends first
   * (closed by either side, or dropped: code 1006) — its stack at the test's line that awaited it.
   */
  receive(options?: { timeoutMs?: number }): Promise<WsMessage>
  receive(predicate: (message: WsMessage) => boolean, options?: { timeoutMs?: number }): Promise<WsMessage>
  receive(
    predicateOrOptions?: ((message: WsMessage) => boolean) | { timeoutMs?: number },
    maybeOptions?: { timeoutMs?: number },
  ): Promise<WsMessage> {
    const predicate = typeof predicateOrOptions === 'function' ? predicateOrOptions : undefined
    const options = typeof predicateOrOptions === 'function' ? maybeOptions : predicateOrOptions
    return atAwaiter(this.#receive(predicate, options))
  }

  #receive(predicate: ((message: WsMessage) => boolean) | undefined, options: { timeoutMs?: number } | undefined): Promise<WsMessage> {
    while (this.#unread.length > 0) {
      const message = this.#unread.shift()!
      if (predicate === undefined || predicate(message)) return Promise.resolve(message)
    }
    if (this.#closed !== undefined || this.#socket === undefined) return Promise.reject(this.#notOpen('receive'))
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs
    return new Promise<WsMessage>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#removeWaiter(waiter)
          reject(new WsError('TIMEOUT', this.url, `no ${predicate ? 'matching ' : ''}message within ${timeoutMs} ms`))
        }, timeoutMs),
      }
      this.#waiters.push(waiter)
    })
  }

  /** Closes with `code` (default 1000) and waits for the server's close frame (or the timeout). */
  close(code = 1000, reason = ''): Promise<WsClose> {
    if (this.#closed !== undefined) return Promise.resolve(this.#closed)
    const socket = this.#socket
    if (socket === undefined) {
      this.#closed = { code, reason }
      return Promise.resolve(this.#closed)
    }
    this.#closing ??= new Promise<WsClose>((resolve) => {
      socket.once('close', () => resolve(this.#closed ?? { code, reason }))
      if (socket.readyState === socket.CONNECTING) {
        this.#aborted = true
        socket.terminate()
      } else {
        socket.close(code, reason)
      }
    })
    return this.#closing
  }

  /** @internal Drops the connection at once (the run was stopped): pending calls reject with ABORTED. */
  terminate(): void {
    if (this.#socket === undefined || this.#closed !== undefined) return
    this.#aborted = true
    this.#socket.terminate()
  }

  /** @param site where the test asked to connect: a failed handshake's stack points there. */
  #open(site: CallSite | undefined): Promise<this> {
    const ctx = this.#context
    const conn = ctx.connection
    const url = new URL(this.url)
    const secure = url.protocol === 'wss:'
    const port = Number(url.port || (secure ? 443 : 80))
    const lookup = pinnedLookup(conn.resolve, url.hostname, port)
    const startMs = performance.now()
    let connectUs = 0
    let tlsUs = 0
    let connectStart = 0
    let tcpDone = 0
    const timeConnect = (): void => {
      ;[connectUs, tlsUs] = splitConnectUs(connectStart, tcpDone, performance.now())
    }
    const createConnection = (options: tls.ConnectionOptions & net.NetConnectOpts): net.Socket => {
      connectStart = performance.now()
      let socket: net.Socket
      if (secure) {
        // As ws does: SNI is the host name, never an IP address.
        const servername = options.servername ?? (net.isIP(String(options.host)) ? '' : String(options.host))
        socket = tls.connect({ ...options, path: undefined, servername } as tls.ConnectionOptions)
      } else {
        socket = net.connect(options)
      }
      if (secure) socket.once('connect', () => (tcpDone = performance.now()))
      socket.once(secure ? 'secureConnect' : 'connect', timeConnect)
      return socket
    }
    // closeTimeout (ws ≥ 8.18) bounds the closing handshake; @types/ws does not know it yet.
    const options: WebSocket.ClientOptions & { closeTimeout: number } = {
      headers: this.#options.headers ?? {},
      handshakeTimeout: this.#timeoutMs,
      closeTimeout: this.#timeoutMs,
      followRedirects: false,
      rejectUnauthorized: conn.insecure !== true,
      ...(conn.ca !== undefined ? { ca: conn.ca } : {}),
      ...(conn.cert !== undefined ? { cert: conn.cert } : {}),
      ...(conn.key !== undefined ? { key: conn.key } : {}),
      ...(lookup !== undefined ? { lookup: lookup as unknown as net.LookupFunction } : {}),
      createConnection: createConnection as never,
    }
    const socket = new (loadWs())(this.url, this.#options.protocols ?? [], options)
    this.#socket = socket
    const elapsedUs = (): number => Math.max(1, Math.round((performance.now() - startMs) * 1000))
    return new Promise<this>((resolve, reject) => {
      let status = 0
      let settled = false
      socket.once('unexpected-response', (_req, res) => {
        status = res.statusCode ?? 0
        res.resume()
        // terminate() aborts the request and emits the error that settles connect() below.
        socket.terminate()
      })
      socket.once('open', () => {
        settled = true
        this.#opened = true
        const us = elapsedUs()
        ctx.sink.recordHit('WS', this.name, 101, us, us, connectUs, 0, 0, null, false, undefined, tlsUs)
        this.#listen(socket)
        resolve(this)
        this.emit('open')
      })
      socket.on('error', (err) => {
        if (this.#opened || settled) {
          if (this.listenerCount('error') > 0) this.emit('error', new WsError(networkErrorKind(err), this.url, err.message, { cause: err }))
          return
        }
        const us = elapsedUs()
        let error: WsError
        if (status !== 0) {
          ctx.sink.recordHit('WS', this.name, status, us, us, connectUs, 0, 0, null, undefined, undefined, tlsUs)
          error = new WsError('HANDSHAKE', this.url, `the server answered ${status} instead of switching protocols (101)`, { status })
        } else {
          // As for HTTP: the time lost trying to connect belongs to the failed handshake.
          if (connectUs === 0 && connectStart > 0) timeConnect()
          const kind = this.#aborted ? 'ABORTED' : /handshake has timed out/i.test(err.message) ? 'TIMEOUT' : handshakeKind(err)
          ctx.sink.recordHit('WS', this.name, 0, us, 0, connectUs, 0, 0, kind, undefined, undefined, tlsUs)
          error = new WsError(kind, this.url, `could not open: ${err.message}`, { cause: err })
        }
        settled = true
        this.#closed = { code: 1006, reason: '' }
        reject(withCallSite(error, site))
        if (this.listenerCount('error') > 0) this.emit('error', error)
        // As a browser's WebSocket does; no close code is recorded for a connection never opened.
        this.emit('close', 1006, '')
      })
    })
  }

  #listen(socket: WebSocket): void {
    socket.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
      this.#context.sink.recordWsMessage(this.name, 'in', buffer.length)
      const message = new WsMessage(buffer, isBinary)
      this.emit('message', message)
      this.#deliver(message)
    })
    socket.once('close', (code, reason) => {
      this.#closed = { code, reason: reason.toString('utf8') }
      this.#context.sink.recordWsClose(this.name, code)
      const error = this.#aborted ? new WsError('ABORTED', this.url, 'the connection was dropped: the run was stopped') : this.#notOpen('receive')
      for (const waiter of this.#waiters.splice(0)) {
        clearTimeout(waiter.timer)
        waiter.reject(error)
      }
      this.emit('close', code, this.#closed.reason)
    })
  }

  #deliver(message: WsMessage): void {
    for (const waiter of this.#waiters) {
      if (waiter.predicate !== undefined && !waiter.predicate(message)) continue
      this.#removeWaiter(waiter)
      waiter.resolve(message)
      return
    }
    // Waiting only for other messages: this one is skipped, as `receive(predicate)` says.
    if (this.#waiters.length > 0) return
    if (this.#unread.length >= MAX_UNREAD_MESSAGES) this.#unread.shift()
    this.#unread.push(message)
  }

  #removeWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer)
    const i = this.#waiters.indexOf(waiter)
    if (i >= 0) this.#waiters.splice(i, 1)
  }

  #notOpen(what: string): WsError {
    if (this.#closed !== undefined) {
      return new WsError('CLOSED', this.url, `cannot ${what}: the connection closed (code ${this.#closed.code}${this.#closed.reason ? `, ${this.#closed.reason}` : ''})`)
    }
    return new WsError('NOT_OPEN', this.url, `cannot ${what} before connect() has resolved`)
  }
}

/**
 * `work`, awaited here so that its failure gets the frames of the test that awaits this call:
 * a timer or a socket event raises it, with no user frame on its stack, but once this async
 * function resumes, V8's async stack traces know who awaits it (`at async Chat.test_chat
 * (chat.ts:12:7)`). Free until something fails — no stack is captured per call (cf. the HTTP
 * path's once-per-name call sites, call-site.ts) — and exact per line. A test that does not
 * await (`.then`) gets no user frame.
 */
async function atAwaiter<T>(work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (err) {
    if (err instanceof WsError) Error.captureStackTrace(err, atAwaiter)
    throw err
  }
}

/** ws:// and wss:// as given; http(s):// and relative URLs (against the session's base) mapped to ws(s)://. */
export function resolveWsUrl(url: string, baseUrl: string | undefined): URL {
  let parsed: URL
  try {
    parsed = new URL(url, baseUrl)
  } catch {
    throw new WsError('INVALID_URL', url, baseUrl === undefined ? 'a relative WebSocket URL needs a base: set static serverUrl or pass --server-url' : `invalid WebSocket URL against '${baseUrl}'`)
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:'
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:'
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new WsError('INVALID_URL', url, `unsupported WebSocket URL scheme '${parsed.protocol}'`)
  parsed.hash = ''
  return parsed
}

/** Handshake failures without an errno (bad Sec-WebSocket-Accept, invalid Upgrade …) are protocol errors. */
function handshakeKind(err: Error): string {
  const kind = networkErrorKind(err)
  return kind === 'UNKNOWN' ? 'PROTOCOL' : kind
}
