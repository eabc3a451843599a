import type { Dispatcher } from 'undici'
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES } from './body-limit.js'
import { withCallSite, type CallSite } from './call-site.js'
import { networkErrorKind, toNetworkError } from './classify-network-error.js'
import { LoadsError, NetworkError, TooManyRedirectsError } from './errors.js'
import type { OriginConnection } from './origin-connection.js'
import { ACCEPTS_HEAD_SPANS, rawFirst, rawHeaderFirst, rawNameIs, RawHeadSpans, type RawHeaders } from './raw-headers.js'
import { deadlineList, type DeadlineEntry, type DeadlineList } from './request-deadlines.js'
import { Response } from './response.js'
import { settleAfterIo } from './settle-batch.js'
import type { SessionState } from './session-state.js'
import type { Target } from './target.js'

const NO_HEADERS: Buffer[] = []

/** Like Requests' `max_redirects`. */
export const MAX_REDIRECTS = 30

/**
 * Timeouts are precise to the event loop's delay, not coarse ticks: every request's whole-request
 * deadline (one timer per timeout length for the thread, armed for the first deadline:
 * request-deadlines.ts), and the optional headers and body timers of its own. undici's and
 * the HTTP/2 client's own timeouts are turned off (0) so there is one clock, here. Kept for the
 * API: every timeout is precise now, whatever its length.
 */
export const PRECISE_TIMEOUT_BELOW_MS = Number.POSITIVE_INFINITY

/** Which timer fired. */
type TimeoutWhich = 'request' | 'headers' | 'body'

/** The error a timer aborts the request with; its code is undici's for the same timeout. */
export class RequestTimeoutError extends Error {
  readonly code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT'
  constructor(
    readonly which: TimeoutWhich,
    readonly limitMs: number,
    headersReceived: boolean,
    host: string,
  ) {
    const waiting = headersReceived ? 'the response body' : 'the response headers'
    super(
      which === 'request'
        ? `timed out after ${limitMs} ms (the whole request: connect, send and receive) waiting for ${waiting} from ${host}`
        : which === 'headers'
          ? `no response headers from ${host} within ${limitMs} ms of sending the request (headers timeout)`
          : `no body bytes from ${host} for ${limitMs} ms (body timeout)`,
    )
    this.code = headersReceived ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT'
  }
}

