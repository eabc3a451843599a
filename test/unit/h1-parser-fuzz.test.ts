import { describe, expect, it } from 'vitest'
import { loadsVerdict } from '../helpers/h1-verdict.js'
import { llhttpVerdict, type Verdict } from '../helpers/llhttp-oracle.js'
import { rng } from '../helpers/rng.js'

/**
 * Differential fuzzing of the response parser against llhttp (undici's WebAssembly build, the
 * parser of `LOADS_HTTP1=undici`): a seeded generator mutates valid responses — split points,
 * duplicated and conflicting headers, Transfer-Encoding lists, chunk framing, status lines,
 * control bytes, bare CR and LF — and both parsers must agree on accept or reject and, when both
 * accept, on status, headers, body, keep-alive and where the response ends.
 *
 * 5,000 cases per CI run; more with LOADS_FUZZ_CASES=200000 (and another LOADS_FUZZ_SEED).
 * A divergence prints its seed, case number and bytes.
 *
 * Deliberate differences (see `deliberate` below), each because Loads follows RFC 9112 where
 * llhttp is lenient:
 * - versions other than HTTP/1.0 and HTTP/1.1 are refused (llhttp takes 0.9, 1.x, 2.0 …);
 * - trailing whitespace is not part of a header value (RFC 9110 §5.5; llhttp keeps it);
 * - Content-Length beyond 2^53 is refused (llhttp takes up to 2^64);
 * - an HTTP/1.0 response that says both `Connection: keep-alive` and `close` closes (llhttp keeps
 *   it: the safe reading of a contradiction is the one that cannot desynchronise);
 * - a tab after a Connection token or a Transfer-Encoding coding is whitespace (llhttp no longer
 *   sees the token);
 * - a CR not followed by LF anywhere in a head is refused (RFC 9112 §2.2; llhttp skips a CR
 *   before a response and after some lines);
 * - a status code below 100 (`099`) is refused (llhttp takes it as informational);
 * - bytes before a status line are refused (llhttp skips CR and LF there): on a kept connection
 *   they are stray bytes, and the connection is dropped before they could be parsed anyway;
 * - an empty chunk extension (`5;;a=1`) is refused (llhttp takes some: `;;`, `;=1`, not `;`);
 * - an empty Transfer-Encoding beside Content-Length is refused whatever their order (llhttp
 *   refuses it only when Content-Length comes first).
 */

const CASES = Number(process.env['LOADS_FUZZ_CASES'] ?? 5000)
const SEED = Number(process.env['LOADS_FUZZ_SEED'] ?? 20261202)

