import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { freePort, influxQuery, startInfluxdb, type BackendProcess } from '../helpers/metrics-backends.js'
import { attr, startOtlpReceiver, startRecordingServer, type OtlpMetric } from '../helpers/recording-backends.js'
import type { RunResult } from '../../src/report/result.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'
export class TestApi extends TestCase {
  async test_mixed() {
    await this.session.get(process.env.TARGET + '/items/1', { name: '/items/{id}' })
    await this.session.get(process.env.TARGET + '/flaky')
    await new Promise((r) => setTimeout(r, 50))
    await this.session.get(process.env.DEAD + '/gone')
  }
}
`

/**
 * One run, three outputs: a real InfluxDB 1.x, a recording server standing in for InfluxDB 2.x
 * (Debian has no 2.x: only its API shape is checked), and an OTLP receiver that decodes with the
 * OpenTelemetry protobuf definitions. Each must hold the totals the summary printed.
 */
describe('--output influxdb and --output otlp', () => {
  let server: CountingServer
  let influx: BackendProcess
  let dir: string
  beforeAll(async () => {
    let flaky = 0
    server = await startCountingServer((req, res) => {
      res.writeHead(req.url === '/flaky' && ++flaky % 3 === 0 ? 500 : 200)
      res.end('ok')
    })
    influx = await startInfluxdb()
    const created = await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE loads')}`, { method: 'POST' })
    expect(created.status).toBe(200)
    dir = tempProject({ 'example.ts': EXAMPLE })
  }, 60_000)
  afterAll(async () => {
    await server.close()
    await influx?.stop()
  })

  it('writes the summary totals to InfluxDB 1.x, to the 2.x API with org, bucket and token, and over OTLP', async () => {
    const influx2 = await startRecordingServer()
    const otlp = await startOtlpReceiver()
    const tokenFile = path.join(dir, 'influx-token')
    writeFileSync(tokenFile, 'tok-2x-secret\n')
    try {
      const before = server.count
      const r = await runBin(
        LOADS_RUNNER,
        [
          'example.TestApi.test_mixed', '-u', '2', '-d', '3s', '-q', '--output', 'json:r.json',
          '--output', `influxdb:${influx.url}/loads`,
          '--output', `influxdb:${influx2.url}?org=acme&bucket=load`,
          '--output', `otlp:${otlp.url}/v1/metrics`,
        ],
        { cwd: dir, env: { TARGET: server.url, DEAD: `http://127.0.0.1:${await freePort()}`, LOADS_INFLUXDB_TOKEN_FILE: tokenFile, LOADS_OTLP_HEADERS: 'authorization=Bearer otlp-secret' } },
      )
      expect(r.stderr).not.toMatch(/dropped/)
      expect(r.stdout + r.stderr).not.toMatch(/secret/)
      const json = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as RunResult
      const runs = json.summary.tests.run
      const hits = Number(/^Hits: (\d+)/m.exec(r.stdout)![1])
      expect(server.count - before).toBe(2 * runs)
      expect(hits).toBe(3 * runs)
      const http5xx = json.summary.endpoints.reduce((n, e) => n + (e.statuses['500'] ?? 0), 0)
      expect(http5xx).toBe(Math.floor(runs / 3))
      const runId = json.run.runId

      // InfluxDB 1.x, queried over its HTTP API: the last cumulative value of each series, summed.
      const total = async (measurement: string, where = ''): Promise<number> => {
        const rows = await influxQuery(influx.url, 'loads', `SELECT sum("v") FROM (SELECT last("value") AS "v" FROM "${measurement}" WHERE "run_id" = '${runId}'${where} GROUP BY *)`)
        return Number(rows[0]?.sum ?? NaN)
      }
      expect(await total('loads_hits')).toBe(hits)
      expect(await total('loads_failures', ` AND "kind" = 'network'`)).toBe(json.summary.networkErrors)
      expect(await total('loads_failures', ` AND "kind" = 'http'`)).toBe(http5xx)
      expect(await total('loads_test_runs', ` AND "outcome" = 'error'`)).toBe(runs)
      const lat = await influxQuery(influx.url, 'loads', `SELECT last("count") AS "n" FROM "loads_hit_duration_seconds" WHERE "run_id" = '${runId}' AND "name" = '/items/{id}'`)
      expect(lat[0]?.n).toBe(runs)

      // InfluxDB 2.x's API: /api/v2/write with org, bucket and ms precision, the token in a header.
      expect(influx2.requests.length).toBeGreaterThan(1)
      for (const req of influx2.requests) {
        const u = new URL(req.url, influx2.url)
        expect(u.pathname).toBe('/api/v2/write')
        expect(Object.fromEntries(u.searchParams)).toEqual({ org: 'acme', bucket: 'load', precision: 'ms' })
        expect(req.headers.authorization).toBe('Token tok-2x-secret')
        expect(req.headers['content-type']).toBe('text/plain; charset=utf-8')
      }
      const last2 = influx2.requests.at(-1)!.body.toString()
      const sum2 = last2.split('\n').filter((l) => l.startsWith('loads_hits,')).reduce((n, l) => n + Number(/ value=(\d+) /.exec(l)![1]), 0)
      expect(sum2).toBe(hits)

      // OTLP: the last export (cumulative) decoded with the OpenTelemetry definitions.
      const exports = otlp.exports()
      expect(exports.length).toBeGreaterThan(1)
      expect(otlp.requests.at(-1)!.headers.authorization).toBe('Bearer otlp-secret')
      expect(otlp.requests.at(-1)!.headers['content-type']).toBe('application/x-protobuf')
      const metrics = new Map<string, OtlpMetric>(exports.at(-1)!.resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => [m.name, m]))
      const sumOf = (name: string, filter: (a: OtlpMetric['sum'] extends infer S ? NonNullable<S>['dataPoints'][number]['attributes'] : never) => boolean = () => true): number =>
        metrics.get(name)!.sum!.dataPoints.filter((p) => filter(p.attributes)).reduce((n, p) => n + Number(p.asInt ?? p.asDouble), 0)
      expect(metrics.get('loads.hits')!.sum!.aggregationTemporality).toBe('AGGREGATION_TEMPORALITY_CUMULATIVE')
      expect(sumOf('loads.hits')).toBe(hits)
      expect(sumOf('loads.failures', (a) => attr(a, 'error.type') === 'network')).toBe(json.summary.networkErrors)
      expect(sumOf('loads.failures', (a) => attr(a, 'error.type') === 'http')).toBe(http5xx)
      expect(sumOf('loads.hits', (a) => attr(a, 'loads.run_id') === runId && attr(a, 'http.request.method') === 'GET' && attr(a, 'url.template') === '/items/{id}')).toBe(runs)
      const duration = metrics.get('http.client.request.duration')!
      expect(duration.unit).toBe('s')
      const points = duration.histogram!.dataPoints
      expect(points.reduce((n, p) => n + Number(p.count), 0)).toBe(hits)
      for (const p of points) expect(p.bucketCounts.reduce((n, c) => n + Number(c), 0)).toBe(Number(p.count))
    } finally {
      await influx2.close()
      await otlp.close()
    }
  }, 60_000)
})