function onIdleTimeout(exchange: Exchange): void {
  exchange.timedOut(exchange.headersReceived ? 'body' : 'headers')
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
  /** Silence allowed from sending the request to its response headers, ms; 0 (default): none. */
  readonly headersTimeoutMs?: number
  /** Silence allowed between body bytes, ms; 0 (default): none. */
  readonly bodyTimeoutMs?: number
  /**
   * The largest body kept, bytes (default `DEFAULT_MAX_BODY_BYTES`; 0: no limit): past it the hop
   * fails as `BODY_TOO_LARGE` and its connection is closed. It bounds the decoded body too.
   */
  readonly maxBodyBytes?: number
  /** Count the body's bytes without keeping them (the response's body then reads as discarded). */
  readonly discardBody?: boolean
  readonly allowRedirects: boolean
  readonly name: string
  /** A cookie header the caller set explicitly, sent before the jar's cookies. */
  readonly userCookie: string | undefined
  /** Statuses the test expects (any other fails the hit); null: a status ≥ 400 fails it. */
  readonly expect: readonly number[] | null
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
export class Exchange implements Dispatcher.DispatchHandler, DeadlineEntry {
  readonly #state: SessionState
  readonly #epoch: number
  readonly #timeoutMs: number
  readonly #headersTimeoutMs: number
  readonly #bodyTimeoutMs: number
  readonly #maxBodyBytes: number
  readonly #discardBody: boolean
  readonly #allowRedirects: boolean
  #userCookie: string | undefined
  readonly #expect: readonly number[] | null
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
  #tlsUs = 0
  #status = 0
  #statusText = ''
  #rawHeaders: RawHeaders = NO_HEADERS
  #firstChunk: Buffer | undefined = undefined
  #chunks: Buffer[] | null = null
  /** The body of a declared length, filled as pieces arrive (past the first), or null. */
  #whole: Buffer | null = null
  #filled = 0
  /** The content-length of this hop's response when checked against the limit; -1: unknown. */
  #declaredLength = -1
  #bytesIn = 0
  #dispatching = false
  /** undici called onConnect for this hop: the request is going on the wire. */
  #onSocket = false
  #abort: ((reason?: Error) => void) | null = null
  // The whole-request deadline of this hop (from send to the last body byte): while it runs, this
  // exchange is in its timeout length's list (request-deadlines.ts). @internal, for that list.
  deadlineMs = 0
  deadlineList: DeadlineList | null = null
  deadlinePrev: DeadlineEntry | null = null
  deadlineNext: DeadlineEntry | null = null
  /** The headers timer, then the body timer (refreshed by each body chunk); optional. */
  #idle: NodeJS.Timeout | null = null
  /** The whole-request timer fired before the request reached a socket: abort it when it does. */
  #expired = false
  /** This hop's token in the worker's in-flight gauge; -1 when not counted there. */
  #inFlight = -1
  /** Where the test made the request: a failure's stack points there (call-site.ts). */
  readonly #site: CallSite | undefined

  constructor(
    state: SessionState,
    init: ExchangeInit,
    resolve: (response: Response) => void,
    reject: (error: Error) => void,
    site?: CallSite,
  ) {
    this.#site = site
    this.#state = state
    this.#epoch = state.abortEpoch
    this.#timeoutMs = init.timeoutMs
    this.#headersTimeoutMs = init.headersTimeoutMs ?? 0
    this.#bodyTimeoutMs = init.bodyTimeoutMs ?? 0
    this.#maxBodyBytes = init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    this.#discardBody = init.discardBody ?? false
    this.#allowRedirects = init.allowRedirects
    this.#userCookie = init.userCookie
    this.#expect = init.expect
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
    const inFlight = this.#state.inFlight
    if (inFlight !== null) this.#inFlight = inFlight.start(this.#startMs)
    this.#ttfbUs = 0
    this.#connectUs = 0
    this.#tlsUs = 0
    this.#status = 0
    this.#statusText = ''
    this.#rawHeaders = NO_HEADERS
    this.#dropBody()
    this.#declaredLength = -1
    this.#bytesIn = 0
    this.#onSocket = false
    this.#abort = null
    this.#expired = false
    this.deadlineList?.remove(this)
    if (this.#timeoutMs > 0) deadlineList(this.#timeoutMs).add(this, this.#startMs)
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
    settleAfterIo(this.#settleReject, withCallSite(error, this.#site))
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#onSocket = true
    this.#connectUs = this.#connection.takeConnectUs()
    this.#tlsUs = this.#connection.takeTlsUs()
    this.#abort = abort
    if (this.#expired) {
      abort(new RequestTimeoutError('request', this.#timeoutMs, false, this.#host))
      return
    }
    // The headers timeout counts from when the request goes on the socket, as undici's does.
    if (this.#headersTimeoutMs > 0) this.#idle = setTimeout(onIdleTimeout, this.#headersTimeoutMs, this)
  }

  /** @internal Whether the response head has arrived (the body timer is the one running). */
  get headersReceived(): boolean {
    return this.#status !== 0
  }

  /** @internal The whole-request deadline passed (the list took this exchange off). */
  deadlinePassed(): void {
    this.timedOut('request')
  }

  /** @internal A timer fired: fail the hop as undici's own timeout would. */
  timedOut(which: TimeoutWhich): void {
    if (which !== 'request') this.#idle = null
    const limitMs = which === 'request' ? this.#timeoutMs : which === 'headers' ? this.#headersTimeoutMs : this.#bodyTimeoutMs
    const abort = this.#abort
    if (abort === null) {
      // Still connecting (bounded by the connect timeout) or queued: fail it once it gets a socket.
      this.#expired = true
      return
    }
    abort(new RequestTimeoutError(which, limitMs, this.#status !== 0, this.#host))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, statusText: string): boolean {
    // 1xx informational responses come first and are not the response.
    if (statusCode < 200) return true
    this.#ttfbUs = Math.round((performance.now() - this.#startMs) * 1000)
    this.#status = statusCode
    this.#statusText = statusText
    this.#rawHeaders = rawHeaders
    if (this.#idle !== null) clearTimeout(this.#idle)
    this.#idle = this.#bodyTimeoutMs > 0 ? setTimeout(onIdleTimeout, this.#bodyTimeoutMs, this) : null
    // H1Connection hands RawHeadSpans (see ACCEPTS_HEAD_SPANS): nothing to scan without set-cookie.
    const spans = (rawHeaders as unknown) instanceof RawHeadSpans ? (rawHeaders as unknown as RawHeadSpans) : null
    if (spans !== null && !spans.hasSetCookie) return this.#declaredWithinLimit(spans)
    const given = rawHeaders
    if (spans !== null) rawHeaders = spans.list
    let setCookies: string[] | null = null
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawNameIs(rawHeaders[i]!, 'set-cookie')) (setCookies ??= []).push(rawHeaders[i + 1]!.toString('latin1'))
    }
    if (setCookies !== null) this.#state.cookies.storeFromResponse(setCookies, this.#href)
    return this.#declaredWithinLimit(spans ?? given)
  }

  /**
   * A body declared over the limit fails at once, before any of it is read (as undici's
   * maxResponseSize does). Returns false when it aborted the hop.
   */
  #declaredWithinLimit(head: RawHeadSpans | readonly Buffer[]): boolean {
    if (this.#maxBodyBytes === 0 || this.#discardBody) return true
    let length: number
    if (head instanceof RawHeadSpans) {
      length = head.contentLength // the parser's own, already checked: no scan
    } else {
      const declared = rawFirst(head, 'content-length')
      length = declared === undefined ? -1 : Number(declared)
    }
    if (!(length > this.#maxBodyBytes) || this.#method === 'HEAD' || this.#status === 204 || this.#status === 304) {
      this.#declaredLength = length
      return true
    }
    this.#abort?.(new BodyTooLargeError(this.#maxBodyBytes, length, true, this.#host))
    return false
  }

  onData(chunk: Buffer): boolean {
    this.#idle?.refresh()
    this.#bytesIn += chunk.length
    if (this.#discardBody) return true
    if (this.#bytesIn > this.#maxBodyBytes && this.#maxBodyBytes !== 0) {
      // Nothing more of this body is read: the connection is closed under it.
      this.#dropBody()
      this.#abort?.(new BodyTooLargeError(this.#maxBodyBytes, this.#bytesIn, false, this.#host))
      return false
    }
    if (this.#firstChunk === undefined) {
      this.#firstChunk = chunk
    } else if (this.#whole !== null) {
      this.#filled += chunk.copy(this.#whole, this.#filled)
    } else if (this.#chunks !== null) {
      this.#chunks.push(chunk)
    } else if (this.#declaredLength >= this.#bytesIn) {
      // A body in pieces of a declared length (within the limit) goes into one Buffer as it comes,
      // so it never exists twice (pieces, then their join): memory stays at the body's size.
      const whole = Buffer.allocUnsafe(this.#declaredLength)
      this.#filled = this.#firstChunk.copy(whole, 0)
      this.#filled += chunk.copy(whole, this.#filled)
      this.#whole = whole
    } else {
      this.#chunks = [this.#firstChunk, chunk]
    }
    return true
  }

  onComplete(): void {
    const totalUs = Math.round((performance.now() - this.#startMs) * 1000)
    this.#clearTimer()
    this.#endInFlight()
    const status = this.#status
    const redirect = this.#allowRedirects && status >= 301 && status <= 308 && status !== 304 && status !== 305 && status !== 306
    // A redirect followed is a step on the way, never a failure; the last response is judged.
    const expect = this.#expect
    const failed = redirect && rawHeaderFirst(this.#rawHeaders, 'location') !== undefined ? false : expect === null ? status >= 400 : !expect.includes(status)
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
      failed,
      undefined,
      this.#tlsUs,
    )
    const content = this.#whole !== null ? this.#whole.subarray(0, this.#filled) : this.#chunks === null ? this.#firstChunk : Buffer.concat(this.#chunks, this.#bytesIn)
    this.#dropBody()
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
      this.#bytesIn,
      this.#discardBody,
      this.#maxBodyBytes,
      this.#tlsUs,
    )
    if (redirect) {
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
    this.#endInFlight()
    // Arguments undici refused before sending anything: a bug in the test, not a hit.
    if (this.#dispatching && (err as { code?: unknown }).code === 'UND_ERR_INVALID_ARG') {
      const message = `invalid request ${this.#method} ${this.#href}: ${err.message}`
      this.#reject(new LoadsError('LOADS_ERR_INVALID_REQUEST', message, { cause: err }))
      return
    }
    const totalUs = Math.round((performance.now() - this.#startMs) * 1000)
    const written = this.#onSocket
    this.#clearTimer()
    this.#dropBody()
    const kind = this.#epoch !== this.#state.abortEpoch ? 'ABORTED' : networkErrorKind(err)
    if (kind === 'ABORTED' && !written) {
      // Aborted (a stop) before undici put it on a socket: the server never saw it, so it is
      // no hit — hits reported must equal requests received.
      this.#reject(toNetworkError(err, kind, this.#method, this.#href, this.#host, this.#timeoutMs))
      return
    }
    const taken = this.#connectUs === 0
    const connectUs = taken ? this.#connection.takeConnectUs() : this.#connectUs
    const tlsUs = taken ? this.#connection.takeTlsUs() : this.#tlsUs
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
      undefined,
      undefined,
      tlsUs,
    )
    this.#reject(toNetworkError(err, kind, this.#method, this.#href, this.#host, this.#timeoutMs))
  }

  /** Lets go of the body received so far (kept by the Response, if one was made). */
  #dropBody(): void {
    this.#firstChunk = undefined
    this.#chunks = null
    this.#whole = null
    this.#filled = 0
  }

  #endInFlight(): void {
    if (this.#inFlight < 0) return
    this.#state.inFlight?.end(this.#inFlight)
    this.#inFlight = -1
  }

  #clearTimer(): void {
    this.deadlineList?.remove(this)
    if (this.#idle !== null) {
      clearTimeout(this.#idle)
      this.#idle = null
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
    if (next.origin !== this.#origin && !isHttpsUpgrade(this.#origin, next)) {
      // Credentials the user gave for one origin are not sent to another (as curl and browsers
      // do); the jar's own cookies for the next URL still are (see #applyCookies).
      delete headers['authorization']
      delete headers['proxy-authorization']
      delete headers['cookie']
      this.#userCookie = undefined
    }
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
      headersTimeout: 0,
      bodyTimeout: 0,
    }
  }
}

/** Requests keeps credentials on an http → https redirect to the same host on default ports. */
function isHttpsUpgrade(fromOrigin: string, to: URL): boolean {
  return to.protocol === 'https:' && to.port === '' && fromOrigin === `http://${to.hostname}`
}
