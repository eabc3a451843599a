import { readFileSync } from 'node:fs'
import Ajv2020 from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { endpointsCsv, toCsv } from '../../src/report/files/csv-output.js'
import { formatJson } from '../../src/report/files/json-output.js'
import { buildResult, runMeta, type RunResult } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

function result(names: string[]): RunResult {
  let now = 1_000_000
  const rec = new Recorder({ source: 'w', now: () => now })
  for (const n of names) rec.recordHit('GET', n, 200, 2000, 1000, 0, 1, 0, null)
  now += 1000
  const agg = new Aggregator({ startMs: 1_000_000 })
  agg.add(rec.snapshot(true))
  const summary = agg.summary()
  return buildResult(runMeta({ runId: 'r', address: 'a.T', tests: [], plan: { steps: [{ users: 1, hits: 1 }] }, mode: 'local', workers: 1, startMs: 1_000_000 }), { summary, exitCode: 0, interrupted: false, notes: [] }, agg, '0.0.0')
}

describe('CSV a spreadsheet opens safely', () => {
  it('neutralises names that start like a formula and escapes control bytes', () => {
    const csv = endpointsCsv(result(['=HYPERLINK("http://evil","x")', '+1+1', '-2', '@SUM(A1)', '/ok', '/esc\x1b[31m']))
    expect(csv).not.toMatch(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/)
    const names = csv.trim().split('\r\n').slice(1).map((l) => l.split(',')[1])
    expect(names).toContain(`"'=HYPERLINK(""http://evil""`)
    expect(names).toEqual(expect.arrayContaining(["'+1+1", "'-2", "'@SUM(A1)", '/ok', '/esc\\x1b[31m']))
    // Numbers stay numbers, negative ones included.
    expect(toCsv(['n'], [[-3]])).toBe('n\r\n-3\r\n')
  })
})

describe('the JSON Schema', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
  const validate = new Ajv2020({ allErrors: true }).compile(schema)
  const good = JSON.parse(formatJson(result(['/a', '/b']))) as RunResult

  it('accepts a real result', () => {
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true)
  })

  it('rejects an exit code Loads never gives, garbage histograms, non-numeric status keys and a point far past any run', () => {
    const mutations: [string, (r: RunResult) => void][] = [
      ['exitCode 99', (r) => (r.exitCode = 99)],
      ['garbage histogram', (r) => (r.histograms.latency = 'not a histogram!')],
      ['garbage endpoint histogram', (r) => (r.histograms.endpoints[0]!.ttfb = '<script>')],
      ['non-numeric status', (r) => (r.summary.endpoints[0]!.statuses = { OK: 1 })],
      ['t = 3e7', (r) => (r.series[0]!.t = 30_000_000)],
    ]
    for (const [label, mutate] of mutations) {
      const r = structuredClone(good)
      mutate(r)
      expect(validate(r), label).toBe(false)
    }
  })
})
