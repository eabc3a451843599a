import type { Dispatcher } from 'undici'
import { networkErrorKind, toNetworkError } from './classify-network-error.js'
import { LoadsError, NetworkError, TooManyRedirectsError } from './errors.js'
import type { OriginConnection } from './origin-connection.js'
import { ACCEPTS_HEAD_SPANS, rawHeaderFirst, rawNameIs, RawHeadSpans, type RawHeaders } from './raw-headers.js'
import { Response } from './response.js'
import { settleAfterIo } from './settle-batch.js'
import type { SessionState } from './session-state.js'
import type { Target } from './target.js'

const NO_HEADERS: Buffer[] = []

/** Like Requests' `max_redirects`. */
export const MAX_REDIRECTS = 30

/**
 * Timeouts shorter than this (ms) get a precise timer of their own. undici's header and body
 * timeouts run on its coarse "fast timers" (about 1 s of resolution: a 200 ms timeout fires after
 * 500–1000 ms), which is cheap and fine for the 30 s default but would distort short timeouts.
 */
export const PRECISE_TIMEOUT_BELOW_MS = 10_000

/** The error a precise timer aborts the request with; its code is undici's for the same timeout. */
class PreciseTimeoutError extends Error {
  readonly code: string
  constructor(code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT') {
    super(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'Headers Timeout Error' : 'Body Timeout Error')
    this.code = code
  }
}

function onPreciseTimeout(exchange: Exchange): void {
  exchange.timedOut()
}

/** What a request needs to be sent, already encoded by the Session. */
export interface ExchangeInit {
  readonly method: string
  readonly target: Target
  /** Path and query to send (the target's path with params merged in). */
  readonly path: string
  /** Lower-cased header names; this object is sent and kept on the response. */
  readonly headers: Record<string, string>
  readonly body: Buffer | null
  readonly timeoutMs: number
  readonly allowRedirects: boolean
  readonly name: string
  /** A cookie header the caller set explicitly, sent before the jar's cookies. */
  readonly userCookie: string | undefined
  /**
   * Options for undici's dispatch, when the session reuses one object for identical requests
   * (the connection then reuses the encoded head); built from the fields above otherwise.
   */
  readonly dispatchOptions?: Dispatcher.DispatchOptions
}

