import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { Dashboard } from '../../src/report/dashboard/dashboard.js'
import { influxLines } from '../../src/report/metrics/influx-lines.js'
import { CLASSIC_BOUNDS_S, LatencyBuckets, nativeIndex } from '../../src/report/metrics/latency-buckets.js'
import { parseMetricsOutput } from '../../src/report/metrics/metrics-spec.js'
import { MetricsState, OTHER_NAME } from '../../src/report/metrics/metrics-state.js'
import { OTLP_DURATION_NAME, otlpMetrics } from '../../src/report/metrics/otlp-metrics.js'
import { prometheusText } from '../../src/report/metrics/prometheus-text.js'
import { WriteError, WriteQueue } from '../../src/report/metrics/write-queue.js'
import type { RunInfo } from '../../src/report/reporter.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { createHistogram } from '../../src/stats/histogram.js'
import { Recorder } from '../../src/stats/recorder.js'
import type { Snapshot } from '../../src/stats/types.js'

function snapshotOf(source: string, fill: (r: Recorder) => void): Snapshot {
  const rec = new Recorder({ source })
  fill(rec)
  return rec.snapshot(false)
}

const STATE = { runId: 'r1', test: 'example.TestApi', perAgent: false, maxNames: 100 }

describe('the metrics state', () => {
  it('folds snapshots into cumulative series: hits by status class, failures split network / http, runs by outcome', () => {
    const state = new MetricsState(STATE)
    for (const source of ['worker-0', 'worker-1']) {
      state.add(
        snapshotOf(source, (r) => {
          r.setActiveUsers(2)
          for (let i = 0; i < 4; i++) r.recordHit('GET', '/a', 200, 1500, 500, 0, 10, 3, null)
          r.recordHit('GET', '/a', 503, 2500, 500, 0, 10, 3, null)
          r.recordHit('GET', '/a', 0, 30_000, 0, 0, 0, 0, 'ECONNREFUSED')
          r.recordTest('pass', 'TestApi.test_a')
          r.recordTest('error', 'TestApi.test_a', { kind: 'Error', message: 'boom', stack: '' })
          r.incrCounter('orders', 3)
        }),
      )
    }
    const values = (f: { series: Map<string, { labels: Record<string, string>; value: number }> }): Record<string, number> =>
      Object.fromEntries([...f.series.values()].map((s) => [Object.entries(s.labels).filter(([k]) => k !== 'run_id' && k !== 'test').map(([k, v]) => `${k}=${v}`).join(','), s.value]))
    expect(values(state.hits)).toEqual({ 'method=GET,name=/a,status_class=2xx': 8, 'method=GET,name=/a,status_class=5xx': 2, 'method=GET,name=/a,status_class=network': 2 })
    expect(values(state.failures)).toEqual({ 'method=GET,name=/a,kind=http': 2, 'method=GET,name=/a,kind=network': 2 })
    expect(values(state.testRuns)).toEqual({ 'outcome=pass': 2, 'outcome=failure': 0, 'outcome=error': 2 })
    expect(values(state.counters)).toEqual({ 'counter=orders': 6 })
    expect(values(state.users)).toEqual({ '': 4 })
    expect(values(state.bytesOut)).toEqual({ 'method=GET,name=/a': 30 })
    const lat = [...state.latency.series.values()][0]!.value
    expect(lat.count).toBe(12)
    // 1.5 ms ≤ 0.0025, 2.5 ms ≤ 0.005 (HDR's bucket of 2500 µs tops out just above it), 30 ms ≤ 0.05.
    expect(lat.cumulative().find((b) => b.le === '0.0025')!.count).toBe(8)
    expect(lat.cumulative().at(-1)).toEqual({ le: '+Inf', count: 12 })
  })

  it('labels series by agent in a cluster run, and folds URL names past the limit into one, warning once', () => {
    const warnings: string[] = []
    const state = new MetricsState({ ...STATE, perAgent: true, maxNames: 2, warn: (m) => warnings.push(m) })
    state.add(
      snapshotOf('host-a-1', (r) => {
        for (const name of ['/a', '/b', '/c', '/d']) r.recordHit('GET', name, 200, 1000, 500, 0, 1, 1, null)
      }),
    )
    const names = [...state.hits.series.values()].map((s) => [s.labels.agent, s.labels.name, s.value])
    expect(names).toEqual([
      ['host-a-1', '/a', 1],
      ['host-a-1', '/b', 1],
      ['host-a-1', OTHER_NAME, 2],
    ])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/more than 2 distinct URL names/)
    expect(state.foldedNames).toBe(2)
  })

  it("labels a scenario's per-URL series with the scenario and its tags, and guards scenario × name pairs", () => {
    const warnings: string[] = []
    const state = new MetricsState({ ...STATE, perAgent: true, maxNames: 3, warn: (m) => warnings.push(m), scenarioTags: { buy: { team: 'payments' } } })
    for (const agent of ['host-a-1', 'host-b-2']) {
      state.add(
        snapshotOf(agent, (r) => {
          r.recordHit('GET', '/a', 200, 1000, 500, 0, 10, 1, null, undefined, 'browse')
          r.recordHit('GET', '/a', 500, 1000, 500, 0, 10, 1, null, undefined, 'buy')
          r.recordHit('GET', '/a', 0, 1000, 0, 0, 0, 1, 'ECONNREFUSED', undefined, 'buy')
          r.recordHit('GET', '/b', 200, 1000, 500, 0, 10, 1, null, undefined, 'buy')
          // The fourth (scenario, name) pair: folded, in its scenario.
          r.recordHit('GET', '/b', 200, 1000, 500, 0, 10, 1, null, undefined, 'browse')
        }),
      )
    }
    const rows = (f: { series: Map<string, { labels: Record<string, string>; value: unknown }> }, value: (v: unknown) => unknown = (v) => v): unknown[] =>
      [...f.series.values()].map((s) => [Object.entries(s.labels).filter(([k]) => k !== 'run_id' && k !== 'test').map(([k, v]) => `${k}=${v}`).join(','), value(s.value)])
    expect(rows(state.hits)).toEqual([
      ['agent=host-a-1,scenario=browse,method=GET,name=/a,status_class=2xx', 1],
      ['agent=host-a-1,scenario=buy,team=payments,method=GET,name=/a,status_class=5xx', 1],
      ['agent=host-a-1,scenario=buy,team=payments,method=GET,name=/a,status_class=network', 1],
      ['agent=host-a-1,scenario=buy,team=payments,method=GET,name=/b,status_class=2xx', 1],
      [`agent=host-a-1,scenario=browse,method=GET,name=${OTHER_NAME},status_class=2xx`, 1],
      ['agent=host-b-2,scenario=browse,method=GET,name=/a,status_class=2xx', 1],
      ['agent=host-b-2,scenario=buy,team=payments,method=GET,name=/a,status_class=5xx', 1],
      ['agent=host-b-2,scenario=buy,team=payments,method=GET,name=/a,status_class=network', 1],
      ['agent=host-b-2,scenario=buy,team=payments,method=GET,name=/b,status_class=2xx', 1],
      [`agent=host-b-2,scenario=browse,method=GET,name=${OTHER_NAME},status_class=2xx`, 1],
    ])
    // Merged over the agents, per scenario.
    expect(rows(state.failures)).toEqual([
      ['scenario=buy,team=payments,method=GET,name=/a,kind=http', 2],
      ['scenario=buy,team=payments,method=GET,name=/a,kind=network', 2],
    ])
    expect(rows(state.latency, (v) => (v as LatencyBuckets).count)).toEqual([
      ['scenario=browse,method=GET,name=/a', 2],
      ['scenario=buy,team=payments,method=GET,name=/a', 4],
      ['scenario=buy,team=payments,method=GET,name=/b', 2],
      [`scenario=browse,method=GET,name=${OTHER_NAME}`, 2],
    ])
    expect(warnings).toEqual([expect.stringMatching(/more than 3 distinct URL names \(scenarios counted apart\)/)])
    // Every output carries the label: text, line protocol, OTLP attributes.
    expect(prometheusText(state)).toContain('loads_received_bytes_total{run_id="r1",test="example.TestApi",scenario="buy",team="payments",method="GET",name="/b"} 20\n')
    expect(influxLines(state, 5)).toContain('loads_sent_bytes,method=GET,name=/b,run_id=r1,scenario=buy,team=payments,test=example.TestApi value=2 5\n')
    const otlp = otlpMetrics(state, 0, 5).scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === OTLP_DURATION_NAME)!
    expect(otlp.dataPoints.map((p) => [p.attributes['loads.scenario'], p.attributes['loads.team'], p.attributes['url.template']])).toEqual([
      ['browse', undefined, '/a'],
      ['buy', 'payments', '/a'],
      ['buy', 'payments', '/b'],
      ['browse', undefined, OTHER_NAME],
    ])
  })

  it('renders the Prometheus text format, escaped, latency as classic buckets', () => {
    const state = new MetricsState(STATE)
    state.add(snapshotOf('worker-0', (r) => r.recordHit('POST', '/say "hi"\\', 201, 800, 400, 0, 1, 1, null)))
    const text = prometheusText(state)
    expect(text).toContain('# TYPE loads_hits_total counter\n')
    expect(text).toContain('loads_hits_total{run_id="r1",test="example.TestApi",method="POST",name="/say \\"hi\\"\\\\",status_class="2xx"} 1\n')
    expect(text).toContain('le="0.001"} 1\n')
    expect(text).toContain('le="+Inf"} 1\n')
    expect(text).toMatch(/loads_hit_duration_seconds_count\{[^}]*\} 1\n/)
  })

  it('writes InfluxDB line protocol with escaped tags and ms timestamps', () => {
    const state = new MetricsState(STATE)
    state.add(snapshotOf('worker-0', (r) => r.recordHit('GET', '/a b,c', 200, 800, 400, 0, 1, 1, null)))
    const lines = influxLines(state, 1700000000123).split('\n')
    expect(lines).toContain('loads_hits,method=GET,name=/a\\ b\\,c,run_id=r1,status_class=2xx,test=example.TestApi value=1 1700000000123')
    expect(lines.find((l) => l.startsWith('loads_hit_duration_seconds,'))).toMatch(/ count=1i,sum=0\.0008\d*,min=0\.0008,max=0\.0008,le_0_001=1i,.*le_inf=1i 1700000000123$/)
  })
})

