import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { Dashboard } from '../../src/report/dashboard/dashboard.js'
import type { LiveMessage } from '../../src/report/page-data.js'
import type { RunInfo } from '../../src/report/reporter.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

const INFO: RunInfo = {
  runId: 'r1',
  address: 'example.TestApi',
  tests: [{ className: 'TestApi', methodName: 'test_a' }],
  plan: { steps: [{ users: 3, hits: 10 }] },
  mode: 'cluster',
  workers: 2,
  startMs: Date.now(),
}

/** A raw GET, so the Host header can be anything. */
function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Reads server-sent events until `count` `view` events arrived. */
async function readEvents(url: string, count: number): Promise<LiveMessage[]> {
  const res = await fetch(url)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const messages: LiveMessage[] = []
  for (let i = 0; i < 100 && messages.length < count; i++) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
    let end: number
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end)
      text = text.slice(end + 2)
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (block.startsWith('event: view') && data !== undefined) messages.push(JSON.parse(data) as LiveMessage)
    }
  }
  await reader.cancel()
  return messages
}

describe('the dashboard server', () => {
  let dashboard: Dashboard | undefined
  afterEach(() => dashboard?.close())

  it('serves the run, the merged stats per agent, an event stream, and the summary once over', async () => {
    let stops = 0
    dashboard = new Dashboard({ port: 0, stop: () => stops++, thresholds: [parseThreshold('errors<10'), parseThreshold('/a:p99<1s')], pushIntervalMs: 50 })
    const url = await dashboard.listen()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const port = Number(new URL(url).port)
    expect(JSON.parse((await get(port, '/api/run')).body)).toEqual({ state: 'starting', stopRequested: false, paused: false, pauseState: 'running', pausePending: 0, changes: [], sources: [] })

    dashboard.onRunStart(INFO)
    const agg = new Aggregator({ startMs: INFO.startMs })
    for (const agent of ['host-a-1', 'host-b-2']) {
      const rec = new Recorder({ source: agent })
      rec.setActiveUsers(3)
      for (let i = 0; i < 10; i++) rec.recordHit('GET', '/a', 200, 1000, 500, 0, 10, 10, null)
      rec.recordTest('pass', 'TestApi.test_a')
      agg.add(rec.snapshot(false))
      dashboard.onSnapshot(undefined, agg)
    }
    const run = JSON.parse((await get(port, '/api/run')).body)
    expect(run).toMatchObject({ state: 'running', run: { runId: 'r1', mode: 'cluster', plan: INFO.plan }, activeUsers: 6 })
    expect(run.sources.map((s: { source: string; hits: number }) => [s.source, s.hits])).toEqual([
      ['host-a-1', 10],
      ['host-b-2', 10],
    ])
    const stats = JSON.parse((await get(port, '/api/stats')).body)
    expect(stats.live.hits).toBe(20)
    expect(stats.summary.endpoints[0]).toMatchObject({ method: 'GET', name: '/a', hits: 20 })
    expect(stats.thresholds.map((t: { threshold: string; pass: boolean }) => [t.threshold, t.pass])).toEqual([
      ['errors<10', true],
      ['/a:p99<1s', true],
    ])
    expect((await get(port, '/api/summary')).status).toBe(409)

    const [first, second] = await readEvents(`${url}api/events`, 2)
    expect(first).toMatchObject({ fullSeries: true, done: false, view: { state: 'running', summary: { hits: 20 } } })
    expect(second).toMatchObject({ fullSeries: false, done: false })

    const stop = await fetch(`${url}api/stop`, { method: 'POST' })
    expect(stop.status).toBe(202)
    expect(stops).toBe(1)
    expect(dashboard.stopRequested).toBe(true)

    await dashboard.onRunEnd({ summary: agg.summary(), exitCode: 130, interrupted: true, notes: [] }, agg)
    // Without --dashboard-keep the server is gone once the run is over.
    await expect(fetch(`${url}api/run`)).rejects.toThrow()
  })

  it('refuses other Host names (DNS rebinding) and says what exists', async () => {
    dashboard = new Dashboard({ port: 0, stop: () => {} })
    const port = Number(new URL(await dashboard.listen()).port)
    expect((await get(port, '/api/run', 'evil.example:80')).status).toBe(421)
    expect((await get(port, '/api/run', `localhost:${port}`)).status).toBe(200)
    const missing = await get(port, '/nope')
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body).api).toContain('POST /api/stop')
    const page = await get(port, '/')
    expect(page.body).toContain('<script src="assets/loads-ui.js"></script>')
    const js = await get(port, '/assets/loads-ui.js')
    expect(js.status).toBe(200)
    expect(js.body.length).toBeGreaterThan(10_000)
  })

  it('says clearly when its port is taken', async () => {
    dashboard = new Dashboard({ port: 0, stop: () => {} })
    const port = Number(new URL(await dashboard.listen()).port)
    const second = new Dashboard({ port, stop: () => {} })
    await expect(second.listen()).rejects.toThrow(`--dashboard: cannot listen on 127.0.0.1:${port}: the port is in use`)
  })
})
