/**
 * Scenarios, groups, checks and per-method figures in the metrics outputs: one run of two
 * scenarios to a real Prometheus (remote write), a real InfluxDB 1.x and an OTLP receiver that
 * decodes with the OpenTelemetry definitions. Each backend must hold the run's exact figures: the
 * server's own counts, and those of the JSON result.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { dashboardQueries, influxQuery, panelValues, promQuery, startInfluxdb, startPrometheus, type BackendProcess } from '../helpers/metrics-backends.js'
import { attr, startOtlpReceiver, type OtlpMetric } from '../helpers/recording-backends.js'

const SHOP = `import { TestCase } from 'loads-runner'
export class Browser extends TestCase {
  async test_browse() {
    const res = await this.session.get('/browse')
    this.check(res, { 'status is 200': (r) => r.status === 200 })
    // The run spans several writes, so the dashboard's rate() queries have two samples.
    await this.sleep(150)
  }
}
export class Buyer extends TestCase {
  async test_buy() {
    await this.group('checkout', async () => {
      await this.session.get('/cart')
      await this.group('pay', async () => { await this.session.post('/pay', { body: 'x' }) })
    })
    this.incrCounter('carts', 1)
    await this.sleep(300)
  }
}
`
const CONFIG = `[scenario.browse]
test = "shop.ts:Browser"
users = 2
hits = 15

[scenario.buy]
test = "shop.ts:Buyer"
users = 2
hits = 4
start = "500ms"
tags = { team = "payments" }
`

describe('scenarios, groups, checks and test methods in the metrics outputs', () => {
  let server: CountingServer
  let prom: BackendProcess
  let influx: BackendProcess
  let dir: string
  beforeAll(async () => {
    let browse = 0
    server = await startCountingServer((req, res) => {
      // Every fifth /browse answers 500: the check and the scenario's failed hits count it.
      res.writeHead(req.url === '/browse' && ++browse % 5 === 0 ? 500 : 200)
      res.end('ok')
    })
    ;[prom, influx] = await Promise.all([startPrometheus(), startInfluxdb()])
    const created = await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE loads')}`, { method: 'POST' })
    expect(created.status).toBe(200)
    dir = tempProject({ 'shop.ts': SHOP, 'loads.toml': CONFIG })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await Promise.all([prom?.stop(), influx?.stop()])
  })

  it('carry a scenario label (with its tags) on the scenario and per-URL series, and the groups, checks and methods, with the exact counts', async () => {
    const otlp = await startOtlpReceiver()
    try {
      const r = await runBin(
        LOADS_RUNNER,
        ['--config', 'loads.toml', '--server-url', server.url, '-q', '--output', 'json:r.json',
          '--output', `prometheus:${prom.url}/api/v1/write`, '--output', `influxdb:${influx.url}/loads`, '--output', `otlp:${otlp.url}/v1/metrics`],
        { cwd: dir, timeoutMs: 60_000 },
      )
      expect(r.stderr).not.toMatch(/dropped/)
      // 30 browse hits (6 of them 500), 8 runs of buy × 2 hits.
      expect(r.code, r.stderr).toBe(0)
      expect(server.countByPath.get('/browse')).toBe(30)
      expect(server.countByPath.get('/cart')).toBe(8)
      expect(server.countByPath.get('/pay')).toBe(8)
      const json = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as RunResult
      const runId = json.run.runId
      expect(json.summary.scenarios?.map((s) => [s.name, s.hits, s.failed, s.runs])).toEqual([['browse', 30, 6, 30], ['buy', 16, 0, 8]])

      // Prometheus (remote write), queried over its HTTP API.
      const value = async (q: string): Promise<number[]> => (await promQuery(prom.url, q)).map((x) => Number(x.value![1])).sort((a, b) => a - b)
      const sel = `run_id="${runId}"`
      expect(await value(`loads_scenario_hits_total{${sel}}`)).toEqual([16, 30])
      expect((await promQuery(prom.url, `loads_scenario_hits_total{${sel},scenario="buy"}`))[0]?.metric.team).toBe('payments')
      expect(await value(`loads_scenario_failures_total{${sel},scenario="browse"}`)).toEqual([6])
      expect(await value(`sum(loads_scenario_test_runs_total{${sel},scenario="buy"})`)).toEqual([8])
      expect(await value(`loads_scenario_hit_duration_seconds_count{${sel},scenario="browse"}`)).toEqual([30])
      expect(await value(`loads_group_runs_total{${sel},group="checkout::pay",outcome="pass"}`)).toEqual([8])
      expect(await value(`loads_group_duration_seconds_count{${sel},group="checkout"}`)).toEqual([8])
      expect(await value(`loads_test_method_runs_total{${sel},test_method="Browser.test_browse",outcome="pass"}`)).toEqual([30])
      expect(await value(`loads_test_method_duration_seconds_count{${sel},test_method="Buyer.test_buy"}`)).toEqual([8])
      expect(await value(`loads_checks_total{${sel},check="status is 200",result="fail"}`)).toEqual([6])
      // The per-URL series carry the scenario (and its tags): each URL's hits, failures, bytes and latency by scenario.
      expect(await value(`loads_hits_total{${sel},scenario="browse",method="GET",name="/browse",status_class="2xx"}`)).toEqual([24])
      expect(await value(`loads_hits_total{${sel},scenario="browse",name="/browse",status_class="5xx"}`)).toEqual([6])
      expect(await value(`loads_failures_total{${sel},scenario="browse",name="/browse",kind="http"}`)).toEqual([6])
      expect(await value(`sum by (name) (loads_hits_total{${sel},scenario="buy",team="payments"})`)).toEqual([8, 8])
      expect(await value(`loads_sent_bytes_total{${sel},scenario="buy",name="/pay"}`)).toEqual([8])
      expect(await value(`loads_hit_duration_seconds_count{${sel},scenario="buy",name="/cart"}`)).toEqual([8])
      expect(await value(`count(loads_hits_total{${sel},scenario=""})`)).toEqual([])

      // The shipped Grafana dashboard (classic buckets): every query has data; the totals are exact.
      const queries = dashboardQueries('classic', runId)
      for (const { panel, query } of queries) expect((await promQuery(prom.url, query)).length, `${panel}: ${query}`).toBeGreaterThan(0)
      expect(await panelValues(prom.url, queries, 'Hits per scenario (total)')).toEqual({ browse: 30, buy: 16 })
      expect(await panelValues(prom.url, queries, 'Failed hits per scenario (total)')).toEqual({ browse: 6, buy: 0 })
      expect(await panelValues(prom.url, queries, 'Checks passed / failed (total)')).toEqual({ pass: 24, fail: 6 })
      expect(await panelValues(prom.url, queries, 'Group blocks by outcome (total)')).toEqual({
        'checkout pass': 8, 'checkout failure': 0, 'checkout error': 0, 'checkout::pay pass': 8, 'checkout::pay failure': 0, 'checkout::pay error': 0,
      })
      expect(await panelValues(prom.url, queries, 'Hits (total)')).toEqual({ '': 46 })

      // InfluxDB 1.x, InfluxQL: the last cumulative value of each series.
      const last = async (measurement: string, where: string, field = 'value'): Promise<number> => {
        const rows = await influxQuery(influx.url, 'loads', `SELECT sum("v") FROM (SELECT last("${field}") AS "v" FROM "${measurement}" WHERE "run_id" = '${runId}' AND ${where} GROUP BY *)`)
        return Number(rows[0]?.sum ?? NaN)
      }
      expect(await last('loads_scenario_hits', `"scenario" = 'browse'`)).toBe(30)
      expect(await last('loads_scenario_hits', `"team" = 'payments'`)).toBe(16)
      expect(await last('loads_scenario_failures', `"scenario" = 'browse'`)).toBe(6)
      expect(await last('loads_scenario_hit_duration_seconds', `"scenario" = 'buy'`, 'count')).toBe(16)
      expect(await last('loads_group_runs', `"group" = 'checkout'`)).toBe(8)
      expect(await last('loads_test_method_runs', `"test_method" = 'Browser.test_browse'`)).toBe(30)
      expect(await last('loads_test_method_duration_seconds', `"test_method" = 'Buyer.test_buy'`, 'count')).toBe(8)
      expect(await last('loads_checks', `"check" = 'status is 200' AND "result" = 'pass'`)).toBe(24)
      expect(await last('loads_hits', `"scenario" = 'browse' AND "name" = '/browse'`)).toBe(30)
      expect(await last('loads_failures', `"scenario" = 'browse' AND "kind" = 'http'`)).toBe(6)
      expect(await last('loads_hits', `"scenario" = 'buy' AND "team" = 'payments' AND "name" = '/pay'`)).toBe(8)
      expect(await last('loads_hit_duration_seconds', `"scenario" = 'buy' AND "name" = '/cart'`, 'count')).toBe(8)

      // OTLP: the last (cumulative) export.
      const metrics = new Map<string, OtlpMetric>(otlp.exports().at(-1)!.resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => [m.name, m]))
      type Attrs = Parameters<typeof attr>[0]
      const sumOf = (name: string, filter: (a: Attrs) => boolean): number =>
        metrics.get(name)!.sum!.dataPoints.filter((p) => filter(p.attributes)).reduce((n, p) => n + Number(p.asInt ?? p.asDouble), 0)
      expect(sumOf('loads.scenario.hits', (a) => attr(a, 'loads.scenario') === 'browse')).toBe(30)
      expect(sumOf('loads.scenario.hits', (a) => attr(a, 'loads.team') === 'payments')).toBe(16)
      expect(sumOf('loads.group.runs', (a) => attr(a, 'loads.group') === 'checkout::pay')).toBe(8)
      expect(sumOf('loads.test_method.runs', (a) => attr(a, 'loads.test_method') === 'Buyer.test_buy')).toBe(8)
      const counts = (name: string, key: string, v: string): number =>
        metrics.get(name)!.histogram!.dataPoints.filter((p) => attr(p.attributes, key) === v).reduce((n, p) => n + Number(p.count), 0)
      expect(counts('loads.scenario.hit.duration', 'loads.scenario', 'buy')).toBe(16)
      expect(counts('loads.group.duration', 'loads.group', 'checkout')).toBe(8)
      expect(counts('loads.test_method.duration', 'loads.test_method', 'Browser.test_browse')).toBe(30)
      expect(metrics.get('loads.group.duration')!.unit).toBe('s')
      expect(sumOf('loads.hits', (a) => attr(a, 'loads.scenario') === 'browse' && attr(a, 'url.template') === '/browse')).toBe(30)
      expect(sumOf('loads.failures', (a) => attr(a, 'loads.scenario') === 'browse' && attr(a, 'error.type') === 'http')).toBe(6)
      expect(sumOf('loads.hits', (a) => attr(a, 'loads.team') === 'payments' && attr(a, 'url.template') === '/pay')).toBe(8)
      expect(counts('http.client.request.duration', 'loads.scenario', 'buy')).toBe(16)
    } finally {
      await otlp.close()
    }
  }, 90_000)
})