describe('latency buckets', () => {
  it('puts each value in the native bucket (2^((i-1)/8), 2^(i/8)]', () => {
    expect(nativeIndex(1)).toBe(0)
    expect(nativeIndex(2)).toBe(8)
    expect(nativeIndex(2.0001)).toBe(9)
    expect(nativeIndex(0.5)).toBe(-8)
    for (const s of [0.0001, 0.0123, 0.3, 7]) {
      const i = nativeIndex(s)
      expect(2 ** ((i - 1) / 8)).toBeLessThan(s)
      expect(s).toBeLessThanOrEqual(2 ** (i / 8) * (1 + 1e-12))
    }
  })

  it('encodes native buckets as spans and deltas, and counts every value once in the classic ones', () => {
    const h = createHistogram()
    for (const [us, n] of [[1000, 3], [1100, 1], [4000, 2], [0, 1]] as const) h.recordValueWithCount(us, n)
    const b = new LatencyBuckets()
    b.add(h)
    expect(b.count).toBe(7)
    expect(b.zeroCount).toBe(1)
    const { spans, deltas } = b.spans()
    // 1 ms and 1.1 ms sit in adjacent buckets; 4 ms 15 buckets further up.
    const i1 = nativeIndex(0.001)
    expect(spans).toEqual([{ offset: i1, length: 2 }, { offset: nativeIndex(0.004) - i1 - 2, length: 1 }])
    expect(deltas).toEqual([3, -2, 1])
    expect(b.classic.reduce((a, c) => a + c, 0)).toBe(7)
    expect(b.classic.length).toBe(CLASSIC_BOUNDS_S.length + 1)
  })
})

