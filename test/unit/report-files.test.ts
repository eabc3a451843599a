import { describe, expect, it } from 'vitest'
import Ajv2020 from 'ajv/dist/2020.js'
import { readFileSync } from 'node:fs'
import { testTemp } from '../helpers/temp.js'
import { detailsCsv, endpointsCsv, seriesCsv, seriesPath, toCsv } from '../../src/report/files/csv-output.js'
import { formatJson } from '../../src/report/files/json-output.js'
import { formatJunit } from '../../src/report/files/junit-output.js'
import { mergeResults } from '../../src/report/files/merge-results.js'
import { outputReporters, parseOutputs } from '../../src/report/files/output-spec.js'
import { checkResult } from '../../src/report/files/read-result.js'
import type { RunInfo, RunOutcome } from '../../src/report/reporter.js'
import { buildResult, runMeta, type RunResult } from '../../src/report/result.js'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

const INFO: RunInfo = {
  runId: 'run-1',
  address: 'example.TestApi',
  tests: [
    { className: 'TestApi', methodName: 'test_items' },
    { className: 'TestApi', methodName: 'test_login' },
  ],
  plan: { steps: [{ users: 10, hits: 5 }] },
  mode: 'local',
  workers: 2,
  startMs: 1_000_000,
}

/** Hits with latencies `ms(i)` on two endpoints from one source, snapshots one second apart. */
function record(agg: Aggregator, source: string, n: number, ms: (i: number) => number, startMs = INFO.startMs): void {
  let now = startMs
  const rec = new Recorder({ source, now: () => now })
  for (let i = 0; i < n; i++) {
    rec.recordHit('GET', '/items/{id}', i % 50 === 0 ? 503 : 200, ms(i) * 1000, 100, 0, 200, 20, null)
    if (i % 10 === 0) rec.recordHit('POST', '/login', 0, 5000, 0, 0, 0, 20, 'ECONNREFUSED')
    if (i % 100 === 99) {
      now += 1000
      agg.add(rec.snapshot(false))
    }
    rec.recordTest(i % 25 === 0 ? 'failure' : 'pass', 'TestApi.test_items', { kind: 'AssertionError', message: 'expected <b>200</b>', stack: 'AssertionError\n    at test (example.ts:3:1)' })
  }
  now += 1000
  agg.add(rec.snapshot(true))
}

function result(agg: Aggregator, thresholds: string[] = []): RunResult {
  const summary = agg.summary()
  const outcome: RunOutcome = {
    summary,
    exitCode: 1,
    interrupted: false,
    notes: [],
    thresholds: judgeThresholds(thresholds.map(parseThreshold), summary, agg.encodedHistograms()),
  }
  return buildResult(runMeta(INFO), outcome, agg, '0.1.0')
}

