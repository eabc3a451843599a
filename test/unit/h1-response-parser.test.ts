import { describe, expect, it } from 'vitest'
import { networkErrorKind } from '../../src/http/classify-network-error.js'
import { loadsVerdict, splits } from '../helpers/h1-verdict.js'
import { llhttpVerdict } from '../helpers/llhttp-oracle.js'

/**
 * The response parser's case table, written from RFC 9112 and llhttp's documented behaviour
 * (its test/response/*.md): each case is the raw bytes and what a client must make of them,
 * run whole and byte by byte, and checked against llhttp itself (undici's WebAssembly build)
 * unless the case says why Loads differs on purpose.
 */

interface Case {
  name: string
  bytes: string
  /** The request was a HEAD. */
  head?: boolean
  /** Accepted: the response a client gets (headers as [name, value] when given). */
  status?: number
  body?: string
  headers?: Array<[string, string]>
  keepAlive?: boolean
  /** Bytes after the response (stray: the connection is dropped). */
  leftover?: number
  /** Refused: the message names the violation. */
  error?: RegExp
  /** Why llhttp decides otherwise, when it does. */
  differs?: string
}

const CL = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`

const CASES: Case[] = [
  // Framing by Content-Length
  { name: 'a body framed by Content-Length', bytes: CL('hello'), status: 200, body: 'hello', keepAlive: true, leftover: 0 },
  { name: 'Content-Length: 0', bytes: CL(''), status: 200, body: '' },
  { name: 'two Content-Length headers with different values', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', error: /duplicate Content-Length/ },
  { name: 'two Content-Length headers with the same value', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', error: /duplicate Content-Length/ },
  { name: 'Content-Length as a list', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello', error: /invalid Content-Length/ },
  { name: 'Content-Length with a sign', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello', error: /invalid Content-Length/ },
  { name: 'empty Content-Length', bytes: 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n', error: /invalid Content-Length/ },
  { name: 'Content-Length beyond 2^53', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n', error: /invalid Content-Length/, differs: 'llhttp takes up to 2^64; a JS number is exact up to 2^53, and no body that large is real' },
  { name: 'Content-Length with a tab after the digits', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5\t\r\n\r\nhello', error: /invalid Content-Length/ },
  { name: 'Content-Length with spaces after the digits', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5  \r\n\r\nhello', status: 200, body: 'hello' },
  { name: 'Content-Length with a tab between digits', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 1\t2\r\n\r\nhello', error: /invalid Content-Length/ },
  { name: 'more body than Content-Length (the rest is stray)', bytes: `${CL('hello')}XX`, status: 200, body: 'hello', leftover: 2 },
  { name: 'a stray CRLF after the body', bytes: `${CL('hello')}\r\n`, status: 200, body: 'hello', leftover: 2 },
  // Transfer-Encoding
  { name: 'chunked, with extensions and trailers', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=1;b="x y"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: t\r\n\r\n', status: 200, body: 'helloabcdefghijklmnopqrstuvwxyz', keepAlive: true, leftover: 0 },
  { name: 'Transfer-Encoding: gzip, chunked (chunked last)', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: 200, body: 'abc' },
  { name: 'Transfer-Encoding: chunked, gzip (chunked not last: read until close)', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: 200, body: '3\r\nabc\r\n0\r\n\r\n', keepAlive: false },
  { name: 'Transfer-Encoding: xchunked is not chunked', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: 200, body: '3\r\nabc\r\n0\r\n\r\n', keepAlive: false },
  { name: 'Transfer-Encoding: gzip, notchunked is not chunked', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, notchunked\r\n\r\nabc', status: 200, body: 'abc', keepAlive: false },
  { name: 'Transfer-Encoding: chunkedchunked is not chunked', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedchunked\r\n\r\nabc', status: 200, body: 'abc', keepAlive: false },
  { name: 'Transfer-Encoding: CHUNKED (case-insensitive)', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: 200, body: 'abc' },
  { name: 'Content-Length together with chunked', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', error: /Content-Length and Transfer-Encoding/ },
  { name: 'a chunk size that is not hex', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', error: /invalid chunk size/ },
  { name: 'a space after the chunk size', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n', error: /chunk size/ },
  { name: 'a chunk extension without a name', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n', error: /chunk size or extensions/ },
  { name: 'no CRLF after chunk data', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n', error: /expected CRLF after chunk data/ },
  { name: 'a bare LF after a chunk size', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n', error: /bare LF after a chunk size/ },
  { name: 'an obs-fold trailer', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx: a\r\n b\r\n\r\n', error: /obs-fold/ },
  // Status line
  { name: 'HTTP/1.0 closes unless keep-alive', bytes: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', status: 200, body: 'ok', keepAlive: false },
  { name: 'HTTP/1.0 with Connection: keep-alive', bytes: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', status: 200, keepAlive: true },
  { name: 'HTTP/1.1 with Connection: close', bytes: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', status: 200, keepAlive: false },
  { name: 'no reason phrase', bytes: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', status: 200 },
  { name: 'HTTP/1.2', bytes: 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n', error: /expected HTTP\/1.0 or HTTP\/1.1/, differs: 'llhttp accepts any 1.x; RFC 9112 clients speak 1.0 and 1.1 only' },
  { name: 'HTTP/2.0 on an HTTP/1.1 connection', bytes: 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', error: /expected HTTP\/1.0 or HTTP\/1.1/, differs: 'llhttp accepts 2.0 in an HTTP/1 status line; it cannot be one' },
  { name: 'HTTX/1.1', bytes: 'HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', error: /expected HTTP\// },
  { name: 'a status code with a letter (2A0)', bytes: 'HTTP/1.1 2A0 OK\r\nContent-Length: 0\r\n\r\n', error: /three digits/ },
  { name: 'a status code with a colon (1:0)', bytes: 'HTTP/1.1 1:0 OK\r\nContent-Length: 0\r\n\r\n', error: /three digits/ },
  { name: 'a status code with a slash (2/0)', bytes: 'HTTP/1.1 2/0 OK\r\nContent-Length: 0\r\n\r\n', error: /three digits/ },
  { name: 'a two-digit status code', bytes: 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n', error: /status code|three digits/ },
  { name: 'a bare CR ending the status line', bytes: 'HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n', error: /bare CR/ },
  { name: 'a bare LF ending the status line', bytes: 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', error: /bare LF/ },
  { name: 'not HTTP at all', bytes: 'SSH-2.0-OpenSSH_9.2\r\n', error: /expected HTTP\// },
  // Header lines
  { name: 'a space before the colon (Content-Length : 2)', bytes: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok', error: /invalid character 0x20 in header name/ },
  { name: 'an obs-fold header line', bytes: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n', error: /obs-fold/ },
  { name: 'a header name with a non-token character', bytes: 'HTTP/1.1 200 OK\r\nX@Y: 1\r\nContent-Length: 0\r\n\r\n', error: /header name/ },
  { name: 'an empty header name', bytes: 'HTTP/1.1 200 OK\r\n: 1\r\nContent-Length: 0\r\n\r\n', error: /empty header name|header name/ },
  { name: 'NUL in a header value', bytes: 'HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n', error: /control character 0x00/ },
  { name: 'DEL in a header value', bytes: 'HTTP/1.1 200 OK\r\nX: a\x7fb\r\nContent-Length: 0\r\n\r\n', error: /control character 0x7f/ },
  { name: 'a bare CR in a header value', bytes: 'HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n', error: /bare CR/ },
  { name: 'a bare LF between headers', bytes: 'HTTP/1.1 200 OK\r\nX: a\nContent-Length: 0\r\n\r\n', error: /bare LF/ },
  { name: 'obs-text and HTAB in a value, surrounding whitespace trimmed', bytes: 'HTTP/1.1 200 OK\r\nX: \t caf\xe9\tau lait \t\r\nContent-Length: 0\r\n\r\n', status: 200, headers: [['X', 'caf\xe9\tau lait'], ['Content-Length', '0']], differs: 'llhttp keeps trailing whitespace in the value; RFC 9110 §5.5 excludes it' },
  { name: 'an empty header value', bytes: 'HTTP/1.1 200 OK\r\nX:\r\nContent-Length: 0\r\n\r\n', status: 200, headers: [['X', ''], ['Content-Length', '0']] },
  // No body
  { name: '1xx responses before the response are skipped', bytes: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n' + CL('hi'), status: 200, body: 'hi' },
  { name: '101 Switching Protocols is refused', bytes: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n', error: /101/ },
  { name: '204 has no body, whatever follows', bytes: 'HTTP/1.1 204 No Content\r\n\r\nbody', status: 204, body: '', leftover: 4 },
  { name: '304 has no body despite Content-Length', bytes: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', status: 304, body: '', leftover: 0 },
  { name: 'HEAD has no body despite Content-Length', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', head: true, status: 200, body: '', leftover: 0 },
  { name: 'a body without length runs until the server closes', bytes: 'HTTP/1.1 200 OK\r\n\r\nuntil close', status: 200, body: 'until close', keepAlive: false },
  { name: 'a Content-Length body cut short', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', error: /incomplete/ },
  // Size
  { name: 'a head over 16 KiB', bytes: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(16 * 1024)}\r\n\r\n`, error: /response head larger than 16384 bytes/, differs: 'llhttp itself has no limit: undici adds one (maxHeaderSize, 16 KiB of names and values)' },
  { name: 'a head of 16 KiB with many lines', bytes: `HTTP/1.1 200 OK\r\n${'X-L: 0123456789\r\n'.repeat(1000)}\r\n`, error: /larger than 16384/, differs: 'undici counts header names and values only' },
]