/**
 * One call to `Session.request`: sends a request, follows its redirects, reports one hit per hop,
 * and settles one promise. It is its own undici dispatch handler (the legacy onConnect / onHeaders
 * / onData / onComplete / onError interface, which undici's HTTP/1 client calls directly, where the
 * newer controller interface is wrapped in an adapter that also parses every header block), so a
 * request allocates this object, its promise and its response, and few closures.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly #state: SessionState
  readonly #epoch: number
  readonly #timeoutMs: number
  readonly #allowRedirects: boolean
  readonly #userCookie: string | undefined
  readonly #settleResolve: (response: Response) => void
  readonly #settleReject: (error: Error) => void

  // The hop being sent; redirects replace these.
  #method: string
  #href: string
  #host: string
  #origin: string
  #name: string
  #headers: Record<string, string>
  #body: Buffer | null
  #connection: OriginConnection
  #dispatchOptions: Dispatcher.DispatchOptions
  #history: Response[] | null = null

  // What this hop has received so far.
  #startMs = 0
  #ttfbUs = 0
  #connectUs = 0
  #status = 0
  #statusText = ''
  #rawHeaders: RawHeaders = NO_HEADERS
  #firstChunk: Buffer | undefined = undefined
  #chunks: Buffer[] | null = null
  #bytesIn = 0
  #dispatching = false
  /** undici called onConnect for this hop: the request is going on the wire. */
  #onSocket = false
  #abort: ((reason?: Error) => void) | null = null
  #timer: NodeJS.Timeout | null = null

  constructor(
    state: SessionState,
    init: ExchangeInit,
    resolve: (response: Response) => void,
    reject: (error: Error) => void,
  ) {
    this.#state = state
    this.#epoch = state.abortEpoch
    this.#timeoutMs = init.timeoutMs
    this.#allowRedirects = init.allowRedirects
    this.#userCookie = init.userCookie
    this.#settleResolve = resolve
    this.#settleReject = reject
    this.#method = init.method
    this.#href = init.path === init.target.path ? init.target.href : init.target.origin + init.path
    this.#host = init.target.host
    this.#origin = init.target.origin
    this.#name = init.name
    this.#headers = init.headers
    this.#body = init.body
    this.#connection = state.connectionFor(init.target.origin)
    this.#applyCookies()
    this.#dispatchOptions = init.dispatchOptions ?? this.#buildDispatchOptions(init.path)
  }

  /** Takes RawHeadSpans from H1Connection: header Buffers are cut only if something reads them. */
  get [ACCEPTS_HEAD_SPANS](): boolean {
    return true
  }

  /** Sends the current hop. */
  send(): void {
    this.#startMs = performance.now()
    this.#ttfbUs = 0
    this.#connectUs = 0
    this.#status = 0
    this.#statusText = ''
    this.#rawHeaders = NO_HEADERS
    this.#firstChunk = undefined
    this.#chunks = null
    this.#bytesIn = 0
    this.#onSocket = false
    // undici reports arguments it refuses by calling onError during dispatch().
    this.#dispatching = true
    this.#connection.client.dispatch(this.#dispatchOptions, this)
    this.#dispatching = false
  }

  /** The promise settles after the I/O phase, once every readable response is timed (settle-batch.ts). */
  #resolve(response: Response): void {
    settleAfterIo(this.#settleResolve, response)
  }

  #reject(error: Error): void {
    settleAfterIo(this.#settleReject, error)
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#onSocket = true
    this.#connectUs = this.#connection.takeConnectUs()
    // Like undici's headers timeout, the clock starts when the request goes on the socket.
    if (this.#timeoutMs < PRECISE_TIMEOUT_BELOW_MS) {
      this.#abort = abort
      if (this.#timer !== null) clearTimeout(this.#timer)
      this.#timer = setTimeout(onPreciseTimeout, this.#timeoutMs, this)
    }
  }

  /** @internal The precise timer fired: fail the hop as undici's own timeout would. */
  timedOut(): void {
    this.#timer = null
    const code = this.#status === 0 ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT'
    this.#abort?.(new PreciseTimeoutError(code))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, statusText: string): boolean {
    // 1xx informational responses come first and are not the response.
    if (statusCode < 200) return true
    this.#ttfbUs = Math.round((performance.now() - this.#startMs) * 1000)
    this.#status = statusCode
    this.#statusText = statusText
    this.#rawHeaders = rawHeaders
    this.#timer?.refresh()
    // H1Connection hands RawHeadSpans (see ACCEPTS_HEAD_SPANS): nothing to scan without set-cookie.
    const spans = (rawHeaders as unknown) instanceof RawHeadSpans ? (rawHeaders as unknown as RawHeadSpans) : null
    if (spans !== null && !spans.hasSetCookie) return true
    if (spans !== null) rawHeaders = spans.list
    let setCookies: string[] | null = null
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawNameIs(rawHeaders[i]!, 'set-cookie')) (setCookies ??= []).push(rawHeaders[i + 1]!.toString('latin1'))
    }
    if (setCookies !== null) this.#state.cookies.storeFromResponse(setCookies, this.#href)
    return true
  }

  onData(chunk: Buffer): boolean {
    this.#timer?.refresh()
    this.#bytesIn += chunk.length
    if (this.#firstChunk === undefined) this.#firstChunk = chunk
    else if (this.#chunks === null) this.#chunks = [this.#firstChunk, chunk]
    else this.#chunks.push(chunk)
    return true
  }

  onComplete(): void {
    const totalUs = Math.round((performance.now() - this.#startMs) * 1000)
    this.#clearTimer()
    const status = this.#status
    // bytesIn and bytesOut count bodies only (as received, before any decoding); the request
    // and response heads are not included.
    this.#state.sink.recordHit(
      this.#method,
      this.#name,
      status,
      totalUs,
      this.#ttfbUs,
      this.#connectUs,
      this.#bytesIn,
      this.#body === null ? 0 : this.#body.length,
      null,
    )
    const content = this.#chunks === null ? this.#firstChunk : Buffer.concat(this.#chunks, this.#bytesIn)
    const response = new Response(
      status,
      this.#statusText,
      this.#rawHeaders,
      content,
      this.#href,
      totalUs,
      this.#ttfbUs,
      this.#connectUs,
      this.#method,
      this.#headers,
    )
    if (this.#allowRedirects && status >= 301 && status <= 308 && status !== 304 && status !== 305 && status !== 306) {
      const location = rawHeaderFirst(this.#rawHeaders, 'location')
      if (location !== undefined) {
        this.#redirect(response, location)
        return
      }
    }
    if (this.#history !== null) response.history = this.#history
    this.#resolve(response)
  }

  onError(err: Error): void {
    // Arguments undici refused before sending anything: a bug in the test, not a hit.
    if (this.#dispatching && (err as { code?: unknown }).code === 'UND_ERR_INVALID_ARG') {
      const message = `invalid request ${this.#method} ${this.#href}: ${err.message}`
      this.#reject(new LoadsError('LOADS_ERR_INVALID_REQUEST', message, { cause: err }))
      return
    }
    const totalUs = Math.round((performance.now() - this.#startMs) * 1000)
    const written = this.#onSocket
    this.#clearTimer()
    const kind = this.#epoch !== this.#state.abortEpoch ? 'ABORTED' : networkErrorKind(err)
    if (kind === 'ABORTED' && !written) {
      // Aborted (a stop) before undici put it on a socket: the server never saw it, so it is
      // no hit — hits reported must equal requests received.
      this.#reject(toNetworkError(err, kind, this.#method, this.#href, this.#host, this.#timeoutMs))
      return
    }
    const connectUs = this.#connectUs !== 0 ? this.#connectUs : this.#connection.takeConnectUs()
    this.#state.sink.recordHit(
      this.#method,
      this.#name,
      0,
      totalUs,
      0,
      connectUs,
      this.#bytesIn,
      this.#body === null ? 0 : this.#body.length,
      kind,
    )
    this.#reject(toNetworkError(err, kind, this.#method, this.#href, this.#host, this.#timeoutMs))
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    this.#abort = null
  }

  /** Sets up and sends the next hop, the way Requests' `resolve_redirects` does. */
  #redirect(response: Response, location: string): void {
    const history = (this.#history ??= [])
    if (history.length >= MAX_REDIRECTS) {
      this.#reject(new TooManyRedirectsError(this.#href, MAX_REDIRECTS))
      return
    }
    history.push(response)
    let next: URL
    try {
      next = new URL(location, this.#href)
    } catch (err) {
      this.#reject(new LoadsError('LOADS_ERR_INVALID_REDIRECT', `invalid redirect location '${location}' from ${this.#href}`, { cause: err }))
      return
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      this.#reject(new LoadsError('LOADS_ERR_INVALID_REDIRECT', `redirect to unsupported URL '${next.href}' from ${this.#href}`))
      return
    }
    // The previous hop's headers stay with its response; the next hop gets its own copy.
    const headers = { ...this.#headers }
    const status = response.status
    if ((status === 303 && this.#method !== 'HEAD') || ((status === 301 || status === 302) && this.#method === 'POST')) {
      this.#method = 'GET'
      this.#body = null
      delete headers['content-type']
      delete headers['content-length']
      delete headers['transfer-encoding']
    }
    if (next.origin !== this.#origin && !isHttpsUpgrade(this.#origin, next)) delete headers['authorization']
    const path = next.pathname + next.search
    this.#origin = next.origin
    this.#href = next.origin + path
    this.#host = next.host
    this.#name = next.pathname
    this.#headers = headers
    this.#connection = this.#state.connectionFor(next.origin)
    this.#applyCookies()
    this.#dispatchOptions = this.#buildDispatchOptions(path)
    // Send after undici has finished with the previous hop's completion.
    queueMicrotask(() => {
      if (this.#epoch !== this.#state.abortEpoch) {
        this.#reject(new NetworkError('ABORTED', this.#method, this.#href, `request to ${this.#host} aborted`))
      } else {
        this.send()
      }
    })
  }

  /** Puts the jar's cookies for the current URL (after any explicit cookie header) in the headers. */
  #applyCookies(): void {
    const cookies = this.#state.cookies
    if (cookies.unused) return
    const fromJar = cookies.get(this.#href)
    const user = this.#userCookie
    if (fromJar === '') {
      if (user === undefined) delete this.#headers['cookie']
      else this.#headers['cookie'] = user
    } else {
      this.#headers['cookie'] = user === undefined ? fromJar : `${user}; ${fromJar}`
    }
  }

  #buildDispatchOptions(path: string): Dispatcher.DispatchOptions {
    return {
      method: this.#method as Dispatcher.HttpMethod,
      path,
      headers: this.#headers,
      body: this.#body,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    }
  }
}

/** Requests keeps credentials on an http → https redirect to the same host on default ports. */
function isHttpsUpgrade(fromOrigin: string, to: URL): boolean {
  return to.protocol === 'https:' && to.port === '' && fromOrigin === `http://${to.hostname}`
}
