import type { HitSink } from '../stats/hit-sink.js'
import { SessionCookies } from './cookie-jar.js'
import { Exchange } from './exchange.js'
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
}
