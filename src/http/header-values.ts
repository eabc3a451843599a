import type { Dispatcher } from 'undici'
import type { ConnectionClient } from './origin-connection.js'

/**
 * Request header values go on the wire as their UTF-8 bytes, as curl sends them (`José` is
 * 4A 6F 73 C3 A9, not Latin-1's 4A 6F 73 E9), and a value with CR, LF or NUL is refused before
 * anything is sent: it would end the header line and let the value inject headers.
 *
 * Both HTTP/1.1 writers (H1Connection, and undici's Client) write a head as a Latin-1 string, one
 * byte per char, so a value is handed to them as its UTF-8 bytes spelled as a Latin-1 string.
 */

/** CR, LF or NUL: never allowed in a header value. */
export const FORBIDDEN_IN_VALUE = /[\0\r\n]/

const NON_ASCII = /[^\0-\x7f]/

/** `value` as its UTF-8 bytes, one char per byte (itself when it is ASCII: the common case). */
export function utf8AsLatin1(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value
}

/** The error a refused header value fails the request with (undici's code for a bad argument). */
export function forbiddenValueError(name: string): Error & { code: string } {
  const err = new Error(`the value of header '${name}' contains CR, LF or NUL, which would end the header line`) as Error & { code: string }
  err.code = 'UND_ERR_INVALID_ARG'
  return err
}

/**
 * Checks `headers` for CR, LF and NUL and spells non-ASCII values as UTF-8 for undici; returns the
 * same object when nothing needs changing. Throws `forbiddenValueError`.
 */
export function wireHeaders(headers: Dispatcher.DispatchOptions['headers']): Dispatcher.DispatchOptions['headers'] {
  if (headers === null || headers === undefined || Array.isArray(headers) || typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') return headers
  const record = headers as Record<string, unknown>
  let copy: Record<string, unknown> | null = null
  for (const name of Object.keys(record)) {
    const value = record[name]
    if (typeof value !== 'string') continue
    if (FORBIDDEN_IN_VALUE.test(value)) throw forbiddenValueError(name)
    const wire = utf8AsLatin1(value)
    if (wire !== value) (copy ??= { ...record })[name] = wire
  }
  return (copy ?? record) as Dispatcher.DispatchOptions['headers']
}

/** undici's Client, with header values checked and sent as UTF-8 (see above). */
export class Utf8HeadersClient implements ConnectionClient {
  constructor(private readonly inner: ConnectionClient) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let headers: Dispatcher.DispatchOptions['headers']
    try {
      headers = wireHeaders(options.headers)
    } catch (err) {
      handler.onError?.(err as Error)
      return false
    }
    return this.inner.dispatch(headers === options.headers || headers === undefined ? options : { ...options, headers }, handler)
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  destroy(err?: Error): Promise<void> {
    return this.inner.destroy(err)
  }
}
