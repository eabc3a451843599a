import net from 'node:net'
import type { Dispatcher } from 'undici'
import { ACCEPTS_HEAD_SPANS, RawHeadSpans } from './raw-headers.js'
import type { LookupFunction } from './resolve-map.js'

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
 * content-length, chunked and read-until-close bodies, 1xx responses skipped. https:// and
 * HTTP/2 go through undici (see OriginConnection). Failures carry undici's error codes, so
 * `classify-network-error` reads them the same way.
 */
export class H1Connection {
  readonly #hostname: string
  readonly #port: number
  /** `host: …\r\n`, as undici writes it when the request has no host header of its own. */
  readonly #hostHeader: string
  readonly #connectTimeoutMs: number
  readonly #lookup: LookupFunction | undefined
  readonly #onConnected: (connectUs: number) => void

  #socket: net.Socket | null = null
  #connectTimer: NodeJS.Timeout | null = null
  #connectStartMs = 0
  #connecting = false
  readonly #queue: Pending[] = []
  #current: Pending | null = null
  #destroyed = false
  #closing: (() => void) | null = null
  #closed = false

  // Response parsing state of the current request.
  #state = State.Idle
  /** Bytes of an incomplete response head (or chunk-size line) kept until the rest arrives. */
  #partial: Buffer | null = null
  #remaining = 0
  #keepAlive = true
  /** Coarse clock (see `sweep`) when the current request last made progress. */
  #progressTick = 0
  /** [options, prepared, options, prepared …], most recent last. */
  readonly #recent: Array<Dispatcher.DispatchOptions | PreparedRequest> = []
  readonly #abort = (reason?: Error): void => this.#fail(reason ?? new H1Error('UND_ERR_ABORTED', 'Request aborted'), true)

  constructor(origin: string, connectTimeoutMs: number, lookup: LookupFunction | undefined, onConnected: (connectUs: number) => void) {
    const url = new URL(origin)
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.#port = Number(url.port || 80)
    this.#hostHeader = `host: ${url.host}\r\n`
    this.#connectTimeoutMs = connectTimeoutMs
    this.#lookup = lookup
    this.#onConnected = onConnected
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
    else this.#write(pending)
  }