describe('H1ResponseParser case table (RFC 9112, llhttp)', () => {
  for (const c of CASES) {
    for (const [how, pieces] of splits(Buffer.from(c.bytes, 'latin1'))) {
      if (how === 'byte by byte' && c.bytes.length > 4096) continue // the size cases: whole, and in 1 KiB pieces below
      it(`${c.name} (${how})`, () => {
        const v = loadsVerdict(pieces, c.head)
        if (c.error !== undefined) {
          expect(v.ok, JSON.stringify(v)).toBe(false)
          if (!v.ok) {
            expect(v.error).toMatch(c.error)
            if (!/incomplete/.test(v.error)) expect(networkErrorKind({ code: v.code })).toBe('PROTOCOL')
          }
        } else {
          expect(v.ok, JSON.stringify(v)).toBe(true)
          if (v.ok) {
            if (c.status !== undefined) expect(v.status).toBe(c.status)
            if (c.body !== undefined) expect(v.body).toBe(c.body)
            if (c.headers !== undefined) expect(v.headers).toEqual(c.headers)
            if (c.keepAlive !== undefined) expect(v.keepAlive).toBe(c.keepAlive)
            if (c.leftover !== undefined) expect(v.leftover).toBe(c.leftover)
          }
        }
        if (c.differs === undefined) {
          const oracle = llhttpVerdict(pieces, c.head)
          expect(oracle.ok, `llhttp: ${JSON.stringify(oracle)}`).toBe(v.ok)
          if (oracle.ok && v.ok) expect({ ...v, headers: null }).toEqual({ ...oracle, headers: null })
        }
      })
    }
  }

  it('refuses an oversized head however its bytes arrive (1 KiB pieces, and one byte then the rest)', () => {
    const big = Buffer.from(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, 'latin1')
    const kib = Array.from({ length: Math.ceil(big.length / 1024) }, (_, i) => big.subarray(i * 1024, (i + 1) * 1024))
    for (const pieces of [kib, [big.subarray(0, 1), big.subarray(1)]]) {
      const v = loadsVerdict(pieces)
      expect(v.ok).toBe(false)
      if (!v.ok) expect(v.error).toMatch(/larger than 16384/)
    }
  })

  it('fails a malformed status line on its first bytes, without waiting for the rest of the head', () => {
    for (const start of ['HTTX', 'HTTP/2', 'X']) {
      const v = loadsVerdict([Buffer.from(start, 'latin1')])
      expect(v.ok).toBe(false)
      if (!v.ok) expect(v.code).toMatch(/^HPE_INVALID_(CONSTANT|VERSION)$/)
    }
  })
})
