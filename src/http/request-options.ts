import { LoadsError } from './errors.js'

/** One value of a query-string or form field; null and undefined fields are left out. */
export type FieldValue = string | number | boolean | null | undefined

/** Query-string or form fields: an array value repeats the key (`a=1&a=2`). */
export type Fields = Readonly<Record<string, FieldValue | readonly FieldValue[]>> | URLSearchParams

/** Per-request options, named after Requests' keyword arguments. */
export interface RequestOptions {
  /** Query-string fields, appended to any query already in the URL. */
  params?: Fields
  /**
   * Extra headers for this request; they override the session's defaults (case-insensitive). A
   * list sends one field line per value (`{ 'x-tag': ['a', 'b'] }`), as a browser does for a
   * header set twice, instead of one line joined with ", ". `null` sends no such field: it drops a
   * session default (`accept: null`), and `'content-length': null` on a request without a body
   * sends none where a POST, PUT or PATCH would otherwise say `content-length: 0` (as curl does).
   */
  headers?: Readonly<Record<string, string | readonly string[] | null>>
  /** Serialised with JSON.stringify; sets content-type application/json unless given. */
  json?: unknown
  /** Fields are form-encoded (application/x-www-form-urlencoded); a string or bytes are sent as-is. */
  data?: Fields | string | Uint8Array
  /** Raw body, sent as-is with no content-type. */
  body?: string | Uint8Array
  /** Milliseconds the whole request may take (connect to last body byte); overrides the session's. */
  timeout?: number
  /**
   * The largest response body this request keeps, bytes; overrides the session's `maxBodyBytes`
   * (`--max-body`, default 32 MiB). Past it the hit fails as `BODY_TOO_LARGE` and the connection
   * is closed; reading `content` fails the same way if the decoded body would pass it. 0: no limit.
   */
  maxBody?: number
  /**
   * true: count this response's body bytes without keeping them (reading the body then throws
   * `LOADS_ERR_BODY_DISCARDED`); false: keep it even under `--discard-bodies`. Overrides the
   * session's `discardBodies`, as k6's per-request `responseType` overrides `discardResponseBodies`.
   */
  discardBody?: boolean
  /**
   * Send the URL's path as written, `.` and `..` segments included (curl --path-as-is); by
   * default they are resolved, as browsers and curl do. For absolute URLs and paths from `/`.
   */
  pathAsIs?: boolean
  /** Follow redirects (default true, at most 30). */
  allowRedirects?: boolean
  /** HTTP basic auth: [user, password]. */
  auth?: readonly [string, string]
  /**
   * Stats name for this request (default: the URL's path without query), e.g. `/items/{id}`.
   * Redirect hops after the first are named by their own path.
   */
  name?: string
  /**
   * The statuses this request expects, e.g. `[404]` for a lookup that must miss: a response with
   * any other status is a failed hit, one with these is not (even ≥ 400). Overrides the session's
   * `expectedStatuses`. Default: a status ≥ 400 is a failure. Redirects that are followed are
   * never failures; the expectation applies to the response the request ends with. Like k6's
   * `expectedStatuses` response callback.
   */
  expect?: readonly number[]
}

/** Checks a `maxBody` / `maxBodyBytes` value: a whole number of bytes ≥ 0. Returns it, or throws. */
export function checkMaxBody(bytes: number, where: string): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new LoadsError('LOADS_ERR_INVALID_REQUEST', `${where} takes a whole number of bytes ≥ 0 (0: no limit): got ${String(bytes)}`)
  }
  return bytes
}

/**
 * The path and query of `url` exactly as written (no dot-segment resolution), or undefined when
 * `url` is neither absolute nor a path from `/`. The fragment is left out.
 */
export function pathAsWritten(url: string): string | undefined {
  const written = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url)?.[1] ?? (url.startsWith('/') ? url.replace(/#.*$/s, '') : undefined)
  if (written === undefined) return undefined
  return written.startsWith('/') ? written : `/${written}`
}

/** Checks an `expect` list: whole numbers 100–599. Returns it, or throws a clear error. */
export function checkExpected(expect: readonly number[], where: string): readonly number[] {
  if (!Array.isArray(expect) || expect.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
    throw new LoadsError('LOADS_ERR_INVALID_REQUEST', `${where} takes a list of HTTP statuses (whole numbers 100-599), e.g. [200, 404]: got ${JSON.stringify(expect)}`)
  }
  return expect
}

/** The methods Fetch upper-cases when given in another case (its "normalize a method"). */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'])

/**
 * The method to send for `method` as the user wrote it: the common verbs in any case become
 * upper case (as Fetch does, so `request('get', …)` sends GET); any other method goes out exactly
 * as written (`wHat` stays `wHat`, as curl and undici send it). HTTP methods are case-sensitive.
 */
export function normalizeMethod(method: string): string {
  const upper = method.toUpperCase()
  return NORMALIZED_METHODS.has(upper) ? upper : method
}

/** Encodes fields as `a=1&b=x%20y`. */
export function encodeFields(fields: Fields): string {
  if (fields instanceof URLSearchParams) return fields.toString()
  const search = new URLSearchParams()
  for (const key of Object.keys(fields)) {
    const value = fields[key]
    if (Array.isArray(value)) {
      for (const item of value as readonly FieldValue[]) {
        if (item !== null && item !== undefined) search.append(key, String(item))
      }
    } else if (value !== null && value !== undefined) {
      search.append(key, String(value as string | number | boolean))
    }
  }
  return search.toString()
}

/** Appends encoded params to a request path that may already have a query. */
export function withParams(path: string, params: Fields | undefined): string {
  if (params === undefined) return path
  const query = encodeFields(params)
  if (query === '') return path
  return path + (path.includes('?') ? '&' : '?') + query
}

/**
 * Turns json / data / body into the bytes to send, setting content-type in `headers` (lower-cased
 * names) when the caller did not. Returns null for no body.
 */
export function encodeBody(options: RequestOptions, headers: Record<string, string>): Buffer | null {
  const { json, data, body } = options
  const given = (json !== undefined ? 1 : 0) + (data !== undefined ? 1 : 0) + (body !== undefined ? 1 : 0)
  if (given === 0) return null
  if (given > 1) {
    throw new LoadsError('LOADS_ERR_INVALID_REQUEST', 'pass only one of json, data and body', {
      hint: 'json serialises a value, data form-encodes fields (or sends a string as-is), body sends raw bytes',
    })
  }
  if (json !== undefined) {
    headers['content-type'] ??= 'application/json'
    return Buffer.from(JSON.stringify(json), 'utf8')
  }
  if (data !== undefined) {
    if (typeof data === 'string') return Buffer.from(data, 'utf8')
    if (data instanceof Uint8Array) return toBuffer(data)
    headers['content-type'] ??= 'application/x-www-form-urlencoded'
    return Buffer.from(encodeFields(data), 'utf8')
  }
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : toBuffer(body as Uint8Array)
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
