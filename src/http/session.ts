import type { Dispatcher } from 'undici'
import type { HitSink } from '../stats/hit-sink.js'
import type { InFlight } from '../stats/in-flight.js'
import { ConnectionShare } from './connection-share.js'
import { callSiteFor } from './call-site.js'
import { SessionCookies } from './cookie-jar.js'
import { Exchange, type ExchangeInit } from './exchange.js'
import type { ConnectionOptions } from './origin-connection.js'
import { DEFAULT_MAX_BODY_BYTES } from './body-limit.js'
import { checkExpected, checkMaxBody, encodeBody, normalizeMethod, pathAsWritten, withParams, type RequestOptions } from './request-options.js'
import type { Response } from './response.js'
import { SessionState } from './session-state.js'
import { basicAuthorization, TargetCache, type Target } from './target.js'
import type { TraceContext } from './trace-context.js'

/** How a Session is built; one Session per virtual user. */
export interface SessionOptions extends ConnectionOptions {
  /** Receives one hit per request sent (each redirect hop included). */
  sink: HitSink
  /** Relative URLs (`/items`) resolve against it, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string
  /**
   * Milliseconds a request may take in all, from connecting to its last body byte (default
   * 30000; a redirect hop gets its own). A request's `timeout` option overrides it.
   */
  timeoutMs?: number
  /** Silence allowed from sending a request to its response headers, ms (default 0: none, `timeoutMs` bounds it). */
  headersTimeoutMs?: number
  /** Silence allowed between two pieces of a response body, ms (default 0: none, `timeoutMs` bounds it). */
  bodyTimeoutMs?: number
  /**
   * The largest response body a request keeps, bytes (default `DEFAULT_MAX_BODY_BYTES`, 32 MiB;
   * 0: no limit). Past it the hit fails as `BODY_TOO_LARGE` and the connection is closed; it
   * bounds the decoded body too. A request's `maxBody` overrides it.
   */
  maxBodyBytes?: number
  /** Count response bodies without keeping them (`--discard-bodies`); a request's `discardBody` overrides it. */
  discardBodies?: boolean
  /** Default headers of every request (names are case-insensitive). */
  headers?: Record<string, string>
  /** `--trace-context`: W3C traceparent, tracestate and baggage on every request. */
  traceContext?: TraceContext
  /** Counts this session's requests in flight (the worker's gauge of the oldest one's age). */
  inFlight?: InFlight
}

/** Headers a Session sends unless told otherwise. */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'loads-runner/0.1',
  accept: '*/*',
}

/**
 * One virtual user's HTTP client, shaped like a Python Requests Session: default headers, a
 * cookie jar and keep-alive connections (one per origin) that belong to this user alone.
 *
 * Every request sent is reported to the sink as one hit; a network failure is reported too and
 * then thrown as a NetworkError. An HTTP error status is never thrown (see `raiseForStatus`).
 */
export class Session {
  /** Default headers, merged under every request's own headers. Mutable. */
  headers: Record<string, string>
  /** This user's cookies; requests send and update them automatically. */
  readonly cookies: SessionCookies
  /** Default for a request's `timeout` option, in ms: it bounds the whole request. */
  timeoutMs: number
  /** Silence allowed before response headers, ms; 0: none. */
  readonly headersTimeoutMs: number
  /** Silence allowed between body pieces, ms; 0: none. */
  readonly bodyTimeoutMs: number
  /** The largest response body kept, bytes; 0: no limit. */
  readonly maxBodyBytes: number
  /** Response bodies are counted, not kept, unless a request says `discardBody: false`. */
  readonly discardBodies: boolean
  /**
   * The statuses every request of this session expects unless it gives its own `expect`: a
   * response with another status is a failed hit. null (the default): a status ≥ 400 fails.
   */
  expectedStatuses: readonly number[] | null = null
  readonly #state: SessionState
  readonly #targets: TargetCache
  /**
   * Requests without options, by URL: the whole ExchangeInit (headers and dispatch options
   * included) is built once and reused while the default headers, timeout and base stay the
   * same and the cookie jar is empty, so the connection can reuse the encoded head too.
   */
  readonly #plain = new Map<string, ExchangeInit>()
  /** `this.headers` as [name, value, …] when the entries of `#plain` were built. */
  #plainDefaults: string[] = []
  #plainTimeoutMs = -1
  /** Trace context headers added to every request (`--trace-context`), or undefined. */
  readonly traceContext: TraceContext | undefined
  /**
   * @internal The label of the test this session's user runs now (set by the engine before each
   * run): two tests requesting the same name get a call site each.
   */
  currentTest: string | undefined = undefined

