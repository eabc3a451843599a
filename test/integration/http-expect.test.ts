import { afterEach, describe, expect, it } from 'vitest'
import { LoadsError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { formatSummary } from '../../src/report/console/summary.js'
import { endpointsCsv } from '../../src/report/files/csv-output.js'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { buildResult, runMeta } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { closedPort, startServer, type CountingServer } from '../helpers/http-servers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** /ok → 200, /missing → 404, /boom → 500, /moved → 302 to /missing. */
async function server(): Promise<CountingServer> {
  const srv = await startServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/missing' })
      res.end()
      return
    }
    res.statusCode = req.url === '/missing' ? 404 : req.url === '/boom' ? 500 : 200
    res.end('x')
  })
  cleanups.push(() => srv.close())
  return srv
}

function session(baseUrl: string): { s: Session; rec: Recorder } {
  const rec = new Recorder({ source: 'worker-0' })
  const s = new Session({ sink: rec, baseUrl })
  cleanups.push(() => s.close())
  return { s, rec }
}

/** Hits, network errors and unexpected statuses per `METHOD name`, from the recorder's snapshot. */
function counts(rec: Recorder): Record<string, [hits: number, network: number, http: number]> {
  const out: Record<string, [number, number, number]> = {}
  for (const e of rec.snapshot().endpoints) out[`${e.method} ${e.name}`] = [e.hits, e.errors, e.httpFailed ?? 0]
  return out
}

describe('which hits failed', () => {
  it('a status ≥ 400 fails by default; `expect` on the request says which statuses are not failures', async () => {
    const srv = await server()
    const { s, rec } = session(srv.origin)
    await s.get('/ok')
    await s.get('/missing')
    await s.get('/missing', { expect: [404], name: '/missing (expected)' })
    await s.get('/ok', { expect: [404], name: '/ok (404 expected)' })
    await s.get('/boom')
    expect(srv.requests.length).toBe(5)
    expect(counts(rec)).toEqual({
      'GET /ok': [1, 0, 0],
      'GET /missing': [1, 0, 1],
      'GET /missing (expected)': [1, 0, 0],
      'GET /ok (404 expected)': [1, 0, 1],
      'GET /boom': [1, 0, 1],
    })
  })

  it("the session's expectedStatuses is every request's default; a request's own `expect` wins", async () => {
    const srv = await server()
    const { s, rec } = session(srv.origin)
    s.expectedStatuses = [200, 404]
    await s.get('/missing')
    await s.get('/boom')
    await s.get('/ok', { expect: [500], name: '/ok as 500' })
    expect(counts(rec)).toEqual({ 'GET /missing': [1, 0, 0], 'GET /boom': [1, 0, 1], 'GET /ok as 500': [1, 0, 1] })
  })

  it('a redirect followed is never a failure: the response the request ends with is judged', async () => {
    const srv = await server()
    const { s, rec } = session(srv.origin)
    await s.get('/moved', { expect: [404] })
    expect(srv.requests.map((r) => r.url)).toEqual(['/moved', '/missing'])
    expect(counts(rec)).toEqual({ 'GET /moved': [1, 0, 0], 'GET /missing': [1, 0, 0] })
    await s.get('/moved', { expect: [200, 302], allowRedirects: false, name: 'not followed' })
    expect(counts(rec)).toEqual({ 'GET not followed': [1, 0, 0] })
  })

  it('a network error always fails, whatever is expected', async () => {
    const port = await closedPort()
    const { s, rec } = session(`http://127.0.0.1:${port}`)
    await expect(s.get('/x', { expect: [200] })).rejects.toThrow()
    expect(counts(rec)).toEqual({ 'GET /x': [1, 1, 0] })
  })

  it('refuses an expect that is not a list of statuses, with a clear error and no hit', async () => {
    const srv = await server()
    const { s, rec } = session(srv.origin)
    await expect(s.get('/ok', { expect: [2000] })).rejects.toThrow(LoadsError)
    await expect(s.get('/ok', { expect: '404' as unknown as number[] })).rejects.toThrow(/list of HTTP statuses/)
    expect(srv.requests.length).toBe(0)
    expect(counts(rec)).toEqual({})
  })

  it('one "failed" figure with its split, the same in the console, the CSV, the JSON and the errors threshold', async () => {
    const srv = await server()
    let now = 1_000_000
    const rec = new Recorder({ source: 'worker-0', now: () => now })
    const s = new Session({ sink: rec, baseUrl: srv.origin })
    cleanups.push(() => s.close())
    for (let i = 0; i < 6; i++) await s.get('/ok')
    await s.get('/missing', { expect: [404] })
    await s.get('/boom')
    await s.get('/boom')
    const port = await closedPort()
    await expect(s.get(`http://127.0.0.1:${port}/gone`)).rejects.toThrow()
    now += 1000
    const agg = new Aggregator({ startMs: 1_000_000 })
    agg.add(rec.snapshot(true))
    const summary = agg.summary()
    expect([summary.hits, summary.failed, summary.networkErrors, summary.httpFailed]).toEqual([10, 3, 1, 2])

    const text = formatSummary(summary)
    expect(text).toContain('Hits: 10 (10.0 hits/s), failed: 3 (30.0%: network errors 1, HTTP 2)')
    const boom = text.split('\n').find((l) => l.includes('/boom'))!
    expect(boom.split(/\s+/)[7]).toBe('2')
    const missing = text.split('\n').find((l) => l.includes('/missing'))!
    expect(missing.split(/\s+/)[7]).toBe('0')

    const result = buildResult(
      runMeta({ runId: 'r', address: 'a.T', tests: [], plan: { steps: [{ users: 1, hits: 1 }] }, mode: 'local', workers: 1, startMs: 1_000_000 }),
      { summary, exitCode: 0, interrupted: false, notes: [] },
      agg,
      '0.0.0',
    )
    const lines = endpointsCsv(result).trim().split('\r\n').map((l) => l.split(','))
    const col = (name: string): number => lines[0]!.indexOf(name)
    const total = lines.find((l) => l[1] === '(total)')!
    expect([total[col('failed')], total[col('network_errors')], total[col('http_failed')]]).toEqual(['3', '1', '2'])
    expect(lines.find((l) => l[1] === '/missing')![col('failed')]).toBe('0')

    const [share] = judgeThresholds([parseThreshold('errors<31%')], summary)
    expect(share).toMatchObject({ pass: true, measured: 0.3 })
    const [count] = judgeThresholds([parseThreshold('errors<3')], summary)
    expect(count).toMatchObject({ pass: false, measured: 3 })
  })
})