describe('JSON result', () => {
  it('round-trips through JSON and two results merge to the exact percentiles of one run', () => {
    const a = new Aggregator({ startMs: INFO.startMs })
    record(a, 'a/worker-0', 700, (i) => 1 + (i % 37))
    const b = new Aggregator({ startMs: INFO.startMs })
    record(b, 'b/worker-0', 300, (i) => 200 + (i % 91) * 3)
    const both = new Aggregator({ startMs: INFO.startMs })
    record(both, 'a/worker-0', 700, (i) => 1 + (i % 37))
    record(both, 'b/worker-0', 300, (i) => 200 + (i % 91) * 3)

    const ra = checkResult(JSON.parse(formatJson(result(a))), 'a.json')
    const rb = checkResult(JSON.parse(formatJson(result(b))), 'b.json')
    const merged = mergeResults([ra, rb])
    const expected = both.summary()

    expect(merged.summary.latency).toEqual(expected.latency)
    expect(merged.summary.hits).toBe(1000 + 100)
    expect(merged.summary.tests).toEqual(expected.tests)
    expect(merged.summary.endpoints.map((e) => [e.method, e.name, e.hits, e.errors, e.statuses, e.latency])).toEqual(
      expected.endpoints.map((e) => [e.method, e.name, e.hits, e.errors, e.statuses, e.latency]),
    )
    expect(merged.summary.errors).toEqual(expected.errors)
    // Averaging the two p99s would be far off: the merged one is the one of all the hits.
    expect(merged.summary.latency.p99).not.toBeCloseTo((ra.summary.latency.p99 + rb.summary.latency.p99) / 2, 0)
    expect(merged.series.reduce((n, p) => n + p.hits, 0)).toBe(1100)
    expect(merged.sources.map((s) => s.source)).toEqual(['run1/a/worker-0', 'run2/b/worker-0'])
  })

  it('holds the run, plan, series, per-URL stats with histograms, errors and thresholds', () => {
    const agg = new Aggregator({ startMs: INFO.startMs })
    record(agg, 'worker-0', 300, (i) => 1 + (i % 20))
    const r = JSON.parse(formatJson(result(agg, ['p95<1s']))) as RunResult
    expect(r).toMatchObject({ format: 'loads-result', version: 1, loadsVersion: '0.1.0', state: 'finished', exitCode: 1 })
    expect(r.run).toEqual({ ...INFO })
    expect(r.series).toHaveLength(4)
    expect(r.histograms.endpoints.map((h) => `${h.method} ${h.name}`)).toEqual(['GET /items/{id}', 'POST /login'])
    expect(r.summary.errors[0]).toMatchObject({ kind: 'AssertionError', count: 12 })
    expect(r.thresholds).toEqual([expect.objectContaining({ threshold: 'p95<1s', pass: true })])
  })

  it('matches the JSON Schema shipped in schema/, merged results too', () => {
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    const agg = new Aggregator({ startMs: INFO.startMs })
    record(agg, 'worker-0', 300, (i) => 1 + (i % 20))
    const one = JSON.parse(formatJson(result(agg, ['p95<1s', 'GET /x:errors<1%']))) as RunResult
    for (const r of [one, mergeResults([one, one])]) {
      expect(validate(r), JSON.stringify(validate.errors)).toBe(true)
    }
    expect(validate({ ...one, version: 2 })).toBe(false)
  })

  it('refuses files that are not Loads results, or of another version', () => {
    expect(() => checkResult({ hello: 1 }, 'x.json')).toThrow('x.json is not a Loads result')
    expect(() => checkResult({ format: 'loads-result', version: 2 }, 'x.json')).toThrow('version 2 result; this Loads reads version 1')
  })
})

