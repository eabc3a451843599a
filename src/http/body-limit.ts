import { LoadsError } from './errors.js'

/**
 * The largest response body a request keeps by default, bytes (32 MiB): `--max-body`, the
 * session's `maxBodyBytes`, a request's `maxBody`. It bounds the decoded body as well
 * (gzip, deflate, br), so a compressed bomb cannot blow the heap either. 0: no limit.
 */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

/**
 * A response whose body goes past the request's limit: the exchange aborts with it, the
 * connection is closed (the rest of the body is never read) and the hit is of kind
 * `BODY_TOO_LARGE`. Its code is undici's for the same case (`maxResponseSize`).
 */
export class BodyTooLargeError extends Error {
  readonly code = 'UND_ERR_RES_EXCEEDED_MAX_SIZE'
  constructor(
    readonly limitBytes: number,
    /** What the server declared (content-length) or what had arrived when the limit was passed. */
    readonly seenBytes: number,
    declared: boolean,
    host: string,
  ) {
    super(
      declared
        ? `the response from ${host} declares a body of ${seenBytes} bytes (content-length), over the limit of ${limitBytes} bytes`
        : `the response body from ${host} passed the limit of ${limitBytes} bytes (${seenBytes} bytes received)`,
    )
  }
}

/** The hint shown with a body over its limit, in a hit's error and when decoding. */
export const BODY_LIMIT_HINT = 'raise --max-body (or the request\'s maxBody option; 0: no limit), or pass --discard-bodies (discardBody) if the test never reads the body'

/** Thrown by `Response.content` when decoding the body would pass the request's limit. */
export function decodedTooLargeError(limitBytes: number, coding: string, cause: unknown): LoadsError {
  return new LoadsError('LOADS_ERR_BODY_TOO_LARGE', `the response body, decoded (${coding}), is over the limit of ${limitBytes} bytes`, {
    hint: BODY_LIMIT_HINT,
    cause,
  })
}

/** Thrown by `Response.content`, `text`, `json()` and `rawContent` of a response whose body was discarded. */
export function bodyDiscardedError(url: string): LoadsError {
  return new LoadsError('LOADS_ERR_BODY_DISCARDED', `the body of the response from ${url} was discarded (--discard-bodies, or discardBody on the request): it was counted, not kept`, {
    hint: 'pass { discardBody: false } to the requests whose body the test reads',
  })
}
