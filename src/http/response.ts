import { STATUS_CODES } from 'node:http'
import { bodyDiscardedError } from './body-limit.js'
import { decodeContent } from './content-decoding.js'
import { HTTPError } from './errors.js'
import { rawHeaderFirst, rawList, rawToRecord, rawValues, type RawHeaders } from './raw-headers.js'

/** The request as it was sent, kept on the response for debugging. */
export interface SentRequest {
  readonly method: string
  /** Absolute URL, query string included. */
  readonly url: string
  /** Lower-cased names, as sent (session defaults, per-request headers, cookie, auth). */
  readonly headers: Readonly<Record<string, string>>
}

const EMPTY = Buffer.alloc(0)

/**
 * An HTTP response, shaped like Requests' `Response`. The body is fully read; headers and text
 * are decoded on first access only, so a test that checks the status alone pays for neither.
 */
export class Response {
  /** HTTP status code. */
  readonly status: number
  /** Final absolute URL of this response (after redirects for the final response). */
  readonly url: string
  /**
   * Body bytes received (before any content-encoding is undone), counted whether or not the
   * body was kept: with `discardBody` they were counted, not kept.
   */
  readonly bodyBytes: number
  /**
   * The body was not kept (`--discard-bodies`, the session's `discardBodies`, a request's
   * `discardBody`): reading `content`, `text`, `json()` or `rawContent` throws
   * `LOADS_ERR_BODY_DISCARDED`. Like k6's `discardResponseBodies`, where `res.body` is null.
   */
  readonly bodyDiscarded: boolean
  /**
   * Milliseconds from sending the request to the response headers, like Requests' `elapsed`
   * (which measures up to the end of header parsing, not the body). See `totalUs` for the body.
   */
  readonly elapsed: number
  /** Microseconds from the start of this hop to the last body byte (the hit's totalUs). */
  readonly totalUs: number
  /**
   * Microseconds spent opening a connection for this hop (TCP: up to the socket's connect); 0
   * when one was reused.
   */
  readonly connectUs: number
  /** Microseconds of the TLS handshake after TCP connected, for a new https connection; 0 otherwise. */
  readonly tlsUs: number
  /** The redirect responses that led here, oldest first; empty without redirects. */
  history: Response[]

  readonly #statusText: string
  readonly #rawHeaders: RawHeaders
  readonly #rawContent: Buffer | null
  /** Largest decoded body, bytes (0: no limit). */
  readonly #maxBodyBytes: number
  #headers: Record<string, string> | undefined
  #text: string | undefined
  #content: Buffer | undefined
  readonly #method: string
  readonly #requestHeaders: Readonly<Record<string, string>>

  /** @internal built by the session; tests construct responses through a Session. */
  constructor(
    status: number,
    statusText: string,
    rawHeaders: RawHeaders,
    content: Buffer | undefined,
    url: string,
    totalUs: number,
    ttfbUs: number,
    connectUs: number,
    method: string,
    requestHeaders: Readonly<Record<string, string>>,
    bodyBytes: number = content?.length ?? 0,
    discarded = false,
    maxBodyBytes = 0,
    tlsUs = 0,
  ) {
    this.status = status
    this.#statusText = statusText
    this.#rawHeaders = rawHeaders
    this.#rawContent = discarded ? null : (content ?? EMPTY)
    this.bodyBytes = bodyBytes
    this.bodyDiscarded = discarded
    this.#maxBodyBytes = maxBodyBytes
    this.url = url
    this.totalUs = totalUs
    this.elapsed = ttfbUs / 1000
    this.connectUs = connectUs
    this.tlsUs = tlsUs
    this.history = []
    this.#method = method
    this.#requestHeaders = requestHeaders
  }

  /** Alias of `status`, for people coming from Node's http module. */
  get statusCode(): number {
    return this.status
  }

  /** True when the status is below 400 (so redirects are ok, like Requests). */
  get ok(): boolean {
    return this.status < 400
  }

  /** The status text the server sent, or the standard one when it sent none. */
  get reason(): string {
    return this.#statusText !== '' ? this.#statusText : (STATUS_CODES[this.status] ?? '')
  }

  /**
   * Response headers, lower-cased names. Repeated headers are joined with ', ' (set-cookie too);
   * use `getAll(name)` to read each value on its own.
   */
  get headers(): Readonly<Record<string, string>> {
    this.#headers ??= rawToRecord(rawList(this.#rawHeaders))
    return this.#headers
  }

  /** Every value of a header (case-insensitive), in the order received; [] when absent. */
  getAll(name: string): string[] {
    return rawValues(rawList(this.#rawHeaders), name.toLowerCase())
  }

  /** The body bytes as received (still compressed when the server used a content-encoding). */
  get rawContent(): Buffer {
    if (this.#rawContent === null) throw bodyDiscardedError(this.url)
    return this.#rawContent
  }

  /**
   * The body, with its `content-encoding` (gzip, deflate, br) undone on first access, so a test
   * that never reads the body pays nothing for compression. Hits count the bytes as received.
   * Throws `LOADS_ERR_BODY_TOO_LARGE` when the decoded body would pass the request's body limit
   * (`--max-body`), and `LOADS_ERR_BODY_DISCARDED` when the body was not kept.
   */
  get content(): Buffer {
    this.#content ??= decodeContent(this.rawContent, rawHeaderFirst(this.#rawHeaders, 'content-encoding'), this.#maxBodyBytes)
    return this.#content
  }

  /** The body decoded as UTF-8 (decoded once, then cached). */
  get text(): string {
    this.#text ??= this.content.toString('utf8')
    return this.#text
  }

  /** The body parsed as JSON. The type parameter is trusted, not checked. */
  json<T = unknown>(): T {
    return JSON.parse(this.text) as T
  }

  /** Throws an HTTPError for a 4xx or 5xx status; does nothing otherwise. */
  raiseForStatus(): void {
    if (this.status >= 400) throw new HTTPError(this.status, this.reason, this.url)
  }

  /** The request that produced this response (method, URL, headers sent). */
  get request(): SentRequest {
    return { method: this.#method, url: this.url, headers: this.#requestHeaders }
  }
}
