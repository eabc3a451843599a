import zlib from 'node:zlib'
import { decodedTooLargeError } from './body-limit.js'
import { LoadsError } from './errors.js'

// Like browsers and urllib3, a body cut short after a valid prefix is decoded as far as it goes
// rather than refused: the load test measures the server, the body is for the test's eyes.
const LENIENT = { finishFlush: zlib.constants.Z_SYNC_FLUSH }
const LENIENT_BROTLI = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }

/**
 * The body a `content-encoding` header describes, decoded: gzip (x-gzip), deflate (zlib-wrapped,
 * or raw as some servers send it) and br, applied in reverse order when several are listed.
 * Codings Node.js cannot decode (zstd on Node 20, compress) leave the bytes as received.
 * Throws a LoadsError (`LOADS_ERR_CONTENT_DECODING`) when the bytes do not match their coding,
 * and `LOADS_ERR_BODY_TOO_LARGE` when a decoded stage would pass `maxBytes` (0: no limit): zlib
 * stops inflating there, so a compressed bomb costs at most `maxBytes` of memory per stage.
 */
export function decodeContent(wire: Buffer, contentEncoding: string | undefined, maxBytes = 0): Buffer {
  if (contentEncoding === undefined || wire.length === 0) return wire
  const codings = contentEncoding.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== 'identity')
  const capped = maxBytes > 0
  const zlibOptions = capped ? { ...LENIENT, maxOutputLength: maxBytes } : LENIENT
  const brotliOptions = capped ? { ...LENIENT_BROTLI, maxOutputLength: maxBytes } : LENIENT_BROTLI
  let body = wire
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!
    try {
      if (coding === 'gzip' || coding === 'x-gzip') body = zlib.gunzipSync(body, zlibOptions)
      else if (coding === 'br') body = zlib.brotliDecompressSync(body, brotliOptions)
      else if (coding === 'deflate') body = inflate(body, zlibOptions)
      else return body
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw decodedTooLargeError(maxBytes, coding, err)
      throw new LoadsError('LOADS_ERR_CONTENT_DECODING', `the response body is not valid ${coding} (content-encoding: ${contentEncoding}): ${(err as Error).message}`, {
        hint: 'read the bytes as received with `response.rawContent`',
        cause: err,
      })
    }
  }
  return body
}

/** RFC 9110's deflate is zlib-wrapped, but servers that send raw deflate are common enough. */
function inflate(body: Buffer, options: zlib.ZlibOptions): Buffer {
  // A zlib stream starts with a CMF byte of 0x?8 whose 16-bit header is a multiple of 31.
  const zlibWrapped = body.length >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0
  return zlibWrapped ? zlib.inflateSync(body, options) : zlib.inflateRawSync(body, options)
}
