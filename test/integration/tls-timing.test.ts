import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createSecureServer } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Server } from 'node:net'
import { createSecureContext } from 'node:tls'
import Ajv2020 from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { NetworkError } from '../../src/http/errors.js'
import { parseResolve } from '../../src/http/resolve-map.js'
import { Session } from '../../src/http/session.js'
import { formatSummary } from '../../src/report/console/summary.js'
import { endpointsCsv } from '../../src/report/files/csv-output.js'
import { formatJson } from '../../src/report/files/json-output.js'
import { buildResult, runMeta } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import type { HitSink } from '../../src/stats/hit-sink.js'
import { Recorder } from '../../src/stats/recorder.js'
import type { RunSummary } from '../../src/stats/types.js'
import { makeSelfSignedCert, type TlsFixture } from '../helpers/http-servers.js'
import { resetOnRetry } from '../helpers/retry-reset.js'

/** How long the TLS server holds each handshake (in SNICallback): the TLS time must include it, the connect time never. */
const HANDSHAKE_DELAY_MS = 250

/** A server that counts TCP connections, TLS handshakes and requests; `close` in a response header ends the connection. */
interface Counted {
  port: number
  /** performance.now() at each SNI callback: the server has the ClientHello, so the client's TCP connect is over. */
  sniAt: number[]
  connections: number
  handshakes: number
  requests: number
  close(): Promise<void>
}

function handler(counted: Counted) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    counted.requests++
    if (req.url === '/close') res.setHeader('connection', 'close')
    res.end('ok')
  }
}

