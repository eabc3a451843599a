import type { Dispatcher } from 'undici'
import type { HitSink } from '../stats/hit-sink.js'
import { SessionCookies } from './cookie-jar.js'
import { Exchange, type ExchangeInit } from './exchange.js'
import type { ConnectionOptions } from './origin-connection.js'
import { encodeBody, withParams, type RequestOptions } from './request-options.js'
import type { Response } from './response.js'
import { SessionState } from './session-state.js'
import { basicAuthorization, TargetCache, type Target } from './target.js'

/** How a Session is built; one Session per virtual user. */
export interface SessionOptions extends ConnectionOptions {
  /** Receives one hit per request sent (each redirect hop included). */
  sink: HitSink
  /** Relative URLs (`/items`) resolve against it, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string
  /**
   * Milliseconds allowed to connect, then to receive the response headers, then between body
   * chunks (default 30000). A request's `timeout` option overrides the last two.
   */
  timeoutMs?: number
  /** Default headers of every request (names are case-insensitive). */
  headers?: Record<string, string>
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
  /** Default for a request's `timeout` option, in ms. */
  timeoutMs: number
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

  constructor(options: SessionOptions) {
    this.headers = { ...DEFAULT_HEADERS }
    if (options.headers !== undefined) {
      for (const name of Object.keys(options.headers)) this.headers[name.toLowerCase()] = options.headers[name]!
    }
    this.cookies = new SessionCookies()
    this.timeoutMs = options.timeoutMs ?? 30_000
    const tls: ConnectionOptions = {}
    if (options.insecure !== undefined) tls.insecure = options.insecure
    if (options.ca !== undefined) tls.ca = options.ca
    if (options.cert !== undefined) tls.cert = options.cert
    if (options.key !== undefined) tls.key = options.key
    if (options.http2 !== undefined) tls.http2 = options.http2
    if (options.resolve !== undefined) tls.resolve = options.resolve
    this.#state = new SessionState(options.sink, this.cookies, tls, this.timeoutMs)
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

  /** Any method (case-insensitive). */
  request(method: string, url: string, options?: RequestOptions): Promise<Response> {
    return this.#send(method.toUpperCase(), url, options)
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
    if (options === undefined && this.cookies.unused) {
      const init = this.#plainInit(method, url)
      if (init !== undefined) {
        const state = this.#state
        return new Promise<Response>((resolve, reject) => {
          new Exchange(state, init, resolve, reject).send()
        })
      }
    }
    let target: Target
    const headers: Record<string, string> = {}
    let body: Buffer | null = null
    try {
      target = this.#targets.resolve(url)
      const defaults = this.headers
      for (const name in defaults) headers[name.toLowerCase()] = defaults[name]!
      if (options !== undefined) {
        const extra = options.headers
        if (extra !== undefined) for (const name in extra) headers[name.toLowerCase()] = extra[name]!
        body = encodeBody(options, headers)
        if (options.auth !== undefined) headers['authorization'] = basicAuthorization(options.auth[0], options.auth[1])
      }
      if (target.authorization !== null) headers['authorization'] ??= target.authorization
    } catch (err) {
      return Promise.reject(err as Error)
    }
    const state = this.#state
    const init = {
      method,
      target,
      path: options?.params === undefined ? target.path : withParams(target.path, options.params),
      headers,
      body,
      timeoutMs: options?.timeout ?? this.timeoutMs,
      allowRedirects: options?.allowRedirects ?? true,
      name: options?.name ?? target.pathname,
      userCookie: headers['cookie'],
    }
    return new Promise<Response>((resolve, reject) => {
      new Exchange(state, init, resolve, reject).send()
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
      allowRedirects: true,
      name: target.pathname,
      userCookie: headers['cookie'],
      dispatchOptions: {
        method: method as Dispatcher.HttpMethod,
        path: target.path,
        headers,
        body: null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
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
