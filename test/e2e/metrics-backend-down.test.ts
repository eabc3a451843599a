import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { promQuery, startPrometheus } from '../helpers/metrics-backends.js'
import { createServer, type Socket } from 'node:net'

const EXAMPLE = `
import { TestCase } from 'loads-runner'
export class TestApi extends TestCase {
  async test_ok() {
    const res = await this.session.get(process.env.TARGET + '/ok')
    this.assertEqual(res.status, 200)
    await new Promise((r) => setTimeout(r, 20))
  }
}
`

describe('a metrics backend that goes away mid-run', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'example.ts': EXAMPLE })
  })
  afterAll(() => server.close())

  it('changes neither the exit code nor the numbers; the writes it could not make are counted', async () => {
    const prom = await startPrometheus()
    let stopped: Promise<void> | undefined
    try {
      const before = server.count
      let summaryAt = 0
      const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_ok', '-u', '2', '-d', '4s', '-q', '--output', `prometheus:${prom.url}`], {
        cwd: dir,
        env: { TARGET: server.url },
        onStdout: (text) => {
          if (summaryAt === 0 && text.includes('<TestResult')) summaryAt = Date.now()
        },
        // Stopped once the run is under way: as soon as the first write landed.
        onSpawn: () => {
          stopped = (async () => {
            for (let i = 0; i < 200; i++) {
              if ((await promQuery(prom.url, 'loads_hits_total')).length > 0) break
              await new Promise((res) => setTimeout(res, 50))
            }
            await prom.stop()
          })()
        },
      })
      const afterSummary = Date.now() - summaryAt
      await stopped
      expect(r.code).toBe(0)
      const result = testResult(r.stdout)!
      expect(result.errors + result.failures).toBe(0)
      expect(Number(/^Hits: (\d+)/m.exec(r.stdout)![1])).toBe(server.count - before)
      expect(result.run).toBe(server.count - before)
      const line = /--output prometheus:\S+: (\d+) writes?, (\d+) dropped \(last error: ([^)]+)\)/.exec(r.stderr)
      expect(line, r.stderr).not.toBeNull()
      expect(Number(line![1])).toBeGreaterThan(0)
      expect(Number(line![2])).toBeGreaterThan(0)
      expect(line![3]).toMatch(/ECONNREFUSED|ECONNRESET|fetch failed|other side closed/)
      // After the summary, the end of the run waited at most the flush deadline (5 s) for a backend that is gone.
      expect(summaryAt).toBeGreaterThan(0)
      expect(afterSummary).toBeLessThan(5000 + 4000)
    } finally {
      await (stopped ?? prom.stop())
    }
  }, 60_000)

  it('a backend that accepts connections and never answers costs the run at most the flush deadline, not a hit', async () => {
    // A black hole: it takes every connection and says nothing.
    const sockets = new Set<Socket>()
    const hole = createServer((s) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(hole.address() as { port: number }).port}`
      const before = server.count
      let summaryAt = 0
      const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_ok', '-u', '2', '-d', '2s', '-q', '--output', `prometheus:${url}`, '--output', `influxdb:${url}/db`], {
        cwd: dir,
        env: { TARGET: server.url },
        onStdout: (text) => {
          if (summaryAt === 0 && text.includes('<TestResult')) summaryAt = Date.now()
        },
      })
      const afterSummary = Date.now() - summaryAt
      expect(r.code).toBe(0)
      expect(Number(/^Hits: (\d+)/m.exec(r.stdout)![1])).toBe(server.count - before)
      expect(testResult(r.stdout)!.run).toBe(server.count - before)
      for (const kind of ['prometheus', 'influxdb']) {
        const line = new RegExp(`--output ${kind}:\\S+: 0 writes, (\\d+) dropped`).exec(r.stderr)
        expect(line, r.stderr).not.toBeNull()
        expect(Number(line![1])).toBeGreaterThan(0)
      }
      // Once the summary is printed the outputs wait for their backends: one shared 5 s deadline
      // for both (not 5 s each), then the writes in flight are aborted and the process exits.
      expect(summaryAt).toBeGreaterThan(0)
      expect(afterSummary).toBeGreaterThan(4000)
      expect(afterSummary).toBeLessThan(5000 + 4000)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => hole.close(() => resolve()))
    }
  }, 60_000)
})
