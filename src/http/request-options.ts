import { LoadsError } from './errors.js'

/** One value of a query-string or form field; null and undefined fields are left out. */
export type FieldValue = string | number | boolean | null | undefined

/** Query-string or form fields: an array value repeats the key (`a=1&a=2`). */
export type Fields = Readonly<Record<string, FieldValue | readonly FieldValue[]>> | URLSearchParams

/** Per-request options, named after Requests' keyword arguments. */
export interface RequestOptions {
  /** Query-string fields, appended to any query already in the URL. */
  params?: Fields
  /** Extra headers for this request; they override the session's defaults (case-insensitive). */
  headers?: Readonly<Record<string, string>>
  /** Serialised with JSON.stringify; sets content-type application/json unless given. */
  json?: unknown
  /** Fields are form-encoded (application/x-www-form-urlencoded); a string or bytes are sent as-is. */
  data?: Fields | string | Uint8Array
  /** Raw body, sent as-is with no content-type. */
  body?: string | Uint8Array
  /** Milliseconds to wait for the response headers, then for each body chunk; overrides the session's. */
  timeout?: number
  /** Follow redirects (default true, at most 30). */
  allowRedirects?: boolean
  /** HTTP basic auth: [user, password]. */
  auth?: readonly [string, string]
  /**
   * Stats name for this request (default: the URL's path without query), e.g. `/items/{id}`.
   * Redirect hops after the first are named by their own path.
   */
  name?: string
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