async function listen(server: Server, counted: Counted): Promise<Counted> {
  server.on('connection', () => counted.connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  counted.port = (server.address() as AddressInfo).port
  counted.close = () =>
    new Promise<void>((resolve) => {
      ;(server as Server & { closeAllConnections?: () => void }).closeAllConnections?.()
      server.close(() => resolve())
    })
  return counted
}

function blank(): Counted {
  return { port: 0, sniAt: [], connections: 0, handshakes: 0, requests: 0, close: async () => {} }
}

/** SNI answered after a delay: the handshake (and only it) takes at least HANDSHAKE_DELAY_MS. */
function slowSni(cert: TlsFixture, counted: Counted) {
  const context = createSecureContext(cert)
  return (_name: string, cb: (err: Error | null, ctx: ReturnType<typeof createSecureContext>) => void): void => {
    counted.sniAt.push(performance.now())
    setTimeout(() => cb(null, context), HANDSHAKE_DELAY_MS)
  }
}

function summaryOf(rec: Recorder, now: { ms: number }): { summary: RunSummary; agg: Aggregator } {
  now.ms += 1000
  const agg = new Aggregator({ startMs: 1_000_000 })
  agg.add(rec.snapshot(true))
  return { summary: agg.summary(), agg }
}

describe('TLS handshake time, apart from the TCP connect', () => {
  let cert: TlsFixture
  let https: Counted
  let h2: Counted
  let plain: Counted
  beforeAll(async () => {
    cert = makeSelfSignedCert()
    https = blank()
    const httpsServer = createHttpsServer({ ...cert, SNICallback: slowSni(cert, https) }, handler(https))
    httpsServer.on('secureConnection', () => https.handshakes++)
    await listen(httpsServer, https)
    h2 = blank()
    const h2Server = createSecureServer({ ...cert, SNICallback: slowSni(cert, h2) }, handler(h2) as never)
    h2Server.on('secureConnection', () => h2.handshakes++)
    await listen(h2Server as unknown as Server, h2)
    plain = blank()
    await listen(createHttpServer(handler(plain)), plain)
    // A retried test counts from zero again: the failed attempt's connections and handshakes are not its own.
    resetOnRetry(() => {
      for (const c of [https, h2, plain]) Object.assign(c, { sniAt: [], connections: 0, handshakes: 0, requests: 0 })
    })
  })
  afterAll(async () => {
    await Promise.all([https.close(), h2.close(), plain.close()])
  })

  it('HTTP/1.1 over TLS: one handshake per connection the server saw, the first at least the server\'s delay, the connect ended before it', async () => {
    const now = { ms: 1_000_000 }
    const rec = new Recorder({ source: 'worker-0', now: () => now.ms })
    // A host name (pinned to 127.0.0.1) so the client sends SNI and the server's delay applies.
    const session = new Session({ sink: rec, insecure: true, resolve: parseResolve([`tls.test:${https.port}:127.0.0.1`]) })
    const base = `https://tls.test:${https.port}`
    const sent = performance.now()
    const first = await session.get(`${base}/keep`)
    const reused = await session.get(`${base}/keep`)
    await session.get(`${base}/close`)
    await session.get(`${base}/keep`)
    await session.get(`${base}/keep`)
    await session.close()
    expect([https.requests, https.connections, https.handshakes]).toEqual([5, 2, 2])

    expect(first.tlsUs).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS * 1000)
    expect(first.connectUs).toBeGreaterThan(0)
    // The connect (TCP) ended before the server had the ClientHello; a connect that took the
    // handshake in would end after the server's delay. (The request started after `sent`.)
    expect(sent + first.connectUs / 1000).toBeLessThan(https.sniAt[0]! + HANDSHAKE_DELAY_MS)
    expect([reused.connectUs, reused.tlsUs]).toEqual([0, 0])

    const { summary } = summaryOf(rec, now)
    const [e] = summary.endpoints.filter((x) => x.name === '/keep')
    const [c] = summary.endpoints.filter((x) => x.name === '/close')
    expect([e!.hits, e!.connects, e!.tlsHandshakes, c!.hits, c!.connects, c!.tlsHandshakes]).toEqual([4, 2, 2, 1, 0, undefined])
    // The second connection resumed the TLS session (no SNI callback, no delay): the mean of the
    // two handshakes is at least half the first's delay.
    expect(e!.tlsMeanMs! * 2).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)
  })

  it('HTTP/2: the handshake of the one connection goes to the request that opened it', async () => {
    const now = { ms: 1_000_000 }
    const rec = new Recorder({ source: 'worker-0', now: () => now.ms })
    const session = new Session({ sink: rec, insecure: true, http2: true, resolve: parseResolve([`tls.test:${h2.port}:127.0.0.1`]) })
    const sent = performance.now()
    const first = await session.get(`https://tls.test:${h2.port}/a`)
    await Promise.all([1, 2, 3].map(() => session.get(`https://tls.test:${h2.port}/a`)))
    await session.close()
    expect([h2.requests, h2.connections, h2.handshakes]).toEqual([4, 1, 1])
    expect(first.tlsUs).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS * 1000)
    expect(sent + first.connectUs / 1000).toBeLessThan(h2.sniAt[0]! + HANDSHAKE_DELAY_MS)
    const { summary } = summaryOf(rec, now)
    const [e] = summary.endpoints
    expect([e!.hits, e!.connects, e!.tlsHandshakes]).toEqual([4, 1, 1])
    expect(e!.tlsMeanMs).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)
  })

  it('a handshake that fails (an untrusted certificate) is a TLS hit whose handshake time is counted', async () => {
    const now = { ms: 1_000_000 }
    const rec = new Recorder({ source: 'worker-0', now: () => now.ms })
    const before = https.handshakes
    const session = new Session({ sink: rec, resolve: parseResolve([`tls.test:${https.port}:127.0.0.1`]) })
    const err = await session.get(`https://tls.test:${https.port}/keep`).catch((e: unknown) => e)
    await session.close()
    expect((err as NetworkError).kind).toBe('TLS')
    expect(https.handshakes).toBe(before)
    const { summary } = summaryOf(rec, now)
    expect(summary.endpoints.map((x) => [x.hits, x.errors, x.connects, x.tlsHandshakes])).toEqual([[1, 1, 1, 1]])
    expect(summary.endpoints[0]!.tlsMeanMs).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)
  })

  it('plain HTTP has no TLS time — absent, not 0 ms — in the summary, console, CSV and JSON; with TLS all four show it', async () => {
    const now = { ms: 1_000_000 }
    const rec = new Recorder({ source: 'worker-0', now: () => now.ms })
    const session = new Session({ sink: rec, insecure: true, resolve: parseResolve([`tls.test:${https.port}:127.0.0.1`]) })
    for (let i = 0; i < 3; i++) await session.get(`http://127.0.0.1:${plain.port}/plain`)
    await session.get(`https://tls.test:${https.port}/secure`)
    await session.close()
    const { summary, agg } = summaryOf(rec, now)
    const p = summary.endpoints.find((x) => x.name === '/plain')!
    const s = summary.endpoints.find((x) => x.name === '/secure')!
    expect([p.hits, p.connects, 'tlsHandshakes' in p, 'tlsMeanMs' in p]).toEqual([3, 1, false, false])
    expect([s.hits, s.connects, s.tlsHandshakes]).toEqual([1, 1, 1])

    const lines = formatSummary(summary).split('\n')
    const title = lines.indexOf('Per URL, continued (CONNECT ms: TCP, TLS ms: the handshake after it, means of the hits that opened a connection):')
    expect(title).toBeGreaterThan(0)
    const header = lines[title + 1]!.split(/\s{2,}/)
    const cell = (name: string, column: string): string => lines.slice(title + 2).find((l) => l.includes(name))!.trim().split(/\s{2,}/)[header.indexOf(column)]!
    expect(cell('/plain', 'TLS ms')).toBe('–')
    expect(Number(cell('/secure', 'TLS ms'))).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)

    const result = buildResult(
      runMeta({ runId: 'r', address: 'a.T', tests: [], plan: { steps: [{ users: 1, hits: 1 }] }, mode: 'local', workers: 1, startMs: 1_000_000 }),
      { summary, exitCode: 0, interrupted: false, notes: [] },
      agg,
      '0.0.0',
    )
    const csv = endpointsCsv(result).trim().split('\r\n').map((l) => l.split(','))
    const col = (name: string): number => csv[0]!.indexOf(name)
    const row = (name: string): string[] => csv.find((l) => l[1] === name)!
    expect([row('/plain')[col('tls_handshakes')], row('/plain')[col('tls_mean_ms')]]).toEqual(['', ''])
    expect(row('/secure')[col('tls_handshakes')]).toBe('1')
    expect(Number(row('/secure')[col('tls_mean_ms')])).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)
    expect(row('(total)')[col('tls_handshakes')]).toBe('1')

    const json = JSON.parse(formatJson(result)) as { summary: RunSummary }
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
    expect(json.summary.endpoints.find((x) => x.name === '/plain')).not.toHaveProperty('tlsMeanMs')
    // The schema refuses a TLS time without its count, and a count of 0 (absent means none).
    const zero = structuredClone(json)
    Object.assign(zero.summary.endpoints.find((x) => x.name === '/plain')!, { tlsHandshakes: 0, tlsMeanMs: 0 })
    expect(validate(zero)).toBe(false)
    const half = structuredClone(json)
    delete half.summary.endpoints.find((x) => x.name === '/secure')!.tlsHandshakes
    expect(validate(half)).toBe(false)
  })
})