describe('CSV output', () => {
  const agg = new Aggregator({ startMs: INFO.startMs })
  record(agg, 'worker-0', 200, () => 4)
  const r = result(agg)

  it('writes one row per URL, busiest first, and a total row', () => {
    const lines = endpointsCsv(r).split('\r\n')
    expect(lines[0]).toBe(
      'method,name,hits,failed,network_errors,http_failed,hits_per_sec,bytes_in,bytes_out,min_ms,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p99_9_ms,max_ms,statuses,error_kinds,' +
        'ttfb_mean_ms,ttfb_p50_ms,ttfb_p95_ms,ttfb_p99_ms,ttfb_max_ms,connects,connect_mean_ms,service_p50_ms,service_p95_ms,service_p99_ms,tls_handshakes,tls_mean_ms',
    )
    // TTFB 0.1 ms, no new connection, no open model; a refused connection has no TTFB (empty, not 0).
    expect(lines[1]).toBe('GET,/items/{id},200,4,0,4,66.667,40000,4000,4,4.001,4.001,4.001,4.001,4.001,4.001,4.001,200:196 503:4,,0.1,0.1,0.1,0.1,0.1,0,,,,,,')
    expect(lines[2]).toBe('POST,/login,20,20,20,0,6.667,0,400,5,5.002,5.003,5.003,5.003,5.003,5.003,5.003,,ECONNREFUSED:20,,,,,,0,,,,,,')
    expect(lines[3]).toBe(',(total),220,24,20,4,73.333,40000,4400,4,4.092,4.001,4.001,5.003,5.003,5.003,5.003,,,,,,,,0,,,,,,')
    expect(lines[4]).toBe('')
  })

  it('writes connections, service time, counters, dropped starts and stray-byte drops (open model)', () => {
    let now = INFO.startMs
    const rec = new Recorder({ source: 'w', now: () => now })
    for (let i = 0; i < 10; i++) rec.recordLateHit('GET', '/a', 200, 20_000, 5_000, i < 4 ? 3_000 : 0, 10, 10, null, 30_000, undefined, undefined, i < 4 ? 2_000 : 0)
    rec.incrCounter('orders', 7)
    rec.incrCounter('=cmd|calc', 2)
    rec.incrCounter('esc\x1b[2J\x9b', 3)
    rec.recordDropped(12)
    rec.recordStrayBytes()
    now += 1000
    const open = new Aggregator({ startMs: INFO.startMs })
    open.add(rec.snapshot(true))
    const res = result(open)
    const lines = endpointsCsv(res).split('\r\n')
    // Latency 50 ms (from the intended start), service 20 ms, TTFB 5 ms, 4 connections of 3 ms (HDR's precision) and their TLS handshakes of 2 ms.
    expect(lines[1]).toBe('GET,/a,10,0,0,0,10,100,100,49.984,50,50.015,50.015,50.015,50.015,50.015,50.015,200:10,,5.002,5.003,5.003,5.003,5.003,4,3,20.015,20.015,20.015,4,2')
    expect(lines[2]).toBe(',(total),10,0,0,0,10,100,100,49.984,50,50.015,50.015,50.015,50.015,50.015,50.015,,,,,,,,4,3,20.015,20.015,20.015,4,2')
    const details = detailsCsv(res).split('\r\n')
    expect(details[0]).toBe('kind,name,runs,passes,failures,errors,min_ms,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p99_9_ms,max_ms,requests,value')
    expect(details.slice(1)).toEqual([
      "counter,'=cmd|calc,,,,,,,,,,,,,,2",
      'counter,esc\\x1b[2J\\x9b,,,,,,,,,,,,,,3',
      'counter,orders,,,,,,,,,,,,,,7',
      'schedule,dropped_starts,,,,,,,,,,,,,,12',
      'connection,stray_bytes_drops,,,,,,,,,,,,,,1',
      '',
    ])
  })

  it('writes gRPC statuses by name, as the console does', () => {
    let now = INFO.startMs
    const rec = new Recorder({ source: 'w', now: () => now })
    for (const code of [0, 0, 14]) rec.recordHit('GRPC', 'shop.Cart/Add', code, 1000, 500, 0, 5, 5, null, code !== 0)
    now += 1000
    const grpc = new Aggregator({ startMs: INFO.startMs })
    grpc.add(rec.snapshot(true))
    expect(endpointsCsv(result(grpc)).split('\r\n')[1]).toMatch(/^GRPC,shop\.Cart\/Add,3,1,0,1,.*,OK:2 UNAVAILABLE:1,,/)
  })

  it('writes the per-second series next to it', () => {
    expect(seriesPath('out/run.csv')).toBe('out/run.series.csv')
    expect(seriesPath('run')).toBe('run.series.csv')
    const lines = seriesCsv(r).trimEnd().split('\r\n')
    expect(lines[0]).toBe('t_s,time_ms,hits,failed,network_errors,http_errors,tests_run,failures,test_errors,active_users,step,p50_ms,p95_ms,p99_ms')
    // Two 503s in each full second (i = 0, 50, 100, 150).
    expect(lines.slice(1).map((l) => l.split(',')[5])).toEqual(['2', '2', '0'])
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual(['12', '12', '0'])
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 5).join(','))).toEqual(['1,1001000,110,12,10', '2,1002000,110,12,10', '3,1003000,0,0,0'])
  })

  it('quotes fields with commas, quotes and line breaks', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"\n']])).toBe('a,b\r\n"x,y","say ""hi""\n"\r\n')
  })
})

