import http from 'node:http'
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2'
import type { TLSSocket } from 'node:tls'
import type { Dispatcher } from 'undici'
import { H2Error, type H2Session } from './h2-connect.js'
import type { H2Link, H2Links } from './h2-link.js'
import { WireSession, type WireStream, type WireStreamEvents } from './h2-wire.js'
import { FORBIDDEN_IN_VALUE, forbiddenValueError, utf8AsLatin1 } from './header-values.js'
import { hpackEncode } from './hpack.js'
import type { ConnectionClient } from './origin-connection.js'
import { ACCEPTS_HEAD_SPANS, RawHeadSpans } from './raw-headers.js'

/** Request headers HTTP/2 forbids (RFC 9113 §8.2.2); `host` becomes `:authority`. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host'])
const { NGHTTP2_CANCEL } = http2.constants
const NO_TRAILERS: string[] = []

/**
 * One virtual user's HTTP/2 client for one origin, driven through undici's dispatch API like
 * H1Connection (the session cannot tell them apart). Each request is one stream on the user's
 * link (H2Link); with `--h2-streams N` the link is shared by N users. The link's connection is
 * Loads' own HTTP/2 client (h2-wire.ts) or, with LOADS_HTTP2=node, node:http2's.
 *
 * It exists for speed: undici's h2 client wraps each node:http2 stream in its own request
 * machinery and re-parses headers, and node:http2 itself costs several times what a load
 * generator can afford per request (bench/README.md). If the server answers ALPN with http/1.1,
 * the user's requests go to the HTTP/1.1 client `http1` makes (handed the TLS socket already open).
 */
export class H2Connection implements ConnectionClient {
  readonly #links: H2Links
  readonly #link: H2Link
  readonly #authority: string
  readonly #scheme: string
  readonly #onConnected: (connectUs: number, tlsUs: number) => void
  readonly #http1: (socket: TLSSocket | undefined) => ConnectionClient
  #fallback: ConnectionClient | null = null
  readonly #inFlight = new Set<H2Request | WireRequest>()
  /** [options, headers, options, headers …], most recent last. */
  readonly #recent: Array<Dispatcher.DispatchOptions | OutgoingHttpHeaders> = []
  /** [options, HPACK block, …] for the own client, most recent last. */
  readonly #recentBlocks: Array<Dispatcher.DispatchOptions | Buffer> = []
  #closed = false
  #released = false
  #closing: (() => void) | null = null