describe('the write queue', () => {
  it('drops the oldest payload when full, and counts it', async () => {
    let release: () => void = () => undefined
    const sent: number[] = []
    const q = new WriteQueue<number>(async (p) => {
      if (p === 1) await new Promise<void>((r) => (release = r))
      sent.push(p)
    }, { capacity: 2 })
    for (let i = 1; i <= 5; i++) q.push(i)
    // 1 is in flight, 2 and 3 were pushed out by 4 and 5.
    release()
    const stats = await q.close(1000)
    expect(sent).toEqual([1, 4, 5])
    expect(stats).toMatchObject({ written: 3, dropped: 2 })
  })

  it('retries a retryable failure, gives up on a refused write at once, and counts both', async () => {
    const tries = new Map<string, number>()
    const q = new WriteQueue<string>(async (p) => {
      tries.set(p, (tries.get(p) ?? 0) + 1)
      if (p === 'flaky' && tries.get(p)! < 2) throw new WriteError('ECONNRESET', true)
      if (p === 'down') throw new WriteError('ECONNREFUSED', true)
      if (p === 'bad') throw new WriteError('HTTP 400: out of order sample', false)
    }, { attempts: 3, backoffMs: 1 })
    for (const p of ['flaky', 'down', 'bad', 'ok']) q.push(p)
    const stats = await q.close(2000)
    expect(Object.fromEntries(tries)).toEqual({ flaky: 2, down: 3, bad: 1, ok: 1 })
    expect(stats).toEqual({ written: 2, dropped: 2, failedTries: 5, lastError: 'HTTP 400: out of order sample' })
  })

  it('stops waiting at the deadline: aborts the write in flight, drops what is left, and writes nothing after', async () => {
    let calls = 0
    const q = new WriteQueue<number>((_p, signal) => {
      calls++
      // A backend that never answers; only the abort ends the write.
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
    })
    q.push(1)
    q.push(2)
    const t0 = Date.now()
    const stats = await q.close(100)
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(stats).toMatchObject({ written: 0, dropped: 2, lastError: 'the run is over' })
    q.push(3)
    expect(q.stats.dropped).toBe(3)
    expect(calls).toBe(1)
  })
})

