import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { dashboardQueries, freePort, panelValues, promQuery, startPrometheus, type BackendProcess } from '../helpers/metrics-backends.js'
import type { RunResult } from '../../src/report/result.js'

// Each run: one named URL (in a group), one that answers 500 every third time, one refused
// connection (a network failure: the test stops there, as a user's test would on an exception).
const EXAMPLE = `
import { TestCase } from 'loads-runner'
export class TestApi extends TestCase {
  async test_mixed() {
    await this.group('items', () => this.session.get(process.env.TARGET + '/items/1', { name: '/items/{id}' }))
    const res = await this.session.get(process.env.TARGET + '/flaky')
    this.check(res, { 'flaky is 200': (r) => r.status === 200 })
    this.incrCounter('orders', 2)
    // A few runs a second, so the run spans several writes (rate() needs two samples).
    await new Promise((r) => setTimeout(r, 50))
    await this.session.get(process.env.DEAD + '/gone')
  }
}
`

// The native-histogram run is a config-file scenario, so every panel of the dashboard (the
// scenarios' too) has data; the classic one is not (the scenarios' panels have data in metrics-scenarios.test.ts).
const CONFIG = `[scenario.mixed]
test = "example.ts:TestApi.test_mixed"
users = 2
duration = "2s"
`

function hitsLine(stdout: string): number {
  const m = /^Hits: (\d+)/m.exec(stdout)
  if (!m) throw new Error(`no Hits line in:\n${stdout}`)
  return Number(m[1])
}

describe('--output prometheus: remote write into a real Prometheus', () => {
  let server: CountingServer
  let dir: string
  let dead: string
  let flaky = 0
  // One server for both runs: with native histograms enabled it stores classic buckets too.
  let prom: BackendProcess
  beforeAll(async () => {
    prom = await startPrometheus({ nativeHistograms: true })
    server = await startCountingServer((req, res) => {
      const fail = req.url === '/flaky' && ++flaky % 3 === 0
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    dir = tempProject({ 'example.ts': EXAMPLE, 'loads.toml': CONFIG })
    dead = `http://127.0.0.1:${await freePort()}`
  })
  afterAll(async () => {
    await server.close()
    await prom?.stop()
  })

  for (const mode of ['classic', 'native'] as const) {
    it(`writes the totals the summary printed (${mode} histograms), and every dashboard query has data`, async () => {
      {
        const before = server.count
        flaky = 0
        const r = await runBin(
          LOADS_RUNNER,
          [...(mode === 'native' ? ['--config', 'loads.toml'] : ['example.ts:TestApi.test_mixed', '-u', '2', '-d', '2s']), '-q', '--output', `prometheus:${prom.url}/api/v1/write`, '--prometheus-histograms', mode, '--output', 'json:r.json'],
          { cwd: dir, env: { TARGET: server.url, DEAD: dead } },
        )
        expect(r.stderr).toMatch(/--output prometheus:.*: \d+ writes?\n/)
        expect(r.stderr).not.toMatch(/dropped/)
        const json = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as RunResult
        const hits = hitsLine(r.stdout)
        const runs = json.summary.tests.run
        // Every run: two answered hits (the server's own count) and one refused.
        expect(server.count - before).toBe(2 * runs)
        expect(hits).toBe(3 * runs)
        expect(json.summary.networkErrors).toBe(runs)
        const runId = json.run.runId
        const sel = `{run_id="${runId}"}`
        const one = async (q: string): Promise<number> => {
          const res = await promQuery(prom.url, q)
          expect(res, q).toHaveLength(1)
          return Number(res[0]!.value![1])
        }
        expect(await one(`sum(loads_hits_total${sel})`)).toBe(hits)
        expect(await one(`sum(loads_failures_total{run_id="${runId}",kind="network"})`)).toBe(json.summary.networkErrors)
        const http5xx = json.summary.endpoints.reduce((n, e) => n + (e.statuses['500'] ?? 0), 0)
        expect(http5xx).toBe(Math.floor(runs / 3))
        expect(await one(`sum(loads_failures_total{run_id="${runId}",kind="http"})`)).toBe(http5xx)
        expect(await one(`sum(loads_hits_total{run_id="${runId}",status_class="5xx"})`)).toBe(http5xx)
        expect(await one(`sum(loads_test_runs_total{run_id="${runId}",outcome="error"})`)).toBe(runs)
        expect(await one(`sum(loads_counter_total{run_id="${runId}",counter="orders"})`)).toBe(2 * runs)
        expect(await one(`loads_checks_total{run_id="${runId}",check="flaky is 200",result="fail"}`)).toBe(http5xx)
        expect(await one(`loads_checks_total{run_id="${runId}",check="flaky is 200",result="pass"}`)).toBe(runs - http5xx)
        const scenario = mode === 'native' ? 'mixed' : ''
        expect(await one(`loads_hits_total{run_id="${runId}",scenario="${scenario}",method="GET",name="/items/{id}",status_class="2xx"}`)).toBe(runs)
        expect(await one(`loads_group_runs_total{run_id="${runId}",group="items",outcome="pass"}`)).toBe(runs)
        if (mode === 'native') {
          const h = await promQuery(prom.url, `loads_hit_duration_seconds{run_id="${runId}",name="/flaky"}`)
          expect(Number(h[0]!.histogram![1].count)).toBe(runs)
        } else {
          expect(await one(`loads_hit_duration_seconds_count{run_id="${runId}",name="/flaky"}`)).toBe(runs)
          expect(await one(`loads_hit_duration_seconds_bucket{run_id="${runId}",name="/flaky",le="+Inf"}`)).toBe(runs)
        }
        // The shipped Grafana dashboard: each of its queries returns data for this run, the totals exact.
        const queries = dashboardQueries(mode, runId).filter((q) => mode === 'native' || !q.row.startsWith('Scenarios'))
        expect(queries.length).toBeGreaterThan(20)
        for (const { panel, query } of queries) {
          const res = await promQuery(prom.url, query)
          expect(res.length, `${mode}: ${panel}: ${query}`).toBeGreaterThan(0)
        }
        if (mode === 'native') {
          expect(await panelValues(prom.url, queries, 'Hits per scenario (total)')).toEqual({ mixed: hits })
          expect(await panelValues(prom.url, queries, 'Failed hits per scenario (total)')).toEqual({ mixed: runs + http5xx })
        }
        // The per-URL panels with scenario "All" (.*) hold runs without scenarios too.
        expect(await panelValues(prom.url, queries, 'Hits (total)')).toEqual({ '': hits })
        expect(await panelValues(prom.url, queries, 'Failures (total)')).toEqual({ '': runs + http5xx })
        expect(await panelValues(prom.url, queries, 'Checks passed / failed (total)')).toEqual({ pass: runs - http5xx, fail: http5xx })
        expect(await panelValues(prom.url, queries, 'Group blocks by outcome (total)')).toEqual({ 'items pass': runs, 'items failure': 0, 'items error': 0 })
      }
    }, 60_000)
  }
})