  constructor(url: URL, links: H2Links, link: H2Link, onConnected: (connectUs: number, tlsUs: number) => void, http1: (socket: TLSSocket | undefined) => ConnectionClient) {
    this.#authority = url.host
    this.#scheme = url.protocol.slice(0, -1)
    this.#links = links
    this.#link = link
    this.#onConnected = onConnected
    this.#http1 = http1
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#fallback !== null) return this.#fallback.dispatch(options, handler)
    if (this.#closed) {
      handler.onError?.(new H2Error('UND_ERR_CLOSED', 'The client is closed'))
      return false
    }
    const session = this.#link.ready()
    if (session !== null) return this.#start(session, options, handler)
    this.#link.whenReady((err, readySession, connectUs, socket, tlsUs) => {
      if (connectUs > 0) this.#onConnected(connectUs, tlsUs)
      if (err !== null) handler.onError?.(err)
      else if (readySession !== null) this.#start(readySession, options, handler)
      else {
        this.#fallback ??= this.#http1(socket)
        this.#fallback.dispatch(options, handler)
      }
    })
    return true
  }

  close(): Promise<void> {
    this.#closed = true
    const fallback = this.#fallback?.close() ?? Promise.resolve()
    if (this.#inFlight.size === 0) {
      this.#release()
      return fallback
    }
    return Promise.all([fallback, new Promise<void>((resolve) => (this.#closing = resolve))]).then(() => {})
  }

  /** Fails this user's streams (other users of a shared link keep theirs) and releases the link. */
  destroy(err?: Error): Promise<void> {
    this.#closed = true
    const reason = err ?? new H2Error('UND_ERR_DESTROYED', 'The client is destroyed')
    for (const request of [...this.#inFlight]) request.abort(reason)
    this.#release()
    return this.#fallback?.destroy(reason) ?? Promise.resolve()
  }

  /** @internal A request finished, one way or the other. */
  settled(request: H2Request | WireRequest): void {
    this.#inFlight.delete(request)
    if (this.#closing !== null && this.#inFlight.size === 0) {
      this.#release()
      const resolve = this.#closing
      this.#closing = null
      resolve()
    }
  }

  #release(): void {
    if (this.#released) return
    this.#released = true
    this.#links.release(this.#link)
  }

  #start(session: H2Session, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let stream: ClientHttp2Stream
    const body = options.body
    if (body !== null && body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      handler.onError?.(new H2Error('UND_ERR_INVALID_ARG', 'body must be a string or a Buffer on this connection'))
      return false
    }
    if (session instanceof WireSession) return this.#startWire(session, options, body ?? null, handler)
    try {
      stream = session.request(this.#headersFor(options), { endStream: body === null || body === undefined })
    } catch (err) {
      // Invalid header names or values: the test's mistake, reported as undici reports it.
      handler.onError?.(new H2Error('UND_ERR_INVALID_ARG', (err as Error).message))
      return false
    }
    const request = new H2Request(this, stream, handler, options.headersTimeout ?? 0)
    this.#inFlight.add(request)
    if (body !== null && body !== undefined) stream.end(body)
    return true
  }

  #startWire(session: WireSession, options: Dispatcher.DispatchOptions, body: string | Buffer | null, handler: Dispatcher.DispatchHandler): boolean {
    let block: Buffer
    try {
      block = this.#blockFor(options)
    } catch (err) {
      handler.onError?.(err as Error)
      return false
    }
    const request = new WireRequest(this, handler, options.headersTimeout ?? 0)
    this.#inFlight.add(request)
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
    request.stream = session.request(block, bytes, options.method === 'HEAD', request)
    request.started()
    return true
  }

  /**
   * The HPACK block for `options` (own client), built once per options object. Header names
   * must be tokens and values free of CR, LF and NUL, as over HTTP/1.1; values go as UTF-8.
   */
  #blockFor(options: Dispatcher.DispatchOptions): Buffer {
    const recent = this.#recentBlocks
    for (let i = 0; i < recent.length; i += 2) {
      if (recent[i] === options) return recent[i + 1] as Buffer
    }
    const headers = this.#headersFor(options)
    const fields: string[] = []
    for (const name in headers) {
      const value = headers[name]
      if (value === undefined) continue
      if (name.charCodeAt(0) !== 58 && !TOKEN.test(name)) throw new H2Error('UND_ERR_INVALID_ARG', `Header name must be a valid HTTP token ["${name}"]`)
      for (const one of Array.isArray(value) ? value : [value]) {
        const text = String(one)
        if (FORBIDDEN_IN_VALUE.test(text)) throw forbiddenValueError(name)
        fields.push(name, utf8AsLatin1(text))
      }
    }
    const block = hpackEncode(fields)
    if (recent.length >= 8) recent.splice(0, 2)
    recent.push(options, block)
    return block
  }

  /** The h2 header block for `options`, built once per options object (a session reuses them). */
  #headersFor(options: Dispatcher.DispatchOptions): OutgoingHttpHeaders {
    const recent = this.#recent
    for (let i = 0; i < recent.length; i += 2) {
      if (recent[i] === options) return recent[i + 1] as OutgoingHttpHeaders
    }
    const headers: OutgoingHttpHeaders = {
      ':method': options.method,
      ':path': options.path,
      ':scheme': this.#scheme,
      ':authority': this.#authority,
    }
    const given = options.headers
    if (given !== null && given !== undefined) {
      const entries = Array.isArray(given) ? pairs(given as string[]) : Object.entries(given as Record<string, string | string[] | undefined>)
      for (const [rawName, value] of entries) {
        if (value === undefined) continue
        const name = rawName.toLowerCase()
        // An empty content-length means "send none" (RequestOptions.headers); HTTP/2 needs none.
        if (name === 'content-length' && value === '') continue
        if (name === 'host') headers[':authority'] = String(value)
        else if (!HOP_BY_HOP.has(name)) headers[name] = value
      }
    }
    if (recent.length >= 8) recent.splice(0, 2)
    recent.push(options, headers)
    return headers
  }
}

/** RFC 9110 token characters (header names are sent lower case). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}

/** One stream: relays node:http2's events to the dispatch handler, once each, in order. */
class H2Request {
  #done = false
  #gotHeaders = false
  readonly #owner: H2Connection
  readonly #stream: ClientHttp2Stream
  readonly #handler: Dispatcher.DispatchHandler

  constructor(owner: H2Connection, stream: ClientHttp2Stream, handler: Dispatcher.DispatchHandler, timeoutMs: number) {
    this.#owner = owner
    this.#stream = stream
    this.#handler = handler
    stream.on('response', (headers) => this.#onResponse(headers))
    stream.on('data', (chunk: Buffer) => {
      if (!this.#done) this.#handler.onData?.(chunk)
    })
    stream.on('end', () => this.#complete())
    stream.on('error', (err) => this.#fail(err))
    stream.on('close', () => {
      if (!this.#done) this.#fail(new H2Error('UND_ERR_SOCKET', `stream closed before its response ended (HTTP/2 error code ${stream.rstCode ?? 'none'})`))
    })
    if (timeoutMs > 0) {
      stream.setTimeout(timeoutMs, () => {
        const code = this.#gotHeaders ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT'
        this.abort(new H2Error(code, this.#gotHeaders ? 'Body Timeout Error' : 'Headers Timeout Error'))
      })
    }
    handler.onConnect?.((reason?: Error) => this.abort(reason ?? new H2Error('UND_ERR_ABORTED', 'Request aborted')))
  }

  /** Fails the request with `reason` and cancels its stream (the connection stays). */
  abort(reason: Error): void {
    if (this.#done) return
    this.#fail(reason)
    if (!this.#stream.closed) this.#stream.close(NGHTTP2_CANCEL)
  }

  #onResponse(headers: IncomingHttpHeaders): void {
    if (this.#done) return
    this.#gotHeaders = true
    const status = Number(headers[':status'])
    const spans = headSpans(headers)
    // Handlers declaring ACCEPTS_HEAD_SPANS (Exchange) take the lazy form; others get Buffers.
    const raw = (this.#handler as { [ACCEPTS_HEAD_SPANS]?: boolean })[ACCEPTS_HEAD_SPANS] === true ? spans : spans.list
    this.#handler.onHeaders?.(status, raw as unknown as Buffer[], noop, http.STATUS_CODES[status] ?? '')
  }

  #complete(): void {
    if (this.#done) return
    this.#done = true
    this.#owner.settled(this)
    this.#handler.onComplete?.(NO_TRAILERS)
  }

  #fail(err: Error): void {
    if (this.#done) return
    this.#done = true
    this.#owner.settled(this)
    this.#handler.onError?.(err)
  }
}

function noop(): void {}

/** node:http2's header object as RawHeadSpans: one Buffer for the block, cut only if read. */
function headSpans(headers: IncomingHttpHeaders): RawHeadSpans {
  let text = ''
  const spans: number[] = []
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue
    const value = headers[name]
    if (value === undefined) continue
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) {
      const nameStart = text.length
      text += name
      const valueStart = text.length
      text += v
      spans.push(nameStart, valueStart, valueStart, text.length)
    }
  }
  // nghttp2 checks content-length against the DATA: Exchange reads it from here, as from
  // H1Connection's parser, to fail a body declared over its limit at once.
  const declared = headers['content-length']
  const contentLength = typeof declared === 'string' && /^\d{1,15}$/.test(declared) ? Number(declared) : -1
  return new RawHeadSpans(Buffer.from(text, 'latin1'), spans, headers['set-cookie'] !== undefined, contentLength)
}

/** One stream on Loads' own client: relays the WireSession's events to the dispatch handler. */
class WireRequest implements WireStreamEvents {
  stream: WireStream | null = null
  #done = false
  #gotHeaders = false
  readonly #owner: H2Connection
  readonly #handler: Dispatcher.DispatchHandler
  readonly #timeoutMs: number
  #timer: NodeJS.Timeout | null = null
  readonly #spans: boolean

  constructor(owner: H2Connection, handler: Dispatcher.DispatchHandler, timeoutMs: number) {
    this.#owner = owner
    this.#handler = handler
    this.#timeoutMs = timeoutMs
    this.#spans = (handler as { [ACCEPTS_HEAD_SPANS]?: boolean })[ACCEPTS_HEAD_SPANS] === true
  }

  /** The stream exists: arm the inactivity timeout and hand the handler its abort. */
  started(): void {
    if (this.#timeoutMs > 0 && !this.#done) this.#timer = setTimeout(() => this.#onTimeout(), this.#timeoutMs)
    this.#handler.onConnect?.((reason?: Error) => this.abort(reason ?? new H2Error('UND_ERR_ABORTED', 'Request aborted')))
  }

  /** Fails the request with `reason` and cancels its stream (the connection stays). */
  abort(reason: Error): void {
    if (this.#done) return
    this.onError(reason)
    this.stream?.cancel()
  }

  onResponse(status: number, fields: string[], contentLength: number): void {
    if (this.#done) return
    this.#gotHeaders = true
    this.#timer?.refresh()
    if (this.#spans) {
      // The session hands the same fields for every response that repeats its header block (and
      // the same content-length with them); their spans are read-only, so those responses share them.
      let spans = SPANS_OF.get(fields)
      if (spans === undefined) {
        spans = fieldSpans(fields, contentLength)
        SPANS_OF.set(fields, spans)
      }
      this.#handler.onHeaders?.(status, spans as unknown as Buffer[], noop, STATUS_TEXT[status] ?? '')
    } else {
      this.#handler.onHeaders?.(status, fieldSpans(fields, contentLength).list, noop, STATUS_TEXT[status] ?? '')
    }
  }

  onData(chunk: Buffer): void {
    if (this.#done) return
    this.#timer?.refresh()
    this.#handler.onData?.(chunk)
  }

  onEnd(): void {
    if (this.#done) return
    this.#done = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#owner.settled(this)
    this.#handler.onComplete?.(NO_TRAILERS)
  }

  onError(err: Error): void {
    if (this.#done) return
    this.#done = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#owner.settled(this)
    this.#handler.onError?.(err)
  }

  #onTimeout(): void {
    const code = this.#gotHeaders ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT'
    this.abort(new H2Error(code, this.#gotHeaders ? 'Body Timeout Error' : 'Headers Timeout Error'))
  }
}

/** RawHeadSpans by the fields list WireSession handed (it never changes a list it handed out). */
const SPANS_OF = new WeakMap<readonly string[], RawHeadSpans>()
const STATUS_TEXT = http.STATUS_CODES

/**
 * Decoded response fields ([name, value, …], latin1) as RawHeadSpans over one Buffer, with the
 * content-length the session read from them (Exchange fails a body declared over its limit on it).
 */
function fieldSpans(fields: string[], contentLength: number): RawHeadSpans {
  let text = ''
  const spans: number[] = []
  let setCookie = false
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!
    const nameStart = text.length
    text += name
    const valueStart = text.length
    text += fields[i + 1]!
    spans.push(nameStart, valueStart, valueStart, text.length)
    if (name === 'set-cookie') setCookie = true
  }
  return new RawHeadSpans(Buffer.from(text, 'latin1'), spans, setCookie, contentLength)
}
