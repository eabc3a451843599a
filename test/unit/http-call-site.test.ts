import { describe, expect, it } from 'vitest'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { withCallSite } from '../../src/http/call-site.js'
import { NetworkError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import type { HitSink } from '../../src/stats/hit-sink.js'

const HERE = fileURLToPath(import.meta.url)

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

/** A "test" that requests a name from two lines: the failure points at the first line that asked. */
async function firstLine(s: Session): Promise<unknown> {
  return s.get('/a').catch((e: unknown) => e) // line 21
}
async function secondLine(s: Session): Promise<unknown> {
  return s.get('/a').catch((e: unknown) => e) // line 24
}
async function otherName(s: Session): Promise<unknown> {
  return s.get('/b', { name: 'b-from-27' }).catch((e: unknown) => e) // line 27
}

describe('the call site of a request', () => {
  it("puts the test's line in a refused connection's stack, though the error is raised from a socket callback", async () => {
    const hits: string[] = []
    const sink = { recordHit: (_m: string, _n: string, _s: number, _t: number, _f: number, _c: number, _i: number, _o: number, kind: string | null) => void hits.push(String(kind)) } as unknown as HitSink
    const s = new Session({ sink, baseUrl: `http://127.0.0.1:${await closedPort()}`, timeoutMs: 2000 })
    const a = (await firstLine(s)) as NetworkError
    expect(a).toBeInstanceOf(NetworkError)
    expect(a.kind).toBe('ECONNREFUSED')
    const lines = a.stack!.split('\n')
    expect(lines[0]).toBe(`NetworkError: ${a.message}`)
    expect(lines.find((l) => l.includes(HERE))).toMatch(new RegExp(`at firstLine \\(${HERE.replaceAll('/', '\\/').replaceAll('.', '\\.')}:21:\\d+\\)$`))
    // The same name from another line: captured once per name, so it shows the first line.
    expect(((await secondLine(s)) as Error).stack).toContain(`${HERE}:21:`)
    expect(((await otherName(s)) as Error).stack).toContain(`${HERE}:27:`)
    expect(hits).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'])
    await s.close()
  })

  it('keeps the name and message line of the error it rewrites', () => {
    const site: { stack?: string } = {}
    Error.captureStackTrace(site)
    const e = withCallSite(new TypeError('boom\nsecond line'), site)
    expect(e.stack!.split('\n').slice(0, 3)).toEqual(['TypeError: boom', 'second line', expect.stringContaining(`${HERE}:`)])
    expect(withCallSite(e, undefined)).toBe(e)
  })
})