describe('--output metrics specs', () => {
  it('parses each backend, InfluxDB 1.x and 2.x', () => {
    expect(parseMetricsOutput('prometheus:http://127.0.0.1:9090')).toEqual({ kind: 'prometheus', url: 'http://127.0.0.1:9090/api/v1/write' })
    expect(parseMetricsOutput('otlp:http://127.0.0.1:4318')).toEqual({ kind: 'otlp', url: 'http://127.0.0.1:4318/v1/metrics' })
    expect(parseMetricsOutput('influxdb:http://127.0.0.1:8086/loads')).toEqual({ kind: 'influxdb', url: 'http://127.0.0.1:8086', version: 1, db: 'loads' })
    expect(parseMetricsOutput('influxdb:http://127.0.0.1:8086/write?db=k6')).toEqual({ kind: 'influxdb', url: 'http://127.0.0.1:8086', version: 1, db: 'k6' })
    expect(parseMetricsOutput('influxdb:http://127.0.0.1:8086?org=acme&bucket=load')).toEqual({ kind: 'influxdb', url: 'http://127.0.0.1:8086', version: 2, org: 'acme', bucket: 'load' })
  })

  it('refuses credentials in the URL, and says where they go instead', () => {
    for (const bad of ['prometheus:http://user:secret@127.0.0.1:9090', 'influxdb:http://127.0.0.1:8086/db?u=me&p=secret', 'influxdb:http://127.0.0.1:8086?org=a&bucket=b&token=t']) {
      expect(() => parseMetricsOutput(bad)).toThrow(expect.objectContaining({ code: 'LOADS_ERR_OUTPUT', hint: expect.stringMatching(/environment or file/) }))
      try {
        parseMetricsOutput(bad)
      } catch (err) {
        expect((err as Error).message).not.toContain('secret')
      }
    }
    expect(() => parseMetricsOutput('influxdb:http://127.0.0.1:8086?org=a')).toThrow(/both org and bucket/)
    expect(() => parseMetricsOutput('otlp:grpc://127.0.0.1:4317')).toThrow(/http:\/\/ or https:\/\/ URL/)
  })
})

