import { connect, type Socket } from 'node:net'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { Dashboard } from '../../src/report/dashboard/dashboard.js'
import type { RunInfo } from '../../src/report/reporter.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

const INFO: RunInfo = {
  runId: 'r1',
  address: 'example.TestApi',
  tests: [{ className: 'TestApi', methodName: 'test_x' }],
  plan: { steps: [{ users: 1, durationMs: 60_000 }] },
  mode: 'local',
  workers: 1,
  startMs: Date.now(),
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** An aggregator holding `names` URL names: each update of the page is then large. */
function bigAggregator(names: number): { agg: Aggregator; snapshot: ReturnType<Recorder['snapshot']> } {
  const rec = new Recorder({ source: 'worker-0', maxEndpoints: names + 10 })
  for (let i = 0; i < names; i++) rec.recordHit('GET', `/items/${i}/a-fairly-long-path-segment-${i}`, 200, 1000 + i, 500, 0, 100, 0, null)
  const agg = new Aggregator({ startMs: INFO.startMs })
  const snapshot = rec.snapshot()
  agg.add(snapshot)
  return { agg, snapshot }
}

async function start(opts: Partial<ConstructorParameters<typeof Dashboard>[0]> = {}): Promise<{ dashboard: Dashboard; url: string; stops: number[] }> {
  const stops: number[] = []
  const dashboard = new Dashboard({ port: 0, stop: () => stops.push(Date.now()), ...opts })
  const url = await dashboard.listen()
  cleanups.push(() => dashboard.close())
  return { dashboard, url, stops }
}

/** GET/POST on 127.0.0.1 with the dashboard's port, whatever address it printed. */
function call(port: number, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      // The event stream never ends by itself: its first bytes are enough.
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.once('data', (c: Buffer) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: c.toString() })
          res.destroy()
        })
        return
      }
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('a dashboard that listens beyond loopback', () => {
  it('prints a URL with a generated token and refuses every request without it, Stop and the event stream included', async () => {
    const { dashboard, url, stops } = await start({ host: '0.0.0.0' })
    dashboard.onRunStart(INFO)
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{24})$/.exec(url)
    expect(m, url).not.toBeNull()
    const port = Number(m![1])
    const token = m![2]!

    for (const path of ['/', '/api/run', '/api/stats', '/api/events', '/metrics', '/assets/loads-ui.js', `/api/run?token=${token}x`]) {
      const r = await call(port, path)
      expect(r.status, path).toBe(401)
      expect(r.body).toContain('needs its token')
    }
    expect((await call(port, '/api/stop', { method: 'POST' })).status).toBe(401)
    expect((await call(port, '/api/run', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    expect(stops).toEqual([])

    // The printed URL opens the page, which gets a cookie for its own requests.
    const page = await call(port, `/?token=${token}`)
    expect(page.status).toBe(200)
    const cookie = String(page.headers['set-cookie']).split(';')[0]!
    expect(cookie).toBe(`loads_token_${port}=${token}`)
    expect(String(page.headers['set-cookie'])).toContain('HttpOnly; SameSite=Strict')
    expect((await call(port, '/api/events', { headers: { cookie } })).status).toBe(200)
    expect((await call(port, '/api/run', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    expect((await call(port, '/metrics', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    const stop = await call(port, '/api/stop', { method: 'POST', headers: { cookie } })
    expect(stop.status).toBe(202)
    expect(stops).toHaveLength(1)
  })

  it('on loopback needs no token (the Host check guards it), as before', async () => {
    const { url } = await start()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect((await call(Number(new URL(url).port), '/api/run')).status).toBe(200)
  })
})

describe('event-stream clients that stop reading', () => {
  it('hold at most about one update each while a reading client keeps getting them, and are dropped after a while', async () => {
    const { dashboard, url } = await start({ pushIntervalMs: 150, dropStalledClientsAfterMs: 2000 })
    dashboard.onRunStart(INFO)
    const { agg, snapshot } = bigAggregator(800)
    dashboard.onSnapshot(snapshot, agg)
    const port = Number(new URL(url).port)

    // Five clients that open the stream and never read a byte.
    const stalled: Socket[] = []
    for (let i = 0; i < 5; i++) {
      const s = connect(port, '127.0.0.1')
      s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
      s.pause()
      s.on('error', () => {})
      stalled.push(s)
      cleanups.push(() => void s.destroy())
    }
    // One that reads: it counts the updates it gets, and their size.
    let updates = 0
    let messageBytes = 0
    let partial = ''
    const reader = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        partial += c
        let end: number
        while ((end = partial.indexOf('\n\n')) >= 0) {
          const event = partial.slice(0, end)
          partial = partial.slice(end + 2)
          if (event.startsWith('event: view')) {
            updates++
            messageBytes = Math.max(messageBytes, event.length)
          }
        }
      })
    })
    reader.on('error', () => {})
    reader.end()
    cleanups.push(() => void reader.destroy())

    let maxBuffered = 0
    const started = Date.now()
    // A few seconds of updates, and at least three read (a loaded machine builds them slowly).
    while (Date.now() - started < 20_000 && (Date.now() - started < 4000 || updates < 3)) {
      await new Promise((r) => setTimeout(r, 50))
      maxBuffered = Math.max(maxBuffered, dashboard.eventBytesBuffered)
    }
    expect(messageBytes).toBeGreaterThan(250_000)
    expect(updates).toBeGreaterThanOrEqual(3)
    // Updates of ≥ 250 kB went out every 150 ms: past the kernel's socket buffers (~4 MB a
    // client), unbounded, the five stalled clients would hold all of them in the runner.
    expect(maxBuffered).toBeLessThan(6 * 2 * messageBytes)
    // Still stalled after the limit: dropped (a paused socket does not see it: the server's count
    // does), and the reader goes on.
    const before = updates
    while (Date.now() - started < 35_000 && dashboard.eventClients > 1) await new Promise((r) => setTimeout(r, 100))
    expect(dashboard.eventClients).toBe(1)
    // The next update reaches the reader (a loaded machine may take more than a moment to build it).
    for (const deadline = Date.now() + 10_000; updates <= before && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50))
    expect(updates).toBeGreaterThan(before)
  }, 60_000)
})