/** One hit's figures as the sink got them (tlsUs 0 when omitted: "0 or omitted when there was none"). */
interface TimedHit {
  method: string
  status: number
  errorKind: string | null
  connectUs: number
  tlsUs: number
  ttfbUs: number
  totalUs: number
}

/** The Session class with `LOADS_HTTPS1=undici` set while its modules load (the switch is read then). */
async function undiciSession(): Promise<typeof Session> {
  vi.stubEnv('LOADS_HTTPS1', 'undici')
  vi.resetModules()
  try {
    return (await import('../../src/http/session.js')).Session
  } finally {
    vi.unstubAllEnvs()
  }
}

describe('HTTPS/1.1 timing figures per hit, through Loads\' client and through undici (LOADS_HTTPS1=undici)', () => {
  let cert: TlsFixture
  let server: Counted
  beforeAll(async () => {
    cert = makeSelfSignedCert()
    server = blank()
    const httpsServer = createHttpsServer({ ...cert, SNICallback: slowSni(cert, server) }, handler(server))
    httpsServer.on('secureConnection', () => server.handshakes++)
    await listen(httpsServer, server)
  })
  afterAll(() => server.close())

  // Each client makes GET, GET, HEAD, GET, GET /close, GET. Loads' client keeps its connection
  // after a HEAD; undici closes it after every HEAD (docs/http-client.md), so there the 4th hit
  // opens a connection of its own — which also shows that the switch took undici. `opened`: the
  // hits that opened a connection (TCP and TLS times > 0); every other hit reused one (both 0).
  const cases = [
    { client: "Loads' client (the default)", load: () => Promise.resolve(Session), opened: [true, false, false, false, false, true], connections: 2 },
    { client: 'undici (LOADS_HTTPS1=undici)', load: undiciSession, opened: [true, false, false, true, false, true], connections: 3 },
  ]
  for (const { client, load, opened, connections } of cases) {
    it(`${client}: the server's count of hits, connects and handshakes; TCP, TLS and TTFB times where a connection opened, 0 where one was reused`, async () => {
      const SessionClass = await load()
      // Counts from zero for each client (and for a retry).
      Object.assign(server, { sniAt: [], connections: 0, handshakes: 0, requests: 0 })
      const now = { ms: 1_000_000 }
      const rec = new Recorder({ source: 'worker-0', now: () => now.ms })
      const hits: TimedHit[] = []
      const sink: HitSink = {
        recordHit(method, name, status, totalUs, ttfbUs, connectUs, bytesIn, bytesOut, errorKind, failed, scenario, tlsUs) {
          hits.push({ method, status, errorKind, connectUs, tlsUs: tlsUs ?? 0, ttfbUs, totalUs })
          rec.recordHit(method, name, status, totalUs, ttfbUs, connectUs, bytesIn, bytesOut, errorKind, failed, scenario, tlsUs)
        },
      }
      // A host name (pinned to 127.0.0.1) so the client sends SNI and the server's delay applies.
      const session = new SessionClass({ sink, insecure: true, resolve: parseResolve([`tls.test:${server.port}:127.0.0.1`]) })
      const base = `https://tls.test:${server.port}`
      const sent = performance.now()
      const responses = [
        await session.get(`${base}/keep`),
        await session.get(`${base}/keep`),
        await session.head(`${base}/keep`),
        await session.get(`${base}/keep`),
        await session.get(`${base}/close`),
        await session.get(`${base}/keep`),
      ]
      await session.close()

      // What the server saw, and what was recorded: one hit per request, one connect and one
      // handshake per connection.
      expect([server.requests, server.connections, server.handshakes]).toEqual([6, connections, connections])
      expect(hits.map((h) => [h.method, h.status, h.errorKind])).toEqual(['GET', 'GET', 'HEAD', 'GET', 'GET', 'GET'].map((m) => [m, 200, null]))
      expect(hits.map((h) => [h.connectUs > 0, h.tlsUs > 0])).toEqual(opened.map((o) => [o, o]))
      for (const [i, h] of hits.entries()) {
        // Reused: exactly 0, never a small number.
        if (!opened[i]) expect([h.connectUs, h.tlsUs], `hit ${i + 1}`).toEqual([0, 0])
        // TTFB and the total count from the request's start: a connect and a handshake are in them
        // (+1: each figure is rounded to the µs).
        expect(h.ttfbUs, `hit ${i + 1}`).toBeGreaterThan(0)
        expect(h.ttfbUs + 1, `hit ${i + 1}`).toBeGreaterThanOrEqual(h.connectUs + h.tlsUs)
        expect(h.totalUs, `hit ${i + 1}`).toBeGreaterThanOrEqual(h.ttfbUs)
        // The response says what the sink got.
        const r = responses[i]!
        expect([r.connectUs, r.tlsUs, r.totalUs, Math.round(r.elapsed * 1000)], `hit ${i + 1}`).toEqual([h.connectUs, h.tlsUs, h.totalUs, h.ttfbUs])
      }
      // The first handshake waited for the server's SNI delay; the TCP connect ended before it.
      const first = hits[0]!
      expect(first.tlsUs).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS * 1000)
      expect(first.ttfbUs).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS * 1000)
      expect(sent + first.connectUs / 1000).toBeLessThan(server.sniAt[0]! + HANDSHAKE_DELAY_MS)

      // The recorded figures add up to the same counts.
      const { summary } = summaryOf(rec, now)
      const sum = (f: (e: (typeof summary.endpoints)[number]) => number): number => summary.endpoints.reduce((n, e) => n + f(e), 0)
      expect([summary.hits, sum((e) => e.connects), sum((e) => e.tlsHandshakes ?? 0)]).toEqual([6, connections, connections])
      const keep = summary.endpoints.find((e) => e.method === 'GET' && e.name === '/keep')!
      expect([keep.hits, keep.connects, keep.tlsHandshakes]).toEqual([4, connections, connections])
      expect(keep.connectMeanMs).toBeGreaterThan(0)
      expect(keep.tlsMeanMs! * keep.tlsHandshakes!).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)
      expect(keep.ttfb.max).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS)
      expect(keep.ttfb.min).toBeGreaterThan(0)
      const close = summary.endpoints.find((e) => e.name === '/close')!
      expect([close.hits, close.connects, 'tlsHandshakes' in close]).toEqual([1, 0, false])
    })
  }
})