describe('GET /metrics on the dashboard', () => {
  let dashboard: Dashboard | undefined
  afterEach(() => dashboard?.close())

  it('serves the merged series in the Prometheus text format, per agent in a cluster run, per scenario with its tags', async () => {
    dashboard = new Dashboard({ port: 0, stop: () => undefined })
    const port = Number(new URL(await dashboard.listen()).port)
    const info: RunInfo = {
      runId: 'r9', address: 'example.TestApi', tests: [], mode: 'cluster', workers: 1, startMs: Date.now(),
      plan: { steps: [{ users: 1, hits: 1 }], scenarios: [{ name: 'buy', startMs: 0, tags: { team: 'payments' } }] },
    }
    dashboard.onRunStart(info)
    const agg = new Aggregator({ startMs: info.startMs })
    for (const agent of ['host-a-1', 'host-b-2']) {
      const snap = snapshotOf(agent, (r) => {
        for (let i = 0; i < 5; i++) r.recordHit('GET', '/a', 200, 1000, 500, 0, 10, 0, null)
        r.recordHit('GET', '/a', 200, 1000, 500, 0, 10, 0, null, undefined, 'buy')
      })
      agg.add(snap)
      dashboard.onSnapshot(snap, agg)
    }
    const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/metrics' }, (r) => {
        let body = ''
        r.on('data', (d: Buffer) => (body += d.toString()))
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }))
      })
        .on('error', reject)
        .end()
    })
    expect(res.status).toBe(200)
    expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(res.body).toContain('loads_hits_total{run_id="r9",test="example.TestApi",agent="host-a-1",method="GET",name="/a",status_class="2xx"} 5\n')
    expect(res.body).toContain('loads_hits_total{run_id="r9",test="example.TestApi",agent="host-b-2",method="GET",name="/a",status_class="2xx"} 5\n')
    expect(res.body).toContain('loads_hits_total{run_id="r9",test="example.TestApi",agent="host-b-2",scenario="buy",team="payments",method="GET",name="/a",status_class="2xx"} 1\n')
    expect(res.body).toContain('loads_hit_duration_seconds_count{run_id="r9",test="example.TestApi",scenario="buy",team="payments",method="GET",name="/a"} 2\n')
    expect(res.body).toContain('loads_active_users{')
  })
})

describe('metrics credentials', () => {
  it('come from the environment or from the file a …_FILE variable names, and a missing file names only its path', async () => {
    const { metricsCredentials } = await import('../../src/cli/metrics-credentials.js')
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
    const os = await import('node:os')
    const path = await import('node:path')
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-creds-'))
    try {
      writeFileSync(path.join(dir, 'token'), 'file-token\n')
      expect(
        metricsCredentials({
          LOADS_PROMETHEUS_TOKEN_FILE: path.join(dir, 'token'),
          LOADS_INFLUXDB_USERNAME: 'me',
          LOADS_INFLUXDB_PASSWORD: 'pw',
          LOADS_OTLP_HEADERS: 'authorization=Bearer%20x, x-team=load',
        }),
      ).toEqual({ prometheus: { bearerToken: 'file-token' }, influxdb: { username: 'me', password: 'pw' }, otlpHeaders: { authorization: 'Bearer x', 'x-team': 'load' } })
      expect(metricsCredentials({})).toEqual({})
      expect(() => metricsCredentials({ LOADS_INFLUXDB_TOKEN_FILE: path.join(dir, 'missing') })).toThrow(/LOADS_INFLUXDB_TOKEN_FILE: cannot read .*missing: ENOENT/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