describe('JUnit output', () => {
  const agg = new Aggregator({ startMs: INFO.startMs })
  record(agg, 'worker-0', 100, () => 4)
  const xml = formatJunit(result(agg, ['p95<1s', 'errors<1%']))

  it('has a testcase per test method and per threshold, failing where they failed', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')).toBe(true)
    expect(xml).toMatch(/<testsuite name="loads: example.TestApi" package="loads" id="0" timestamp="[\d-]+T[\d:]+" hostname="[^"]+" tests="2" failures="1" errors="0"/)
    expect(xml).toContain('<testcase classname="TestApi" name="test_items"')
    expect(xml).toContain('<failure message="failed 4 of 50 runs; first: AssertionError: expected &lt;b&gt;200&lt;/b&gt;" type="AssertionError">')
    expect(xml).toMatch(/<testcase classname="TestApi" name="test_login" time="[\d.]+"\/>/)
    expect(xml).toContain('<property name="TestApi.test_items.failures" value="4"/>')
    expect(xml).toContain('<testsuite name="loads: thresholds" package="loads" id="1"')
    expect(xml).toContain('<testcase classname="thresholds" name="p95&lt;1s" time="0.000"/>')
    expect(xml).toContain('<failure message="errors&lt;1%: errors 10.9% (12 of 110 hits)" type="ThresholdFailed"></failure>')
    expect(xml.match(/<testcase /g)).toHaveLength(4)
  })
})

describe('--output', () => {
  it('parses several targets and null, and refuses unknown kinds or a missing file', () => {
    expect(parseOutputs(['json:a.json', 'csv:b.csv', 'junit:c.xml', 'null'])).toEqual([
      { kind: 'json', file: 'a.json' },
      { kind: 'csv', file: 'b.csv' },
      { kind: 'junit', file: 'c.xml' },
    ])
    expect(() => parseOutputs(['xml:a'])).toThrow("--output 'xml:a': unknown kind 'xml'")
    expect(() => parseOutputs(['json:'])).toThrow("--output 'json:': no file")
    expect(() => parseOutputs(['json'])).toThrow("--output 'json': no file")
  })

  it('writes every file at the end, and says where', async () => {
    const dir = testTemp('loads-out-')
    const log: string[] = []
    const stream = { write: (s: string) => log.push(s) } as unknown as NodeJS.WritableStream
    const agg = new Aggregator({ startMs: INFO.startMs })
    record(agg, 'worker-0', 100, () => 4)
    const reporters = outputReporters(parseOutputs([`json:${dir}/r.json`, `csv:${dir}/sub/r.csv`, `junit:${dir}/r.xml`]), stream)
    for (const rep of reporters) await rep.onRunStart?.(INFO)
    const outcome: RunOutcome = { summary: agg.summary(), exitCode: 0, interrupted: false, notes: [] }
    for (const rep of reporters) await rep.onRunEnd?.(outcome, agg)
    expect(JSON.parse(readFileSync(`${dir}/r.json`, 'utf8')).summary.hits).toBe(110)
    expect(readFileSync(`${dir}/sub/r.csv`, 'utf8')).toContain('GET,/items/{id},100,')
    expect(readFileSync(`${dir}/sub/r.series.csv`, 'utf8')).toMatch(/^t_s,/)
    expect(readFileSync(`${dir}/r.xml`, 'utf8')).toContain('<testsuites')
    expect(log).toEqual([
      `--output json:${dir}/r.json: wrote ${dir}/r.json\n`,
      `--output csv:${dir}/sub/r.csv: wrote ${dir}/sub/r.csv\n`,
      `--output csv:${dir}/sub/r.csv: wrote ${dir}/sub/r.series.csv\n`,
      `--output csv:${dir}/sub/r.csv: wrote ${dir}/sub/r.details.csv\n`,
      `--output junit:${dir}/r.xml: wrote ${dir}/r.xml\n`,
    ])
  })
})
