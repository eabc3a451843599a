/**
 * Errors thrown by the HTTP layer. Every error carries a stable `code` (`LOADS_ERR_…`) that
 * callers and the runner switch on, never on the message, and may carry a `hint` saying what
 * the user can do about it (printed under the message by the console output).
 */
import { LoadsError } from '../errors.js'

export { LoadsError }

/**
 * The kinds a network failure is classified into; anything else keeps the raw error code
 * (`EHOSTUNREACH`, `UND_ERR_…`). These are also the `errorKind` strings recorded with the hit.
 */
export type NetworkErrorKind =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ENOTFOUND'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'TLS'
  | 'PROTOCOL'
  /** The response body passed the request's limit (`--max-body`); the connection was closed. */
  | 'BODY_TOO_LARGE'
  | (string & {})

/**
 * A request that got no complete HTTP response: refused, reset, timed out, aborted, DNS or TLS
 * failure, malformed response. It has already been recorded as a hit with status 0 and `kind`
 * when the promise rejects with it. An HTTP error status (4xx/5xx) is never a NetworkError.
 */
export class NetworkError extends LoadsError {
  /** What went wrong, also the hit's `errorKind`. */
  readonly kind: NetworkErrorKind
  /** Method of the request that failed. */
  readonly method: string
  /** Absolute URL of the request that failed (the redirect hop, if it was one). */
  readonly url: string

  constructor(
    kind: NetworkErrorKind,
    method: string,
    url: string,
    message: string,
    options?: { hint?: string; cause?: unknown },
  ) {
    super('LOADS_ERR_NETWORK', `${message} (${method} ${url})`, options)
    this.name = 'NetworkError'
    this.kind = kind
    this.method = method
    this.url = url
  }
}

/** Thrown by `Response.raiseForStatus()` for a 4xx or 5xx response, like Requests' HTTPError. */
export class HTTPError extends LoadsError {
  readonly status: number
  readonly reason: string
  readonly url: string

  constructor(status: number, reason: string, url: string) {
    const side = status < 500 ? 'Client Error' : 'Server Error'
    super('LOADS_ERR_HTTP_STATUS', `${status} ${side}: ${reason} for url: ${url}`)
    this.name = 'HTTPError'
    this.status = status
    this.reason = reason
    this.url = url
  }
}

/**
 * A chain of redirects longer than the limit (30, like Requests). Every hop was sent and recorded
 * as a hit before this is thrown.
 */
export class TooManyRedirectsError extends LoadsError {
  /** The last URL that answered with yet another redirect. */
  readonly url: string
  /** How many redirects were followed before giving up. */
  readonly redirects: number

  constructor(url: string, redirects: number) {
    super('LOADS_ERR_TOO_MANY_REDIRECTS', `exceeded ${redirects} redirects (last: ${url})`, {
      hint: 'the server may be redirecting in a loop; pass allowRedirects: false to inspect the first response',
    })
    this.name = 'TooManyRedirectsError'
    this.url = url
    this.redirects = redirects
  }
}
