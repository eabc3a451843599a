import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import type { RunResult } from '../../src/report/result.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'
export class TestApi extends TestCase {
  async test_plain() {
    await this.session.get(process.env.TARGET + '/a')
    await this.session.post(process.env.TARGET + '/b', { json: { x: 1 } })
  }
  async test_own_parent() {
    await this.session.get(process.env.TARGET + '/own', { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })
  }
}
`

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/

describe('--trace-context', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'example.ts': EXAMPLE })
  })
  afterAll(() => server.close())

  it('puts a fresh traceparent, the run in tracestate and run, user and test in baggage on every request', async () => {
    const first = server.received.length
    const r = await runBin(LOADS_RUNNER, ['example.TestApi', '-u', '3', '-c', '4', '-q', '--trace-context', '--output', 'json:r.json'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code).toBe(0)
    const runId = (JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as RunResult).run.runId
    const received = server.received.slice(first)
    expect(received).toHaveLength(3 * 4 * 3)
    const traces = new Set<string>()
    const spans = new Set<string>()
    const users = new Set<string>()
    for (const req of received) {
      const tp = String(req.headers.traceparent)
      const m = TRACEPARENT.exec(tp)
      expect(m, tp).not.toBeNull()
      expect(req.headers.tracestate).toBe(`loads=run:${runId}`)
      const baggage = Object.fromEntries(String(req.headers.baggage).split(',').map((kv) => kv.split('=').map(decodeURIComponent) as [string, string]))
      expect(baggage['loads.run_id']).toBe(runId)
      expect(baggage['loads.test']).toBe(req.path === '/own' ? 'TestApi.test_own_parent' : 'TestApi.test_plain')
      users.add(baggage['loads.user']!)
      if (req.path === '/own') {
        // The test's own traceparent wins.
        expect(tp).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
      } else {
        traces.add(m![1]!)
        spans.add(m![2]!)
      }
    }
    // One trace per request, never reused; one baggage user per virtual user.
    expect(traces.size).toBe(24)
    expect(spans.size).toBe(24)
    expect(users.size).toBe(3)
  })

  it('is off by default', async () => {
    const first = server.received.length
    const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_plain', '-u', '1', '-c', '2', '-q'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code).toBe(0)
    const received = server.received.slice(first)
    expect(received).toHaveLength(4)
    for (const req of received) {
      expect(req.headers.traceparent).toBeUndefined()
      expect(req.headers.tracestate).toBeUndefined()
      expect(req.headers.baggage).toBeUndefined()
    }
  })
})