const BASES: Array<{ text: string; head?: boolean }> = [
  { text: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello' },
  { text: 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;a=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n' },
  { text: 'HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close' },
  { text: 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n' },
  { text: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 9\r\n\r\n' },
  { text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
  { text: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', head: true },
  { text: 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 3\r\n\r\nnah' },
  { text: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nk' },
  { text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n' },
]

const CODINGS = ['chunked', 'gzip', 'xchunked', 'chunkedx', 'CHUNKED', 'chunked ', ' chunked', 'identity', 'chunked;q=1', '']
const BYTES = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x3b, 0x3d, 0x7f, 0x80, 0xff, 0x30, 0x39, 0x61, 0x46]

/** One mutated response, as text (one char per byte). */
function mutate(random: () => number, text: string): string {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const at = (): number => Math.floor(random() * (text.length + 1))
  const headEnd = text.indexOf('\r\n\r\n')
  const lines = (): number[] => {
    const starts: number[] = []
    for (let i = text.indexOf('\r\n'); i !== -1 && i < headEnd; i = text.indexOf('\r\n', i + 2)) starts.push(i + 2)
    return starts
  }
  const insertHeader = (line: string): void => {
    const starts = lines()
    const where = starts.length > 0 ? pick(starts) : text.indexOf('\r\n') + 2
    text = text.slice(0, where) + line + '\r\n' + text.slice(where)
  }
  switch (Math.floor(random() * 14)) {
    case 0: // a control or separator byte somewhere
      return (() => {
        const i = at()
        return text.slice(0, i) + String.fromCharCode(pick(BYTES)) + text.slice(i)
      })()
    case 1: // a byte replaced
      return (() => {
        const i = Math.floor(random() * text.length)
        return text.slice(0, i) + String.fromCharCode(pick(BYTES)) + text.slice(i + 1)
      })()
    case 2: // a byte deleted
      return (() => {
        const i = Math.floor(random() * text.length)
        return text.slice(0, i) + text.slice(i + 1)
      })()
    case 3: // a duplicated header line
      return (() => {
        const starts = lines()
        if (starts.length < 2) return text
        const s = pick(starts.slice(0, -1))
        const e = text.indexOf('\r\n', s) + 2
        return text.slice(0, e) + text.slice(s, e) + text.slice(e)
      })()
    case 4:
      insertHeader(`Content-Length: ${pick(['0', '2', '5', '05', '5 ', ' 5', '5,5', '-1', '1e2', '99999999999999999999'])}`)
      return text
    case 5:
      insertHeader(`Transfer-Encoding: ${pick(CODINGS)}${random() < 0.5 ? '' : `, ${pick(CODINGS)}`}`)
      return text
    case 6: // the status line
      return pick(['HTTP/1.1 ', 'HTTP/1.0 ', 'HTTP/1.2 ', 'HTTP/2.0 ', 'http/1.1 ', 'HTTP/1.1  ', 'HTTP/11 ', 'HTTX/1.1 ', 'HTTP/1.1\t']) +
        pick(['200', '2A0', '1:0', '2/0', '099', '999', '20', '2000', '100', '101']) +
        pick([' OK', '', ' ', ' O\x01K', ' OK ']) +
        text.slice(text.indexOf('\r\n'))
    case 7: // a bare LF or CR for a CRLF
      return (() => {
        const i = text.indexOf('\r\n', Math.floor(random() * text.length))
        if (i === -1) return text
        return text.slice(0, i) + pick(['\n', '\r', '\r\r\n', '\n\r']) + text.slice(i + 2)
      })()
    case 8: // obs-fold
      insertHeader(`X-Fold: a\r\n${pick([' ', '\t'])}b`)
      return text
    case 9: // a header name with whitespace or odd characters
      insertHeader(pick(['X-A : 1', 'X A: 1', ' X-A: 1', 'X-A:1', 'X-\x01: 1', ': 1', 'X-A;: 1', 'X-É: 1']))
      return text
    case 10: // chunk framing
      return text
        .replace(/\r\n([0-9a-f]+)(;[^\r]*)?\r\n/i, (_m, size: string) => `\r\n${pick([size, size + ' ', 'x' + size, size + ';', size + ';a', size + ';a=', size + ';a="b', size + ';a="b"', '0x' + size, size.padStart(20, '0'), 'ffffffffffffffffff'])}\r\n`)
    case 11: // chunk data end
      return text.replace(/(\r\n[0-9a-f]+(?:;[^\r]*)?\r\n[^\r]+)\r\n/i, (_m, before: string) => before + pick(['', '\n', '\r', 'X\r\n', '\r\n\r\n']))
    case 12: // Connection header
      insertHeader(`Connection: ${pick(['close', 'keep-alive', 'Close', 'keep-alive, close', 'upgrade', 'foo'])}`)
      return text
    default: // extra bytes after the response
      return text + pick(['\r\n', 'XX', 'HTTP/1.1 404 Smuggled\r\nContent-Length: 1\r\n\r\nX'])
  }
}

/** Random split points (the same pieces for both parsers). */
function split(random: () => number, bytes: Buffer): Buffer[] {
  const style = random()
  if (style < 0.3) return [bytes]
  if (style < 0.45) return [...bytes].map((b) => Buffer.from([b]))
  const pieces: Buffer[] = []
  let i = 0
  while (i < bytes.length) {
    const n = 1 + Math.floor(random() * 12)
    pieces.push(bytes.subarray(i, i + n))
    i += n
  }
  return pieces
}

const OWS_END = /[ \t]+$/

/** A divergence Loads means to have, or null. */
function deliberate(bytes: Buffer, loads: Verdict, oracle: Verdict): string | null {
  const text = bytes.toString('latin1')
  const versions = [...text.matchAll(/(?:^|\r\n)HTTP\/(\d)\.(\d) /g)].map((m) => `${m[1]}.${m[2]}`)
  if (!loads.ok && /expected HTTP\/1\.0 or HTTP\/1\.1/.test(loads.error) && versions.some((v) => v !== '1.0' && v !== '1.1')) return 'version'
  if (!loads.ok && /invalid Content-Length/.test(loads.error) && /Content-Length: *\d{17,}/i.test(text)) return 'content-length beyond 2^53'
  if (!loads.ok && /bare CR/.test(loads.error) && /\r(?!\n)/.test(text)) return 'a bare CR'
  if (!loads.ok && /three digits/.test(loads.error) && /(?:^|\r\n)HTTP\/1\.[01] 0\d\d/.test(text)) return 'a status code below 100'
  if (/\r\nTransfer-Encoding:[^\r]*\t\r\n/i.test(text)) return 'a tab after a Transfer-Encoding coding is whitespace'
  if (!loads.ok && /(?:^|\r\n\r\n)[\r\n]/.test(text)) return 'bytes before the status line'
  if (!loads.ok && /Content-Length and Transfer-Encoding/.test(loads.error) && /\r\nTransfer-Encoding:[ \t]*\r\n/i.test(text)) return 'an empty Transfer-Encoding beside Content-Length'
  if (!loads.ok && /chunk size or extensions/.test(loads.error) && /;(?:;|=|\r)/.test(text)) return 'an empty chunk extension'
  if (!loads.ok && /response that closes the connection/.test(loads.error) && /\r\nConnection:[^\r]*close/i.test(text)) return 'close wins over keep-alive in an HTTP/1.0 response'
  if (loads.ok && oracle.ok && loads.keepAlive !== oracle.keepAlive && JSON.stringify(comparable({ ...loads, keepAlive: oracle.keepAlive })) === JSON.stringify(comparable(oracle))) {
    if (!loads.keepAlive && /\r\nConnection:[^\r]*close/i.test(text)) return 'close wins over keep-alive in an HTTP/1.0 response'
    if (/\r\nConnection:[^\r]*\t\r\n/i.test(text)) return 'a tab after a Connection token is whitespace'
  }
  return null
}

function comparable(v: Verdict): unknown {
  if (!v.ok) return { ok: false }
  return { ...v, headers: v.headers.map(([n, value]) => [n, value.replace(OWS_END, '')]) }
}

describe(`H1ResponseParser vs llhttp, ${CASES} seeded mutations (seed ${SEED})`, () => {
  it('accept and reject alike, and read the same status, headers, body, keep-alive and end', () => {
    const random = rng(SEED)
    const divergences: string[] = []
    const seen = { accepted: 0, refused: 0, deliberate: 0 }
    for (let n = 0; n < CASES && divergences.length < 5; n++) {
      const base = BASES[Math.floor(random() * BASES.length)]!
      let text = base.text
      const rounds = 1 + Math.floor(random() * 3)
      for (let r = 0; r < rounds; r++) text = mutate(random, text)
      const bytes = Buffer.from(text, 'latin1')
      const pieces = split(random, bytes)
      const loads = loadsVerdict(pieces, base.head)
      const oracle = llhttpVerdict(pieces, base.head)
      if (JSON.stringify(comparable(loads)) === JSON.stringify(comparable(oracle))) {
        if (loads.ok) seen.accepted++
        else seen.refused++
        continue
      }
      if (deliberate(bytes, loads, oracle) !== null) {
        seen.deliberate++
        continue
      }
      divergences.push(
        `seed ${SEED} case ${n} (head: ${base.head === true}), pieces ${pieces.map((p) => p.length).join(',')}\n` +
          `  bytes: ${JSON.stringify(text)}\n  loads:  ${JSON.stringify(loads)}\n  llhttp: ${JSON.stringify(oracle)}`,
      )
    }
    expect(divergences.join('\n\n')).toBe('')
    // The generator exercises both sides.
    expect(seen.accepted).toBeGreaterThan(CASES / 10)
    expect(seen.refused).toBeGreaterThan(CASES / 10)
  })
})
