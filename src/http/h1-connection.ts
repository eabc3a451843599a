import net from 'node:net'
import type { Dispatcher } from 'undici'
import { H1Error } from './h1-error.js'
import { H1ResponseParser, type ResponseEvents } from './h1-response-parser.js'
import { ACCEPTS_HEAD_SPANS, type RawHeadSpans } from './raw-headers.js'
import { FORBIDDEN_IN_VALUE, forbiddenValueError, utf8AsLatin1 } from './header-values.js'
import type { LookupFunction } from './resolve-map.js'
import { splitConnectUs } from './connect-timing.js'

/**
 * One keep-alive HTTP/1.1 connection for `http:` origins, driven through undici's dispatch API
 * (`dispatch(options, handler)` with the onConnect / onHeaders / onData / onComplete / onError
 * handler that `Exchange` implements), so the session cannot tell it from an undici Client.
 *
 * It exists for speed: undici's Client validates and re-serialises every request's headers,
 * copies each response header into a Buffer of its own, and runs its parser in WebAssembly
 * behind a stream; profiles of a load test spent more time there than in everything else.
 * Here a request head is built and validated once per distinct dispatch-options object (a
 * session reuses one per URL while its headers do not change) and written as one Buffer, and the
 * response is parsed in place: header lines are offsets into the bytes received (RawHeadSpans),
 * cut into Buffers only if something reads them.
 *
 * Scope: one request at a time (pipelining 1, further requests queue), Buffer or no body,
 * content-length, chunked and read-until-close bodies, 1xx responses skipped. https:// over
 * a TLS socket opened by tls-connect.ts; HTTP/2 goes through H2Connection (see OriginConnection). Failures carry undici's error codes, so
 * `classify-network-error` reads them the same way.
 */
export class H1Connection {
  readonly #hostname: string
  readonly #port: number
  /** `host: …\r\n`, as undici writes it when the request has no host header of its own. */
  readonly #hostHeader: string
  readonly #connectTimeoutMs: number
  readonly #lookup: LookupFunction | undefined
  readonly #onConnected: (connectUs: number, tlsUs: number) => void
  readonly #openTls: ((onread: net.OnReadOpts) => net.Socket) | undefined
  readonly #onStrayBytes: () => void

  #socket: net.Socket | null = null
  #connectTimer: NodeJS.Timeout | null = null
  #connectStartMs = 0
  /** When TCP connected under a TLS socket (its handshake starts then); 0 before. */
  #tcpDoneMs = 0
  #connecting = false
  readonly #queue: Pending[] = []
  #current: Pending | null = null
  #destroyed = false
  #closing: (() => void) | null = null
  #closed = false
  /**
   * A response just completed on this (kept) socket and the event loop has not polled since:
   * the next request waits for that poll, so bytes the server sent after the response are seen
   * (and the connection dropped) before a request they could be taken for is written.
   */
  #settling = false
  /**
   * The server once sent stray bytes on this origin: from then on the connection is closed after
   * every response, so bytes it sends after one can never be taken for the next (a request whose
   * stray bytes arrive after the next request was written cannot be told from its response).
   */
  #distrust = false

  /** The response to the request on the wire; events go to `#current`'s handler. */
  readonly #parser: H1ResponseParser
  /** A request is on the wire and its response not yet whole. */
  #awaiting = false
  /** [options, prepared, options, prepared …], most recent last. */
  readonly #recent: Array<Dispatcher.DispatchOptions | PreparedRequest> = []
  readonly #abort = (reason?: Error): void => this.#fail(reason ?? new H1Error('UND_ERR_ABORTED', 'Request aborted'), true)

