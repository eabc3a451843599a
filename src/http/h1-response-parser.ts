import { H1Error } from './h1-error.js'
import { RawHeadSpans } from './raw-headers.js'

/**
 * HTTP/1.1 responses, bytes in, events out: a pure state machine that knows nothing of sockets
 * (H1Connection owns those), as strict as llhttp by default (RFC 9112), checked against llhttp
 * by a case table and a differential fuzz test (test/unit/h1-response-parser*.test.ts).
 *
 * What it refuses, each with a message naming the violation (codes are llhttp's, kind PROTOCOL):
 * a status line other than `HTTP/1.0` or `HTTP/1.1`, one space, three digits, then a space and a
 * reason or nothing; bare CR or LF anywhere in a head, a chunk line or the trailers; header names
 * that are not tokens (`Content-Length : 2`), obs-fold lines, control characters in values;
 * Content-Length that is not digits, twice, or beside Transfer-Encoding; chunk sizes that are not
 * hex, bad chunk extensions, anything but CRLF after chunk data; heads (and trailers) over
 * `MAX_HEAD_BYTES` however their bytes arrive; 101 Switching Protocols. Transfer-Encoding is a
 * token list whose last coding must be exactly `chunked` for the body to be chunked; otherwise
 * a response's body runs until the server closes (RFC 9112 §6.3).
 *
 * Bytes are checked as they arrive, so a violation is reported within the read that carries it,
 * not after a timeout.
 */
export class H1ResponseParser {
  /** Whether the connection may carry another request after this response. */
  keepAlive = true
  /** Why parsing stopped, once `execute` returned -1. */
  error: H1Error | null = null

  #state = State.Idle
  #noBody = false
  /** Bytes of an incomplete head or line, kept until the rest arrives (a head: from its start). */
  #partial: Buffer | null = null
  /** Where to resume scanning the head, relative to its start (always at a line start). */
  #resume = 0
  /** Bytes of trailers seen so far (they share the head's size limit). */
  #trailerBytes = 0
  #remaining = 0
  // What the head said, line by line.
  #status = 0
  #minor = 0
  #reasonStart = 0
  #reasonEnd = 0
  /** Spans of the head's lines so far, in a scratch list reused head after head (see #headerLine). */
  readonly #spans: number[] = []
  #spanCount = 0
  #contentLength = -1
  #transferEncoding = false
  #teHeader = false
  #chunked = false
  /** Connection tokens seen, over every Connection header (flags of `Connection`). */
  #connection = 0
  #hasSetCookie = false

  constructor(private readonly events: ResponseEvents) {}

  /** Expect a response to a new request (`noBody`: it was a HEAD). */
  start(noBody: boolean): void {
    this.#noBody = noBody
    this.#state = State.Head
    this.#partial = null
    this.#resume = 0
    this.#trailerBytes = 0
    this.keepAlive = true
    this.error = null
    this.#newHead()
  }

  /** Whether a response head has been received, i.e. the body is being read (for timeouts). */
  get inBody(): boolean {
    return this.#state > State.Head
  }

  /** Whether the response is whole. */
  get complete(): boolean {
    return this.#state === State.Done
  }