  #connect(): void {
    this.#connectStartMs = performance.now()
    this.#connecting = true
    const options: net.NetConnectOpts = {
      host: this.#hostname,
      port: this.#port,
      noDelay: true,
      // Reads land in one shared buffer and skip the Readable stream ('data' events); the bytes
      // are copied out at once (responses keep views of them).
      onread: {
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
      },
    }
    if (this.#lookup !== undefined) options.lookup = this.#lookup as net.LookupFunction
    const socket: net.Socket = net.connect(options)
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
    socket.once('connect', () => {
      this.#clearConnectTimer()
      this.#connecting = false
      this.#onConnected(connectUsSince(this.#connectStartMs))
      register(this)
      if (this.#current !== null && !this.#current.sent) this.#write(this.#current)
    })
    if (this.#connectTimeoutMs > 0) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = null
        if (this.#socket === socket) this.#onEnd(new H1Error('UND_ERR_CONNECT_TIMEOUT', `Connect Timeout Error (attempted address: ${this.#hostname}:${this.#port}, timeout: ${this.#connectTimeoutMs}ms)`))
      }, this.#connectTimeoutMs)
    }
  }

  #write(pending: Pending): void {
    const socket = this.#socket!
    pending.sent = true
    this.#state = State.Head
    this.#partial = null
    this.#progressTick = tick
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
    if (pending === null || this.#state === State.Idle) {
      // Bytes nobody asked for: the connection can no longer be trusted.
      this.#dropSocket()
      return
    }
    this.#progressTick = tick
    let buf = chunk
    if (this.#partial !== null) {
      buf = Buffer.concat([this.#partial, chunk])
      this.#partial = null
    }
    let offset = 0
    while (offset < buf.length && this.#current === pending) {
      switch (this.#state) {
        case State.Head:
          offset = this.#parseHead(pending, buf, offset)
          break
        case State.Length: {
          const n = Math.min(this.#remaining, buf.length - offset)
          this.#remaining -= n
          pending.handler.onData?.(buf.subarray(offset, offset + n))
          offset += n
          if (this.#remaining === 0) this.#complete(pending)
          break
        }
        case State.UntilClose:
          pending.handler.onData?.(offset === 0 ? buf : buf.subarray(offset))
          offset = buf.length
          break
        case State.ChunkSize:
        case State.ChunkDataEnd:
        case State.Trailers:
          offset = this.#parseChunkLine(pending, buf, offset)
          break
        case State.ChunkData: {
          const n = Math.min(this.#remaining, buf.length - offset)
          this.#remaining -= n
          pending.handler.onData?.(buf.subarray(offset, offset + n))
          offset += n
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd
          break
        }
        default:
          offset = buf.length
      }
      if (offset < 0) return // a parse error failed the request
    }
  }

  /** Parses a response head at `offset`; returns the offset after it, or -1 after a failure. */
  #parseHead(pending: Pending, buf: Buffer, offset: number): number {
    const end = headEnd(buf, offset)
    if (end === -1) {
      if (buf.length - offset > MAX_HEAD_BYTES) {
        this.#fail(new H1Error('UND_ERR_HEADERS_OVERFLOW', 'Headers Overflow Error'), true)
        return -1
      }
      this.#partial = offset === 0 ? buf : buf.subarray(offset)
      return buf.length
    }
    // Status line: HTTP/1.x SSS reason. Lines are scanned here in JS: a few hundred bytes cost
    // less than a native indexOf call per line.
    let lineEnd = offset
    while (buf[lineEnd] !== 0x0d) lineEnd++
    if (lineEnd - offset < 12 || buf[offset] !== 0x48 || buf[offset + 4] !== 0x2f || buf[offset + 5] !== 0x31 || buf[offset + 6] !== 0x2e || buf[offset + 8] !== 0x20) {
      this.#fail(new H1Error('HPE_INVALID_CONSTANT', `Expected HTTP/, RTSP/ or ICE/: ${JSON.stringify(buf.toString('latin1', offset, Math.min(lineEnd === -1 ? buf.length : lineEnd, offset + 40)))}`), true)
      return -1
    }
    const minor = buf[offset + 7]! - 0x30
    const status = (buf[offset + 9]! - 0x30) * 100 + (buf[offset + 10]! - 0x30) * 10 + (buf[offset + 11]! - 0x30)
    if (!(status >= 100 && status <= 999) || (lineEnd > offset + 12 && buf[offset + 12] !== 0x20)) {
      this.#fail(new H1Error('HPE_INVALID_STATUS', 'Invalid status code'), true)
      return -1
    }
    const statusText = lineEnd > offset + 13 ? reasonText(buf, offset + 13, lineEnd) : ''
    const spans: number[] = []
    let hasSetCookie = false
    let contentLength = -1
    let chunked = false
    let connection = Connection.Default
    let line = lineEnd + 2
    while (line < end + 2) {
      // buf[end] is a CR, so every scan stops by then.
      let colon = -1
      let eol = line
      for (let c = buf[eol]; c !== 0x0d; c = buf[++eol]) if (c === 0x3a && colon === -1) colon = eol
      if (colon === -1 || colon === line || buf[eol + 1] !== 0x0a) {
        this.#fail(new H1Error('HPE_INVALID_HEADER_TOKEN', 'Invalid header field'), true)
        return -1
      }
      let vStart = colon + 1
      let vEnd = eol
      while (vStart < vEnd && (buf[vStart] === 0x20 || buf[vStart] === 0x09)) vStart++
      while (vEnd > vStart && (buf[vEnd - 1] === 0x20 || buf[vEnd - 1] === 0x09)) vEnd--
      const nameLength = colon - line
      if (nameLength === 14 && nameIs(buf, line, 'content-length')) {
        contentLength = parseDecimal(buf, vStart, vEnd)
        if (contentLength < 0) {
          this.#fail(new H1Error('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length'), true)
          return -1
        }
      } else if (nameLength === 17 && nameIs(buf, line, 'transfer-encoding')) {
        chunked = endsWithChunked(buf, vStart, vEnd)
      } else if (nameLength === 10) {
        if (nameIs(buf, line, 'connection')) connection = connectionToken(buf, vStart, vEnd)
        else if (nameIs(buf, line, 'set-cookie')) hasSetCookie = true
      }
      spans.push(line, colon, vStart, vEnd)
      line = eol + 2
    }
    const next = end + 4
    if (status < 200) {
      // 100 Continue, 103 Early Hints …: not the response. 101 would switch protocols: refused.
      if (status === 101) {
        this.#fail(new H1Error('UND_ERR_INFO', 'unexpected 101 Switching Protocols'), true)
        return -1
      }
      return next
    }
    this.#keepAlive = minor >= 1 ? connection !== Connection.Close : connection === Connection.KeepAlive
    if (pending.prepared.reset) this.#keepAlive = false
    const noBody = pending.prepared.method === 'HEAD' || status === 204 || status === 304
    const head = new RawHeadSpans(buf, spans, hasSetCookie)
    const handler = pending.handler as Dispatcher.DispatchHandler & { [ACCEPTS_HEAD_SPANS]?: boolean }
    const rawHeaders = handler[ACCEPTS_HEAD_SPANS] === true ? (head as unknown as Buffer[]) : head.list
    handler.onHeaders?.(status, rawHeaders, RESUME, statusText)
    if (this.#current !== pending) return -1
    if (noBody) {
      this.#complete(pending)
    } else if (chunked) {
      this.#state = State.ChunkSize
    } else if (contentLength >= 0) {
      this.#remaining = contentLength
      this.#state = State.Length
      if (contentLength === 0) this.#complete(pending)
    } else {
      this.#state = State.UntilClose
      this.#keepAlive = false
    }
    return next
  }

  /** A chunk-size line, the CRLF after chunk data, or a trailer line. */
  #parseChunkLine(pending: Pending, buf: Buffer, offset: number): number {
    const eol = buf.indexOf(CRLF, offset)
    if (eol === -1) {
      if (buf.length - offset > MAX_HEAD_BYTES) {
        this.#fail(new H1Error('UND_ERR_HEADERS_OVERFLOW', 'Headers Overflow Error'), true)
        return -1
      }
      this.#partial = offset === 0 ? buf : buf.subarray(offset)
      return buf.length
    }
    if (this.#state === State.ChunkDataEnd) {
      if (eol !== offset) {
        this.#fail(new H1Error('HPE_STRICT', 'Expected LF after chunk data'), true)
        return -1
      }
      this.#state = State.ChunkSize
      return eol + 2
    }
    if (this.#state === State.Trailers) {
      if (eol === offset) this.#complete(pending)
      return eol + 2
    }
    let size = 0
    let i = offset
    for (; i < eol; i++) {
      const digit = hexValue(buf[i]!)
      if (digit < 0) break
      size = size * 16 + digit
    }
    if (i === offset || (i < eol && buf[i] !== 0x3b && buf[i] !== 0x20 && buf[i] !== 0x09) || size > Number.MAX_SAFE_INTEGER) {
      this.#fail(new H1Error('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size'), true)
      return -1
    }
    if (size === 0) {
      this.#state = State.Trailers
    } else {
      this.#remaining = size
      this.#state = State.ChunkData
    }
    return eol + 2
  }

  #complete(pending: Pending): void {
    this.#state = State.Idle
    this.#current = null
    this.#partial = null
    if (!this.#keepAlive) this.#dropSocket()
    pending.handler.onComplete?.([])
    if (this.#current === null) this.#next()
  }

  /** The socket ended, closed or failed. */
  #onEnd(err: Error | null): void {
    if (this.#connecting) {
      // The time lost trying to connect belongs to the failed hit.
      this.#connecting = false
      this.#onConnected(connectUsSince(this.#connectStartMs))
    }
    const pending = this.#current
    if (pending !== null && pending.sent && this.#state === State.UntilClose && err === null) {
      this.#socket = null
      this.#complete(pending)
      return
    }
    this.#dropSocket()
    if (pending === null) return
    const reason = err ?? new H1Error('UND_ERR_SOCKET', 'other side closed')
    this.#fail(reason, false)
  }

  /** Fails the current request; the connection is dropped (the next request reconnects). */
  #fail(err: Error, dropSocket: boolean): void {
    const pending = this.#current
    if (pending === null) return
    this.#current = null
    this.#state = State.Idle
    this.#partial = null
    if (dropSocket) this.#dropSocket()
    pending.handler.onError?.(err)
    if (this.#current === null) this.#next()
  }

  #dropSocket(): void {
    this.#clearConnectTimer()
    const socket = this.#socket
    if (socket === null) return
    this.#socket = null
    unregister(this)
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

  /** @internal Called by the sweep: fails the current request if it has stalled too long. */
  checkTimeout(): void {
    const pending = this.#current
    if (pending === null || !pending.sent) return
    const inHead = this.#state === State.Head
    const limitMs = inHead ? pending.prepared.headersTimeoutMs : pending.prepared.bodyTimeoutMs
    if (limitMs > 0 && (tick - this.#progressTick) * SWEEP_MS >= limitMs) {
      this.#fail(inHead ? new H1Error('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error') : new H1Error('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'), true)
    }
  }
}

/** An error with undici's code for the same failure. */
export class H1Error extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = code.startsWith('HPE_') ? 'HTTPParserError' : 'H1Error'
    this.code = code
  }
}

const enum State {
  Idle,
  Head,
  Length,
  UntilClose,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
}

const enum Connection {
  Default,
  KeepAlive,
  Close,
}

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
  /** Close the connection after this exchange (HEAD, `connection: close`, a body on GET …). */
  readonly reset: boolean
  readonly headersTimeoutMs: number
  readonly bodyTimeoutMs: number
}

const CRLF = Buffer.from('\r\n', 'latin1')
/** Where every connection of this thread reads into (callbacks copy out synchronously). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)
/** Response heads (and chunk lines) longer than this fail, like undici's default maxHeaderSize. */
const MAX_HEAD_BYTES = 16 * 1024
const DEFAULT_TIMEOUT_MS = 300_000

/** Reading is never paused (the body is collected whole), so resuming has nothing to do. */
const RESUME = (): void => {}

/** Encoded heads a connection keeps for reuse (a user alternating between a few URLs). */
const RECENT_HEADS = 4

const METHODS_WITH_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH'])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const INVALID_VALUE = /[\0\r\n]/
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
  let reset = method === 'HEAD'
  let lines = ''
  const add = (name: string, value: unknown): void => {
    const values = Array.isArray(value) ? value : [value]
    const lower = name.toLowerCase()
    if (!TOKEN.test(name)) throw invalidArg('invalid header key')
    for (const v of values) {
      const text = v === null ? '' : typeof v === 'object' ? null : `${v as string}`
      if (text === null || INVALID_VALUE.test(text)) throw invalidArg(`invalid ${name} header`)
      if (lower === 'host') hostHeader = `host: ${text}\r\n`
      else if (lower === 'content-length') continue // computed from the body, as undici does
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
  const expectsPayload = METHODS_WITH_PAYLOAD.has(method)
  // A body on a method that does not expect one may confuse the server: don't reuse the connection.
  if (body !== null && !expectsPayload) reset = true
  let head = `${method} ${path} HTTP/1.1\r\n${hostHeader}${reset ? 'connection: close\r\n' : 'connection: keep-alive\r\n'}${lines}`
  if (body !== null) head += `content-length: ${body.length}\r\n`
  else if (expectsPayload) head += 'content-length: 0\r\n'
  head += '\r\n'
  return {
    method,
    head: Buffer.from(head, 'latin1'),
    body,
    reset,
    headersTimeoutMs: options.headersTimeout ?? DEFAULT_TIMEOUT_MS,
    bodyTimeoutMs: options.bodyTimeout ?? DEFAULT_TIMEOUT_MS,
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

/**
 * Where the head starting at `from` ends (the index of its CRLFCRLF), or -1 when it has not all
 * arrived. A JS scan: for a few hundred bytes it costs less than Buffer#indexOf's native call.
 */
function headEnd(buf: Buffer, from: number): number {
  const last = buf.length - 2
  for (let i = from + 1; i < last; i++) {
    if (buf[i] === 0x0a && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a && buf[i - 1] === 0x0d) return i - 1
  }
  return -1
}

function invalidArg(message: string): H1Error {
  return new H1Error('UND_ERR_INVALID_ARG', message)
}

function connectUsSince(startMs: number): number {
  return Math.max(1, Math.round((performance.now() - startMs) * 1000))
}

/** Whether the header name at buf[start…] equals `lower` (same length checked by the caller). */
function nameIs(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}

function parseDecimal(buf: Buffer, start: number, end: number): number {
  if (start === end) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n > Number.MAX_SAFE_INTEGER ? -1 : n
}

function endsWithChunked(buf: Buffer, start: number, end: number): boolean {
  return end - start >= 7 && nameIs(buf, end - 7, 'chunked')
}

function connectionToken(buf: Buffer, start: number, end: number): Connection {
  if (end - start === 10 && nameIs(buf, start, 'keep-alive')) return Connection.KeepAlive
  if (end - start === 5 && nameIs(buf, start, 'close')) return Connection.Close
  const text = buf.toString('latin1', start, end).toLowerCase()
  if (/(^|,)\s*close\s*(,|$)/.test(text)) return Connection.Close
  if (/(^|,)\s*keep-alive\s*(,|$)/.test(text)) return Connection.KeepAlive
  return Connection.Default
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10
  return -1
}

/** The reason phrase; the usual "OK" without allocating a string. */
function reasonText(buf: Buffer, start: number, end: number): string {
  if (end - start === 2 && buf[start] === 0x4f && buf[start + 1] === 0x4b) return 'OK'
  return buf.toString('latin1', start, end)
}

/**
 * Timeouts: one sweep for every open connection instead of a timer per request. `tick` counts
 * sweeps; a request stalled for (ticks × SWEEP_MS) ≥ its timeout fails, so headers and body
 * timeouts fire up to one sweep late, like undici's own coarse timers.
 */
const SWEEP_MS = 500
let tick = 0
const open = new Set<H1Connection>()
let sweeper: NodeJS.Timeout | null = null

function register(connection: H1Connection): void {
  open.add(connection)
  if (sweeper === null) {
    sweeper = setInterval(sweep, SWEEP_MS)
    sweeper.unref()
  }
}

function unregister(connection: H1Connection): void {
  open.delete(connection)
  if (open.size === 0 && sweeper !== null) {
    clearInterval(sweeper)
    sweeper = null
  }
}

function sweep(): void {
  tick++
  for (const connection of open) connection.checkTimeout()
}