  /**
   * @param onConnected  hears the µs each connect took (failed ones included): TCP, and apart
   *   from it the TLS handshake for `https:` (0 for plain TCP, or when TCP never connected)
   * @param onStrayBytes hears each time the socket is dropped because the server sent bytes no
   *   request asked for
   * @param openTls      for `https:` origins: opens the TLS socket (see tls-connect.ts) with the
   *   given `onread`, so its decrypted bytes take the same path as plain ones; requests go out once
   *   the handshake is done
   */
  constructor(
    origin: string,
    connectTimeoutMs: number,
    lookup: LookupFunction | undefined,
    onConnected: (connectUs: number, tlsUs: number) => void,
    onStrayBytes: () => void = () => {},
    openTls?: (onread: net.OnReadOpts) => net.Socket,
  ) {
    const url = new URL(origin)
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.#port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    this.#openTls = openTls
    this.#hostHeader = `host: ${url.host}\r\n`
    this.#connectTimeoutMs = connectTimeoutMs
    this.#lookup = lookup
    this.#onConnected = onConnected
    this.#onStrayBytes = onStrayBytes
    this.#parser = new H1ResponseParser(this.#events)
  }

  /** Where the parser's events go: the handler of the request on the wire. */
  readonly #events: ResponseEvents = {
    onHead: (status: number, reason: string, head: RawHeadSpans): boolean => {
      const pending = this.#current!
      const handler = pending.handler as Dispatcher.DispatchHandler & { [ACCEPTS_HEAD_SPANS]?: boolean }
      const rawHeaders = handler[ACCEPTS_HEAD_SPANS] === true ? (head as unknown as Buffer[]) : head.list
      handler.onHeaders?.(status, rawHeaders, RESUME, reason)
      return this.#current === pending
    },
    onBody: (chunk: Buffer): boolean => {
      const pending = this.#current!
      pending.handler.onData?.(chunk)
      return this.#current === pending
    },
  }

  /** Queues a request; the handler hears everything, failures included (never a throw). */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#destroyed || this.#closed) {
      handler.onError?.(new H1Error(this.#destroyed ? 'UND_ERR_DESTROYED' : 'UND_ERR_CLOSED', this.#destroyed ? 'The client is destroyed' : 'The client is closed'))
      return false
    }
    let prepared: PreparedRequest
    try {
      prepared = this.#prepare(options)
    } catch (err) {
      handler.onError?.(err as Error)
      return false
    }
    this.#queue.push({ handler, prepared, sent: false })
    if (this.#current === null) this.#next()
    return true
  }

  /** Ends the connection once queued and in-flight requests are done. */
  close(): Promise<void> {
    this.#closed = true
    if (this.#current === null && this.#queue.length === 0) {
      this.#dropSocket()
      return Promise.resolve()
    }
    return new Promise((resolve) => (this.#closing = resolve))
  }

  /** Fails the in-flight and queued requests with `err` and closes the socket now. */
  destroy(err?: Error): Promise<void> {
    this.#destroyed = true
    const reason = err ?? new H1Error('UND_ERR_DESTROYED', 'The client is destroyed')
    const queued = this.#queue.splice(0)
    if (this.#current !== null) this.#fail(reason, true)
    for (const pending of queued) pending.handler.onError?.(reason)
    this.#dropSocket()
    this.#settleClose()
    return Promise.resolve()
  }

  /**
   * The head for `options`, built once per options object: a session hands the same object for
   * every request to a URL while nothing changes. A few recent ones are kept, per connection.
   */
  #prepare(options: Dispatcher.DispatchOptions): PreparedRequest {
    const recent = this.#recent
    for (let i = 0; i < recent.length; i += 2) {
      if (recent[i] === options) return recent[i + 1] as PreparedRequest
    }
    const prepared = build(options, this.#hostHeader)
    if (recent.length >= RECENT_HEADS * 2) recent.splice(0, 2)
    recent.push(options, prepared)
    return prepared
  }

  #next(): void {
    if (this.#destroyed) return
    const pending = this.#queue.shift()
    if (pending === undefined) {
      if (this.#closed) {
        this.#dropSocket()
        this.#settleClose()
      }
      return
    }
    this.#current = pending
    if (this.#socket === null) this.#connect()
    else if (!this.#settling) this.#write(pending)
    // else: written by `quietTurnPassed`.
  }

  /** @internal The event loop polled since the last response completed: the socket may be reused. */
  quietTurnPassed(): void {
    this.#settling = false
    const pending = this.#current
    if (pending === null || pending.sent || this.#destroyed) return
    if (this.#socket === null) this.#connect()
    else if (!this.#connecting) this.#write(pending)
  }

  /**
   * The server sent bytes no request asked for: the connection is out of step, so it is
   * dropped (and counted); a request waiting to be written goes on a new one.
   */
  #dropStray(): void {
    this.#distrust = true
    this.#dropSocket()
    this.#onStrayBytes()
    const pending = this.#current
    if (pending !== null && !pending.sent && !this.#settling && !this.#destroyed) this.#connect()
  }

  #connect(): void {
    this.#connectStartMs = performance.now()
    this.#connecting = true
    // Reads land in one shared buffer and skip the Readable stream ('data' events); the bytes
    // are copied out at once (responses keep views of them). TLS sockets take the same option
    // (tls.connect's `onread`): their decrypted bytes arrive here too.
    const onread: net.OnReadOpts = {
      buffer: READ_BUFFER,
      callback: (length: number): boolean => {
        if (this.#socket === socket) {
          // From Buffer's pool: a kept response pins at most its share of an 8 kB slab.
          const chunk = Buffer.allocUnsafe(length)
          READ_BUFFER.copy(chunk, 0, 0, length)
          this.#onData(chunk)
        }
        return true
      },
    }
    let socket: net.Socket
    if (this.#openTls === undefined) {
      const options: net.NetConnectOpts = { host: this.#hostname, port: this.#port, noDelay: true, onread }
      if (this.#lookup !== undefined) options.lookup = this.#lookup as net.LookupFunction
      socket = net.connect(options)
    } else {
      socket = this.#openTls(onread)
    }
    this.#socket = socket
    socket.on('end', () => {
      if (this.#socket === socket) this.#onEnd(null)
    })
    socket.on('error', (err) => {
      if (this.#socket === socket) this.#onEnd(err)
    })
    socket.on('close', () => {
      if (this.#socket === socket) this.#onEnd(null)
    })
    this.#tcpDoneMs = 0
    if (this.#openTls !== undefined) socket.once('connect', () => {
        if (this.#socket === socket) this.#tcpDoneMs = performance.now()
      })
    socket.once(this.#openTls === undefined ? 'connect' : 'secureConnect', () => {
      this.#clearConnectTimer()
      this.#connecting = false
      this.#reportConnect()
      if (this.#current !== null && !this.#current.sent) this.#write(this.#current)
    })
    if (this.#connectTimeoutMs > 0) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = null
        if (this.#socket === socket) this.#onEnd(new H1Error('UND_ERR_CONNECT_TIMEOUT', `Connect Timeout Error (attempted address: ${this.#hostname}:${this.#port}, timeout: ${this.#connectTimeoutMs}ms)`))
      }, this.#connectTimeoutMs)
    }
  }

  /** Hands the connect's TCP and TLS times (to now) to the session. */
  #reportConnect(): void {
    const [connectUs, tlsUs] = splitConnectUs(this.#connectStartMs, this.#tcpDoneMs, performance.now())
    this.#onConnected(connectUs, tlsUs)
  }

  #write(pending: Pending): void {
    const socket = this.#socket!
    pending.sent = true
    this.#awaiting = true
    this.#parser.start(pending.prepared.method === 'HEAD')
    pending.handler.onConnect?.(this.#abort)
    if (this.#current !== pending) return // aborted from onConnect
    const { head, body } = pending.prepared
    if (body === null) {
      socket.write(head)
    } else {
      socket.cork()
      socket.write(head)
      socket.write(body)
      socket.uncork()
    }
  }

  #onData(chunk: Buffer): void {
    const pending = this.#current
    if (pending === null || !this.#awaiting) {
      // Bytes nobody asked for: the connection can no longer be trusted.
      this.#dropStray()
      return
    }
    const leftover = this.#parser.execute(chunk)
    if (leftover < 0) {
      const error = this.#parser.error
      if (error !== null) this.#fail(error, true)
      return // else the request was failed or aborted from its handler
    }
    if (this.#parser.complete) this.#complete(pending, leftover)
  }

  /**
   * The response to `pending` is whole. `leftover` bytes followed it in the same read: nothing
   * asked for them, so the connection is out of step and dropped (the response itself stands).
   */
  #complete(pending: Pending, leftover: number): void {
    this.#awaiting = false
    this.#current = null
    if (!this.#parser.keepAlive || pending.prepared.reset) this.#dropSocket()
    else if (leftover === 0 && this.#distrust) this.#dropSocket()
    else if (leftover > 0) this.#dropStray()
    else if (this.#socket !== null) {
      this.#settling = true
      awaitQuietTurn(this)
    }
    pending.handler.onComplete?.([])
    if (this.#current === null) this.#next()
  }

  /** The socket ended, closed or failed. */
  #onEnd(err: Error | null): void {
    const wasOpen = this.#socket !== null && !this.#connecting
    if (this.#connecting) {
      // The time lost trying to connect belongs to the failed hit.
      this.#connecting = false
      this.#reportConnect()
    }
    const pending = this.#current
    if (pending !== null && pending.sent && this.#awaiting && err === null && this.#parser.finish()) {
      this.#socket = null
      this.#complete(pending, 0)
      return
    }
    this.#dropSocket()
    if (pending === null) return
    if (!pending.sent && wasOpen && !this.#settling) {
      // The server closed a kept connection before the waiting request was written: reconnect.
      this.#connect()
      return
    }
    const reason = err ?? new H1Error('UND_ERR_SOCKET', 'other side closed')
    this.#fail(reason, false)
  }

  /** Fails the current request; the connection is dropped (the next request reconnects). */
  #fail(err: Error, dropSocket: boolean): void {
    const pending = this.#current
    if (pending === null) return
    this.#current = null
    this.#awaiting = false
    if (dropSocket) this.#dropSocket()
    pending.handler.onError?.(err)
    if (this.#current === null) this.#next()
  }

  #dropSocket(): void {
    this.#clearConnectTimer()
    const socket = this.#socket
    if (socket === null) return
    this.#socket = null
    socket.destroy()
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) {
      clearTimeout(this.#connectTimer)
      this.#connectTimer = null
    }
  }

  #settleClose(): void {
    const resolve = this.#closing
    this.#closing = null
    resolve?.()
  }
}

export { H1Error }

interface Pending {
  readonly handler: Dispatcher.DispatchHandler
  readonly prepared: PreparedRequest
  sent: boolean
}

/** A request head ready for the wire, with what the response parser needs to know. */
interface PreparedRequest {
  readonly method: string
  readonly head: Buffer
  readonly body: Buffer | null
  /** Close the connection after this exchange (the request said `connection: close`). */
  readonly reset: boolean
}

/** Where every connection of this thread reads into (callbacks copy out synchronously). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)

/** Reading is never paused (the body is collected whole), so resuming has nothing to do. */
const RESUME = (): void => {}

/** Encoded heads a connection keeps for reuse (a user alternating between a few URLs). */
const RECENT_HEADS = 4

const METHODS_WITH_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH'])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const INVALID_PATH = /[^\u0021-\u00ff]/

/** What undici's Request does with the options, minus the features this client leaves to undici. */
function build(options: Dispatcher.DispatchOptions, defaultHostHeader: string): PreparedRequest {
  const { method, path } = options
  if (typeof path !== 'string' || (path[0] !== '/' && !path.startsWith('http://') && !path.startsWith('https://'))) {
    throw invalidArg('path must be an absolute URL or start with a slash')
  }
  if (INVALID_PATH.test(path)) throw invalidArg('invalid request path')
  if (typeof method !== 'string' || !TOKEN.test(method)) throw invalidArg('invalid request method')
  const body = toBody(options.body)
  let hostHeader = defaultHostHeader
  let reset = false
  let lengthless = false
  let lines = ''
  const add = (name: string, value: unknown): void => {
    const values = Array.isArray(value) ? value : [value]
    const lower = name.toLowerCase()
    if (!TOKEN.test(name)) throw invalidArg('invalid header key')
    for (const v of values) {
      const given = v === null ? '' : typeof v === 'object' ? null : `${v as string}`
      if (given === null) throw invalidArg(`invalid ${name} header`)
      if (FORBIDDEN_IN_VALUE.test(given)) throw invalidArg(forbiddenValueError(name).message)
      const text = utf8AsLatin1(given)
      if (lower === 'host') hostHeader = `host: ${text}\r\n`
      else if (lower === 'content-length') {
        // Computed from the body, as undici does; an empty one (a caller's null) means none at all.
        if (text === '') lengthless = true
        continue
      }
      else if (lower === 'transfer-encoding' || lower === 'keep-alive' || lower === 'upgrade') throw invalidArg(`invalid ${lower} header`)
      else if (lower === 'expect') throw new H1Error('UND_ERR_NOT_SUPPORTED', 'expect header not supported')
      else if (lower === 'connection') {
        if (text.toLowerCase().split(',').some((t) => t.trim() === 'close')) reset = true
      } else lines += `${name}: ${text}\r\n`
    }
  }
  const headers = options.headers
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1])
  } else if (headers !== null && headers !== undefined) {
    if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const [name, value] of headers as Iterable<[string, string]>) add(name, value)
    } else {
      const record = headers as Record<string, unknown>
      for (const name of Object.keys(record)) if (record[name] !== undefined) add(name, record[name])
    }
  }
  // A body on GET or DELETE is framed by its content-length like any other: the connection stays
  // in step, so it is kept (curl and browsers keep it too).
  const expectsPayload = METHODS_WITH_PAYLOAD.has(method)
  let head = `${method} ${path} HTTP/1.1\r\n${hostHeader}${reset ? 'connection: close\r\n' : 'connection: keep-alive\r\n'}${lines}`
  if (body !== null) head += `content-length: ${body.length}\r\n`
  else if (expectsPayload && !lengthless) head += 'content-length: 0\r\n'
  head += '\r\n'
  return {
    method,
    head: Buffer.from(head, 'latin1'),
    body,
    reset,
  }
}

function toBody(body: Dispatcher.DispatchOptions['body']): Buffer | null {
  if (body === null || body === undefined) return null
  if (typeof body === 'string') return body.length === 0 ? null : Buffer.from(body, 'utf8')
  if (body instanceof Uint8Array) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    return buf.length === 0 ? null : buf
  }
  throw invalidArg('body must be a string or a Buffer on this connection')
}

function invalidArg(message: string): H1Error {
  return new H1Error('UND_ERR_INVALID_ARG', message)
}


/**
 * Connections whose response completed in this turn of the event loop, and those waiting for
 * the next turn's poll phase: an immediate queued in the poll phase runs in this turn's check
 * phase, and one queued there runs in the next turn's, after its poll has read every socket.
 */
let completedThisTurn: H1Connection[] = []
let awaitingPoll: H1Connection[] = []
let quietScheduled = false

function awaitQuietTurn(connection: H1Connection): void {
  completedThisTurn.push(connection)
  if (!quietScheduled) {
    quietScheduled = true
    setImmediate(afterThisTurn)
  }
}

function afterThisTurn(): void {
  const batch = completedThisTurn
  completedThisTurn = awaitingPoll
  awaitingPoll = batch
  setImmediate(afterNextPoll)
}

function afterNextPoll(): void {
  quietScheduled = false
  const batch = awaitingPoll
  awaitingPoll = []
  for (const connection of batch) connection.quietTurnPassed()
  if (completedThisTurn.length > 0) {
    quietScheduled = true
    setImmediate(afterThisTurn)
  }
}