  /**
   * Parses `chunk`. Returns how many of its bytes came after the end of the response when it
   * completed (they belong to no request), 0 when more is needed (see `complete`), or -1 after a
   * violation (`error`) or when an event handler asked to stop.
   */
  execute(chunk: Buffer): number {
    let buf = chunk
    let offset = 0
    if (this.#partial !== null) {
      buf = Buffer.concat([this.#partial, chunk])
      this.#partial = null
    }
    while (offset < buf.length) {
      switch (this.#state) {
        case State.Head:
          offset = this.#head(buf, offset)
          break
        case State.Length: {
          const n = Math.min(this.#remaining, buf.length - offset)
          this.#remaining -= n
          const more = this.events.onBody(buf.subarray(offset, offset + n))
          offset += n
          if (!more) return -1
          if (this.#remaining === 0) this.#state = State.Done
          break
        }
        case State.UntilClose:
          if (!this.events.onBody(offset === 0 ? buf : buf.subarray(offset))) return -1
          offset = buf.length
          break
        case State.ChunkSize:
          offset = this.#chunkSize(buf, offset)
          break
        case State.ChunkData: {
          const n = Math.min(this.#remaining, buf.length - offset)
          this.#remaining -= n
          const more = this.events.onBody(buf.subarray(offset, offset + n))
          offset += n
          if (!more) return -1
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd
          break
        }
        case State.ChunkDataEnd:
          if (buf.length - offset < 2) {
            if (buf[offset] !== CR) return this.#fail('HPE_STRICT', 'expected CRLF after chunk data')
            this.#partial = buf.subarray(offset)
            return buf.length
          }
          if (buf[offset] !== CR || buf[offset + 1] !== LF) return this.#fail('HPE_STRICT', 'expected CRLF after chunk data')
          offset += 2
          this.#state = State.ChunkSize
          break
        case State.Trailers:
          offset = this.#trailer(buf, offset)
          break
        case State.Done:
          return buf.length - offset
        default:
          return this.#fail('HPE_INVALID_CONSTANT', 'bytes before any request was sent')
      }
      if (offset < 0) return -1
    }
    return 0
  }

  /**
   * The server closed the connection. Returns true when that completes the response (a body
   * read until close); otherwise false, with `error` set when the response was cut short.
   */
  finish(): boolean {
    if (this.#state === State.UntilClose) {
      this.#state = State.Done
      return true
    }
    return false
  }

  #newHead(): void {
    this.#status = 0
    this.#spanCount = 0
    this.#contentLength = -1
    this.#transferEncoding = false
    this.#teHeader = false
    this.#chunked = false
    this.#connection = 0
    this.#hasSetCookie = false
  }

  #fail(code: string, message: string): number {
    this.#state = State.Failed
    this.#partial = null
    this.error = new H1Error(code, message)
    return -1
  }

  /** Scans head lines from `offset` (the head's start, or where a previous read stopped). */
  #head(buf: Buffer, offset: number): number {
    const start = offset
    let line = offset + this.#resume
    for (;;) {
      const cr = lineEnd(buf, line)
      if (cr === BARE_LF) return this.#fail('HPE_CR_EXPECTED', 'bare LF in the response head (lines must end with CRLF)')
      if (cr === BARE_CR) return this.#fail('HPE_LF_EXPECTED', 'bare CR in the response head (lines must end with CRLF)')
      if (cr < 0) {
        if (this.#status === 0 && !this.#statusPrefixOk(buf, line)) return -1
        if (buf.length - start > MAX_HEAD_BYTES) return this.#fail('UND_ERR_HEADERS_OVERFLOW', `response head larger than ${MAX_HEAD_BYTES} bytes`)
        this.#partial = buf.subarray(start)
        this.#resume = line - start
        return buf.length
      }
      if (cr + 2 - start > MAX_HEAD_BYTES) return this.#fail('UND_ERR_HEADERS_OVERFLOW', `response head larger than ${MAX_HEAD_BYTES} bytes`)
      if (this.#status === 0) {
        if (!this.#statusLine(buf, line, cr)) return -1
      } else if (cr === line) {
        this.#resume = 0
        return this.#headDone(buf, start, cr + 2)
      } else if (!this.#headerLine(buf, line, cr, start, true)) {
        return -1
      }
      line = cr + 2
    }
  }

  /** While the status line is incomplete: fail at once unless it starts like `HTTP/1.`. */
  #statusPrefixOk(buf: Buffer, from: number): boolean {
    const n = Math.min(buf.length - from, 7)
    for (let i = 0; i < n; i++) {
      if (buf[from + i] !== STATUS_PREFIX[i]) {
        this.#fail(i < 5 ? 'HPE_INVALID_CONSTANT' : 'HPE_INVALID_VERSION', `${i < 5 ? 'expected HTTP/' : 'expected HTTP/1.0 or HTTP/1.1'} at the start of the response: ${quote(buf, from, from + n)}`)
        return false
      }
    }
    return true
  }

  #statusLine(buf: Buffer, s: number, e: number): boolean {
    if (!this.#statusPrefixOk(buf, s)) return false
    const minor = buf[s + 7]! - 0x30
    if (e - s < 8 || (minor !== 0 && minor !== 1)) return this.#failed('HPE_INVALID_VERSION', `expected HTTP/1.0 or HTTP/1.1: ${quote(buf, s, e)}`)
    if (e - s < 12 || buf[s + 8] !== SP) return this.#failed('HPE_INVALID_STATUS', `expected a space and a three-digit status code: ${quote(buf, s, e)}`)
    const d0 = buf[s + 9]! - 0x30
    const d1 = buf[s + 10]! - 0x30
    const d2 = buf[s + 11]! - 0x30
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return this.#failed('HPE_INVALID_STATUS', `the status code is not three digits: ${quote(buf, s, e)}`)
    if (e > s + 12 && buf[s + 12] !== SP) return this.#failed('HPE_INVALID_STATUS', `expected a space after the status code: ${quote(buf, s, e)}`)
    // The reason phrase is any bytes up to the CRLF, as llhttp takes it (clients ignore it).
    this.#minor = minor
    this.#status = d0 * 100 + d1 * 10 + d2
    this.#reasonStart = Math.min(s + 13, e)
    this.#reasonEnd = e
    return true
  }

  /** One header (or trailer) line [s, e); `head` lines are kept (as spans relative to `base`). */
  #headerLine(buf: Buffer, s: number, e: number, base: number, head: boolean): boolean {
    const first = buf[s]!
    if (first === SP || first === HTAB) return this.#failed('HPE_INVALID_HEADER_TOKEN', 'obs-fold: a header line starts with whitespace (folded lines are not allowed)')
    let colon = s
    while (colon < e && TOKEN[buf[colon]!] === 1) colon++
    if (colon === e || buf[colon] !== COLON) return this.#failed('HPE_INVALID_HEADER_TOKEN', `invalid character ${hex(buf[colon] ?? 0)} in header name ${quote(buf, s, Math.min(colon + 1, e))}`)
    if (colon === s) return this.#failed('HPE_INVALID_HEADER_TOKEN', 'empty header name')
    let vs = colon + 1
    let ve = e
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--
    for (let i = vs; i < ve; i++) {
      if (VALUE_CHAR[buf[i]!] === 0) return this.#failed('HPE_INVALID_HEADER_TOKEN', `control character ${hex(buf[i]!)} in the value of header ${quote(buf, s, colon)}`)
    }
    if (!head) return true
    const nameLength = colon - s
    if (nameLength === 14 && nameIs(buf, s, 'content-length')) {
      if (this.#contentLength !== -1) return this.#failed('HPE_UNEXPECTED_CONTENT_LENGTH', 'duplicate Content-Length')
      // llhttp takes spaces after the digits, not tabs.
      // (A tab within the digits fails parseDecimal; after them, only [ve, e) is left to look at.)
      const n = hasTab(buf, ve, e) ? -1 : parseDecimal(buf, vs, ve)
      if (n < 0) return this.#failed('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length ${quote(buf, vs, ve)}`)
      this.#contentLength = n
    } else if (nameLength === 17 && nameIs(buf, s, 'transfer-encoding')) {
      // An empty value names no coding (llhttp ignores it too, but not beside Content-Length).
      this.#teHeader = true
      if (ve > vs) {
        this.#transferEncoding = true
        this.#chunked = lastCodingIsChunked(buf, vs, ve)
      }
    } else if (nameLength === 10) {
      if (nameIs(buf, s, 'connection')) this.#connection |= connectionTokens(buf, vs, ve)
      else if (nameIs(buf, s, 'set-cookie')) this.#hasSetCookie = true
    }
    // Written into the scratch list (no growth once it has held a head this long); the head gets
    // an exact copy at its end.
    const spans = this.#spans
    const at = this.#spanCount
    spans[at] = s - base
    spans[at + 1] = colon - base
    spans[at + 2] = vs - base
    spans[at + 3] = ve - base
    this.#spanCount = at + 4
    return true
  }

  #failed(code: string, message: string): false {
    this.#fail(code, message)
    return false
  }

  /** The head [start, end) is whole. */
  #headDone(buf: Buffer, start: number, end: number): number {
    const status = this.#status
    if (this.#teHeader && this.#contentLength !== -1) {
      return this.#fail('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length and Transfer-Encoding together (request smuggling risk)')
    }
    // `close` wins over `keep-alive` when a response says both (llhttp keeps an HTTP/1.0 one).
    const close = (this.#connection & Connection.Close) !== 0
    this.keepAlive = !close && (this.#minor === 1 || (this.#connection & Connection.KeepAlive) !== 0)
    if (status < 200) {
      // 100 Continue, 103 Early Hints …: not the response. 101 would switch protocols: refused.
      if (status === 101) return this.#fail('UND_ERR_INFO', 'unexpected 101 Switching Protocols')
      if (!this.keepAlive) return this.#fail('HPE_CLOSED_CONNECTION', `data after a ${status} response that closes the connection`)
      this.#newHead()
      return end
    }
    const bytes = start === 0 && end === buf.length ? buf : buf.subarray(start, end)
    const reason = reasonText(buf, this.#reasonStart, this.#reasonEnd)
    const head = new RawHeadSpans(bytes, this.#spans.slice(0, this.#spanCount), this.#hasSetCookie, this.#contentLength)
    if (this.#noBody || status === 204 || status === 304) {
      this.#state = State.Done
    } else if (this.#transferEncoding) {
      if (this.#chunked) {
        this.#state = State.ChunkSize
      } else {
        this.#state = State.UntilClose
        this.keepAlive = false
      }
    } else if (this.#contentLength >= 0) {
      this.#remaining = this.#contentLength
      this.#state = this.#contentLength === 0 ? State.Done : State.Length
    } else {
      this.#state = State.UntilClose
      this.keepAlive = false
    }
    if (!this.events.onHead(status, reason, head)) return -1
    return end
  }

  /** A chunk-size line: hex size, optional `;name[=value]` extensions, CRLF. */
  #chunkSize(buf: Buffer, offset: number): number {
    const cr = lineEnd(buf, offset)
    if (cr === BARE_LF) return this.#fail('HPE_CR_EXPECTED', 'bare LF after a chunk size')
    if (cr === BARE_CR) return this.#fail('HPE_LF_EXPECTED', 'bare CR after a chunk size')
    if (cr < 0) return this.#keep(buf, offset, 'chunk-size line')
    let size = 0
    let i = offset
    for (; i < cr; i++) {
      const digit = HEX[buf[i]!]!
      if (digit === 0xff) break
      size = size * 16 + digit
    }
    if (i === offset || size > Number.MAX_SAFE_INTEGER) return this.#fail('HPE_INVALID_CHUNK_SIZE', `invalid chunk size ${quote(buf, offset, cr)}`)
    if (i < cr && (buf[i] !== SEMICOLON || !validExtensions(buf, i, cr))) return this.#fail('HPE_INVALID_CHUNK_SIZE', `invalid character in chunk size or extensions ${quote(buf, offset, cr)}`)
    if (size === 0) {
      this.#state = State.Trailers
      this.#trailerBytes = 0
    } else {
      this.#remaining = size
      this.#state = State.ChunkData
    }
    return cr + 2
  }

  /** A trailer line, or the empty line that ends the response. */
  #trailer(buf: Buffer, offset: number): number {
    const cr = lineEnd(buf, offset)
    if (cr === BARE_LF) return this.#fail('HPE_CR_EXPECTED', 'bare LF in the trailers')
    if (cr === BARE_CR) return this.#fail('HPE_LF_EXPECTED', 'bare CR in the trailers')
    if (cr < 0) return this.#keep(buf, offset, 'trailers')
    this.#trailerBytes += cr + 2 - offset
    if (this.#trailerBytes > MAX_HEAD_BYTES) return this.#fail('UND_ERR_HEADERS_OVERFLOW', `trailers larger than ${MAX_HEAD_BYTES} bytes`)
    if (cr === offset) {
      this.#state = State.Done
      return cr + 2
    }
    if (!this.#headerLine(buf, offset, cr, offset, false)) return -1
    return cr + 2
  }

  /** Keeps an incomplete line for the next read, within the size limit. */
  #keep(buf: Buffer, offset: number, what: string): number {
    if (buf.length - offset + this.#trailerBytes > MAX_HEAD_BYTES) return this.#fail('UND_ERR_HEADERS_OVERFLOW', `${what} longer than ${MAX_HEAD_BYTES} bytes`)
    this.#partial = buf.subarray(offset)
    return buf.length
  }
}

/** What the parser tells: the head of the (final) response, and its body. */
export interface ResponseEvents {
  /** A final response's head; return false to stop parsing (the request was failed meanwhile). */
  onHead(status: number, reason: string, head: RawHeadSpans): boolean
  /** A piece of the body (a view of the bytes read); return false to stop. */
  onBody(chunk: Buffer): boolean
}

/** Heads (status line and headers), chunk lines and trailers longer than this fail (undici's default maxHeaderSize). */
export const MAX_HEAD_BYTES = 16 * 1024

const enum State {
  Idle,
  Head,
  Length,
  UntilClose,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Done,
  Failed,
}

const enum Connection {
  KeepAlive = 1,
  Close = 2,
}

const CR = 0x0d
const LF = 0x0a
const SP = 0x20
const HTAB = 0x09
const COLON = 0x3a
const SEMICOLON = 0x3b
const BARE_LF = -2
const BARE_CR = -3
const STATUS_PREFIX = Buffer.from('HTTP/1.', 'latin1')

/** tchar (RFC 9110 §5.6.2): 1, else 0. */
const TOKEN = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1
/** field-vchar, SP and HTAB (obs-text included, as llhttp accepts): 1, else 0. */
const VALUE_CHAR = new Uint8Array(256)
for (let c = 0x20; c < 0x100; c++) VALUE_CHAR[c] = c === 0x7f ? 0 : 1
VALUE_CHAR[HTAB] = 1
const HEX = new Uint8Array(256).fill(0xff)
for (let c = 0; c < 16; c++) {
  HEX['0123456789abcdef'.charCodeAt(c)] = c
  HEX['0123456789ABCDEF'.charCodeAt(c)] = c
}

/**
 * The index of the CR ending the line that starts at `from`, -1 when the line is not all here,
 * BARE_LF or BARE_CR when a line break is malformed.
 */
function lineEnd(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i]
    if (c === CR) {
      if (i + 1 === buf.length) return -1
      return buf[i + 1] === LF ? i : BARE_CR
    }
    if (c === LF) return BARE_LF
  }
  return -1
}

/**
 * Chunk extensions from the `;` at `i` to `end`: `;name[=token|quoted-string]`, repeated. As
 * llhttp: a name may be empty only before `=`, a value may be empty.
 */
function validExtensions(buf: Buffer, i: number, end: number): boolean {
  while (i < end) {
    if (buf[i] !== SEMICOLON) return false
    i++
    const nameStart = i
    while (i < end && TOKEN[buf[i]!] === 1) i++
    if (i === nameStart && buf[i] !== 0x3d) return false
    if (i < end && buf[i] === 0x3d) {
      i++
      if (buf[i] === 0x22) {
        i++
        while (i < end && buf[i] !== 0x22) {
          if (buf[i] === 0x5c) i++
          else if (VALUE_CHAR[buf[i]!] === 0) return false
          i++
        }
        if (i >= end) return false
        i++
      } else {
        while (i < end && TOKEN[buf[i]!] === 1) i++
      }
    }
  }
  return true
}

/** Whether the header name at buf[start…] equals `lower` (same length checked by the caller). */
function nameIs(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}

function hasTab(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === HTAB) return true
  return false
}

function parseDecimal(buf: Buffer, start: number, end: number): number {
  if (start === end) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n > Number.MAX_SAFE_INTEGER ? -1 : n
}

/** Whether the last coding of a Transfer-Encoding list is exactly `chunked` (any case). */
function lastCodingIsChunked(buf: Buffer, start: number, end: number): boolean {
  let e = end
  while (e > start && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--
  if (e - start < 7 || !nameIs(buf, e - 7, 'chunked')) return false
  const before = e - 8
  if (before < start) return true
  let i = before
  while (i >= start && (buf[i] === SP || buf[i] === HTAB)) i--
  return i >= start && buf[i] === 0x2c
}

/** The close and keep-alive tokens of a Connection value, as flags. */
function connectionTokens(buf: Buffer, start: number, end: number): number {
  if (end - start === 10 && nameIs(buf, start, 'keep-alive')) return Connection.KeepAlive
  if (end - start === 5 && nameIs(buf, start, 'close')) return Connection.Close
  const text = buf.toString('latin1', start, end).toLowerCase()
  return (/(^|,)\s*close\s*(,|$)/.test(text) ? Connection.Close : 0) | (/(^|,)\s*keep-alive\s*(,|$)/.test(text) ? Connection.KeepAlive : 0)
}

/** The reason phrase; the usual "OK" without allocating a string. */
function reasonText(buf: Buffer, start: number, end: number): string {
  if (end - start === 2 && buf[start] === 0x4f && buf[start + 1] === 0x4b) return 'OK'
  return start >= end ? '' : buf.toString('latin1', start, end)
}

function quote(buf: Buffer, start: number, end: number): string {
  return JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 60)))
}

function hex(c: number): string {
  return `0x${c.toString(16).padStart(2, '0')}`
}
