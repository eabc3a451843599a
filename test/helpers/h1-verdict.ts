import { H1ResponseParser } from '../../src/http/h1-response-parser.js'
import type { Verdict } from './llhttp-oracle.js'

/** What Loads' parser makes of `pieces` (then the end of the stream), in the oracle's terms. */
export function loadsVerdict(pieces: readonly Buffer[], head = false): Verdict & { code?: string } {
  let result: { status: number; reason: string; headers: Array<[string, string]> } | null = null
  const body: Buffer[] = []
  const parser = new H1ResponseParser({
    onHead(status, reason, spans) {
      const list = spans.list
      const headers: Array<[string, string]> = []
      for (let i = 0; i + 1 < list.length; i += 2) headers.push([list[i]!.toString('latin1'), list[i + 1]!.toString('latin1')])
      result = { status, reason, headers }
      return true
    },
    onBody(chunk) {
      body.push(Buffer.from(chunk))
      return true
    },
  })
  parser.start(head)
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!
    if (piece.length === 0) continue
    const leftover = parser.execute(piece)
    if (leftover < 0) return { ok: false, error: parser.error?.message ?? 'stopped', code: parser.error?.code ?? '' }
    if (parser.complete) {
      let rest = leftover
      for (let j = i + 1; j < pieces.length; j++) rest += pieces[j]!.length
      return done(result!, body, parser.keepAlive, rest)
    }
  }
  if (parser.finish()) return done(result!, body, parser.keepAlive, 0)
  return { ok: false, error: parser.error?.message ?? 'incomplete response at end of stream', code: parser.error?.code ?? 'INCOMPLETE' }
}

function done(r: { status: number; reason: string; headers: Array<[string, string]> }, body: Buffer[], keepAlive: boolean, leftover: number): Verdict {
  return { ok: true, status: r.status, reason: r.reason, headers: r.headers, body: Buffer.concat(body).toString('latin1'), keepAlive, leftover }
}

/** `bytes` whole, and one byte per piece. */
export function splits(bytes: Buffer): Array<[string, Buffer[]]> {
  return [
    ['whole', [bytes]],
    ['byte by byte', [...bytes].map((b) => Buffer.from([b]))],
  ]
}
