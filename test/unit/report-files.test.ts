import { describe, expect, it } from 'vitest'
import Ajv2020 from 'ajv/dist/2020.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { endpointsCsv, seriesCsv, seriesPath, toCsv } from '../../src/report/files/csv-output.js'
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
    expect(lines[0]).toBe('method,name,hits,network_errors,hits_per_sec,bytes_in,bytes_out,min_ms,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p99_9_ms,max_ms,statuses,error_kinds')
    expect(lines[1]).toMatch(/^GET,\/items\/\{id\},200,0,66\.667,40000,4000,4,4\.001,4\.001,4\.001,4\.001,4\.001,4\.001,4\.001,200:196 503:4,$/)
    expect(lines[2]).toMatch(/^POST,\/login,20,20,6\.667,0,400,5,5\.002,5\.003,5\.003,5\.003,5\.003,5\.003,5\.003,,ECONNREFUSED:20$/)
    expect(lines[3]).toMatch(/^,\(total\),220,20,73\.333,/)
    expect(lines[4]).toBe('')
  })

  it('writes the per-second series next to it', () => {
    expect(seriesPath('out/run.csv')).toBe('out/run.series.csv')
    expect(seriesPath('run')).toBe('run.series.csv')
    const lines = seriesCsv(r).trimEnd().split('\r\n')
    expect(lines[0]).toBe('t_s,time_ms,hits,network_errors,http_errors,tests_run,failures,test_errors,active_users,step,p50_ms,p95_ms,p99_ms')
    // Two 503s in each full second (i = 0, 50, 100, 150).
    expect(lines.slice(1).map((l) => l.split(',')[4])).toEqual(['2', '2', '0'])
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual(['1,1001000,110,10,100,0', '2,1002000,110,10,100,0', '3,1003000,0,0,0,0'].map((l) => l.split(',').slice(0, 4).join(',')))
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
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="loads" tests="4" failures="2" errors="0"')).toBe(true)
    expect(xml).toContain('<testsuite name="loads: example.TestApi" tests="2" failures="1" errors="0"')
    expect(xml).toContain('<testcase classname="TestApi" name="test_items"')
    expect(xml).toContain('<failure message="failed 4 times; first: AssertionError: expected &lt;b&gt;200&lt;/b&gt;" type="AssertionError">')
    expect(xml).toMatch(/<testcase classname="TestApi" name="test_login" time="[\d.]+">\n {6}<properties>/)
    expect(xml).toContain('<testsuite name="loads: thresholds" tests="2" failures="1"')
    expect(xml).toContain('<testcase classname="thresholds" name="p95&lt;1s" time="0.000">')
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
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-out-'))
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
      `--output junit:${dir}/r.xml: wrote ${dir}/r.xml\n`,
    ])
  })
})