  constructor(options: SessionOptions) {
    this.traceContext = options.traceContext
    this.headers = { ...DEFAULT_HEADERS }
    if (options.headers !== undefined) {
      for (const name of Object.keys(options.headers)) this.headers[name.toLowerCase()] = options.headers[name]!
    }
    this.cookies = new SessionCookies()
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.headersTimeoutMs = options.headersTimeoutMs ?? 0
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? 0
    this.maxBodyBytes = checkMaxBody(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes')
    this.discardBodies = options.discardBodies ?? false
    const tls: ConnectionOptions = {}
    if (options.insecure !== undefined) tls.insecure = options.insecure
    if (options.ca !== undefined) tls.ca = options.ca
    if (options.cert !== undefined) tls.cert = options.cert
    if (options.key !== undefined) tls.key = options.key
    if (options.http2 !== undefined) tls.http2 = options.http2
    if (options.resolve !== undefined) tls.resolve = options.resolve
    if (options.h2c !== undefined) tls.h2c = options.h2c
    // Without a worker's share, the user's own: its reconnects still resume TLS sessions.
    tls.share = options.share ?? new ConnectionShare()
    this.#state = new SessionState(options.sink, this.cookies, tls, this.timeoutMs, options.inFlight ?? null)
    this.#targets = new TargetCache(options.baseUrl)
  }

  /** Base of relative URLs, or undefined. Changing it affects later requests only. */
  get baseUrl(): string | undefined {
    return this.#targets.base
  }

  set baseUrl(baseUrl: string | undefined) {
    this.#targets.base = baseUrl
  }

  get(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('GET', url, options)
  }

  post(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('POST', url, options)
  }

  put(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('PUT', url, options)
  }

  patch(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('PATCH', url, options)
  }

  delete(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('DELETE', url, options)
  }

  /** HEAD request. Unlike the other verbs (and like Requests), it follows redirects only when asked. */
  head(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('HEAD', url, { allowRedirects: false, ...options })
  }

  options(url: string, options?: RequestOptions): Promise<Response> {
    return this.#send('OPTIONS', url, options)
  }

  /**
   * Any method: GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS in any case are sent upper-cased
   * (as Fetch does); any other method is sent exactly as written (methods are case-sensitive), and
   * must be a token.
   */
  request(method: string, url: string, options?: RequestOptions): Promise<Response> {
    return this.#send(normalizeMethod(method), url, options)
  }

  /**
   * Fails every request in flight: each is recorded as a hit of kind ABORTED and its promise
   * rejects with a NetworkError of kind ABORTED. The session stays usable.
   */
  abort(): void {
    this.#state.abortAll()
  }

  /** Closes this user's connections once their in-flight requests have finished. */
  close(): Promise<void> {
    return this.#state.closeAll()
  }

  #send(method: string, url: string, options: RequestOptions | undefined): Promise<Response> {
    // With trace context every request differs (its own traceparent): no reusable init.
    if (options === undefined && this.cookies.unused && this.traceContext === undefined && this.expectedStatuses === null) {
      const init = this.#plainInit(method, url)
      if (init !== undefined) {
        const state = this.#state
        const site = callSiteFor(method, init.name, this.#send, this.currentTest)
        return new Promise<Response>((resolve, reject) => {
          new Exchange(state, init, resolve, reject, site).send()
        })
      }
    }
    let target: Target
    const headers: Record<string, string> = {}
    let body: Buffer | null = null
    let expect: readonly number[] | null
    try {
      target = this.#targets.resolve(url)
      const defaults = this.headers
      for (const name in defaults) headers[name.toLowerCase()] = defaults[name]!
      if (options !== undefined) {
        const extra = options.headers
        // A list stays a list: both connection writers send one field line per value.
        let lengthless = false
        if (extra !== undefined) {
          for (const name in extra) {
            const value = extra[name]
            const lower = name.toLowerCase()
            if (value !== null) headers[lower] = value as string
            else {
              delete headers[lower]
              if (lower === 'content-length') lengthless = true
            }
          }
        }
        body = encodeBody(options, headers)
        // An empty content-length tells the connection writers to send none (see RequestOptions.headers).
        if (lengthless && body === null) headers['content-length'] = ''
        if (options.auth !== undefined) headers['authorization'] = basicAuthorization(options.auth[0], options.auth[1])
      }
      if (target.authorization !== null) headers['authorization'] ??= target.authorization
      this.traceContext?.addTo(headers)
      expect = options?.expect !== undefined ? checkExpected(options.expect, 'expect') : this.expectedStatuses === null ? null : checkExpected(this.expectedStatuses, 'expectedStatuses')
      if (options?.maxBody !== undefined) checkMaxBody(options.maxBody, 'maxBody')
    } catch (err) {
      return Promise.reject(err as Error)
    }
    const state = this.#state
    const init = {
      method,
      target,
      path: withParams(options?.pathAsIs === true ? (pathAsWritten(url) ?? target.path) : target.path, options?.params),
      headers,
      body,
      timeoutMs: options?.timeout ?? this.timeoutMs,
      headersTimeoutMs: this.headersTimeoutMs,
      bodyTimeoutMs: this.bodyTimeoutMs,
      maxBodyBytes: options?.maxBody ?? this.maxBodyBytes,
      discardBody: options?.discardBody ?? this.discardBodies,
      allowRedirects: options?.allowRedirects ?? true,
      name: options?.name ?? target.pathname,
      userCookie: headers['cookie'],
      expect,
    }
    const site = callSiteFor(method, init.name, this.#send, this.currentTest)
    return new Promise<Response>((resolve, reject) => {
      new Exchange(state, init, resolve, reject, site).send()
    })
  }

  /** The reusable init of an option-less request, or undefined when it can't be reused. */
  #plainInit(method: string, url: string): ExchangeInit | undefined {
    let target: Target
    try {
      target = this.#targets.resolve(url)
    } catch {
      return undefined // the general path reports it
    }
    if (target.authorization !== null) return undefined
    if (this.#plainTimeoutMs !== this.timeoutMs || this.#defaultsChanged()) {
      this.#plain.clear()
      this.#plainTimeoutMs = this.timeoutMs
      const defaults: string[] = []
      for (const name in this.headers) defaults.push(name, this.headers[name]!)
      this.#plainDefaults = defaults
    }
    const cached = this.#plain.get(url)
    if (cached !== undefined && cached.method === method && cached.target === target) return cached
    const headers: Record<string, string> = {}
    for (const name in this.headers) headers[name.toLowerCase()] = this.headers[name]!
    const init: ExchangeInit = {
      method,
      target,
      path: target.path,
      headers,
      body: null,
      timeoutMs: this.timeoutMs,
      headersTimeoutMs: this.headersTimeoutMs,
      bodyTimeoutMs: this.bodyTimeoutMs,
      maxBodyBytes: this.maxBodyBytes,
      discardBody: this.discardBodies,
      allowRedirects: true,
      name: target.pathname,
      userCookie: headers['cookie'],
      expect: null,
      dispatchOptions: {
        method: method as Dispatcher.HttpMethod,
        path: target.path,
        headers,
        body: null,
        // The exchange times every request itself (see exchange.ts).
        headersTimeout: 0,
        bodyTimeout: 0,
      },
    }
    if (this.#plain.size >= TargetCache.MAX_ENTRIES) this.#plain.clear()
    this.#plain.set(url, init)
    return init
  }

  /** Whether `this.headers` differs from the defaults the cached inits were built with. */
  #defaultsChanged(): boolean {
    const defaults = this.#plainDefaults
    const current = this.headers
    let i = 0
    for (const name in current) {
      if (defaults[i] !== name || defaults[i + 1] !== current[name]) return true
      i += 2
    }
    return i !== defaults.length
  }
}
