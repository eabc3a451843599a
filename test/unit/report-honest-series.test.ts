import { readFileSync } from 'node:fs'
import Ajv2020 from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { decodeSnapshotMessage, encodeSnapshotMessage } from '../../src/cluster/snapshot-codec.js'
import { seriesCsv } from '../../src/report/files/csv-output.js'
import { formatJson } from '../../src/report/files/json-output.js'
import { mergeResults } from '../../src/report/files/merge-results.js'
import { buildResult, runMeta, type RunResult } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { InFlight } from '../../src/stats/in-flight.js'
import { Recorder } from '../../src/stats/recorder.js'
import { SnapshotMerger } from '../../src/stats/snapshot-merge.js'

const START = 1_000_000

/** A run with hits in seconds 0, 1 and 4 only: seconds 2 and 3 are a stall. */
function stalledRun(): { agg: Aggregator; result: RunResult } {
  let now = START
  const rec = new Recorder({ source: 'worker-0', now: () => now })
  const agg = new Aggregator({ startMs: START })
  for (const [second, hits] of [[0, 10], [1, 10], [2, 0], [3, 0], [4, 10]] as const) {
    for (let i = 0; i < hits; i++) rec.recordHit('GET', '/x', 200, (5 + i) * 1000, 1000, 0, 10, 0, null)
    now = START + (second + 1) * 1000 - 1
    agg.add(rec.snapshot(second === 4))
  }
  const summary = agg.summary()
  const result = buildResult(
    runMeta({ runId: 'r', address: 'a.T', tests: [{ className: 'T', methodName: 'test_x' }], plan: { steps: [{ users: 1, durationMs: 5000 }] }, mode: 'local', workers: 1, startMs: START }),
    { summary, exitCode: 0, interrupted: false, notes: [] },
    agg,
    '0.0.0',
  )
  return { agg, result }
}

describe('a second without a completed hit', () => {
  it('is null in the series (nothing measured), never 0 ms', () => {
    const { agg } = stalledRun()
    const series = agg.series()
    expect(series.map((p) => [p.t, p.hits, p.p50])).toEqual([
      [0, 10, expect.any(Number)],
      [1, 10, expect.any(Number)],
      [2, 0, null],
      [3, 0, null],
      [4, 10, expect.any(Number)],
    ])
    expect(series[0]!.p50).toBeGreaterThan(4)
    expect(series[2]).toMatchObject({ p95: null, p99: null })
  })

  it('is an empty cell in the series CSV and null in the JSON, which the schema accepts', () => {
    const { result } = stalledRun()
    const lines = seriesCsv(result).trim().split('\r\n')
    const header = lines[0]!.split(',')
    const stalled = lines[3]!.split(',')
    expect(stalled[header.indexOf('t_s')]).toBe('2')
    expect([stalled[header.indexOf('p50_ms')], stalled[header.indexOf('p95_ms')], stalled[header.indexOf('p99_ms')]]).toEqual(['', '', ''])
    expect(Number(lines[1]!.split(',')[header.indexOf('p50_ms')])).toBeGreaterThan(4)

    const json = JSON.parse(formatJson(result)) as RunResult
    expect(json.series[2]).toMatchObject({ t: 2, p50: null })
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
    // Merged results keep the gap where every run had one.
    const merged = mergeResults([json, json])
    expect(merged.series.find((p) => p.t === 2)).toMatchObject({ p50: null, hits: 0 })
    expect(merged.series.find((p) => p.t === 0)?.p50).toBe(json.series[0]!.p50)
    expect(validate(merged), JSON.stringify(validate.errors)).toBe(true)
    // The per-name series too (the report's "latency of" picker): the same seconds, the gap kept.
    const own = json.nameSeries!.find((n) => n.name === '/x')!
    expect(own.t).toEqual([0, 1, 4])
    expect(merged.nameSeries).toEqual(json.nameSeries)
    // A later run's seconds follow on the wall clock; a shared second keeps the higher percentile.
    const later = structuredClone(json)
    later.summary.startMs += 4000
    later.nameSeries![0]!.p99 = later.nameSeries![0]!.p99.map((v) => v * 2)
    const both = mergeResults([json, later]).nameSeries![0]!
    expect(both.t).toEqual([0, 1, 4, 5, 8])
    expect(both.p99).toEqual([own.p99[0], own.p99[1], Math.max(own.p99[2]!, own.p99[0]! * 2), own.p99[1]! * 2, own.p99[2]! * 2])
    expect(validate(mergeResults([json, later])), JSON.stringify(validate.errors)).toBe(true)
  })
})

describe('the oldest request in flight', () => {
  it('is counted by when it started, to the 100 ms bucket, and forgotten once it ends', () => {
    const f = new InFlight()
    expect(f.oldestAgeMs(10_000)).toBe(0)
    const a = f.start(10_050)
    const b = f.start(10_420)
    expect(f.oldestAgeMs(13_000)).toBe(3000)
    f.end(a)
    expect(f.oldestAgeMs(13_000)).toBe(2600)
    f.end(b)
    expect(f.oldestAgeMs(13_000)).toBe(0)
    // A request started in the bucket the gauge last looked at is still seen.
    const c = f.start(13_010)
    expect(f.oldestAgeMs(14_000)).toBe(1000)
    f.end(c)
  })

  it('keeps a request older than its ring (~102 s) apart, still the oldest', () => {
    const f = new InFlight()
    const old = f.start(1000)
    for (let t = 1000; t < 200_000; t += 100) f.end(f.start(t + 1))
    expect(f.oldestAgeMs(200_000)).toBe(199_000)
    f.end(old)
    expect(f.oldestAgeMs(200_000)).toBe(0)
  })

  it('crosses the agent merge and the binary codec, and the live view takes the oldest of the unfinished sources', () => {
    const merger = new SnapshotMerger('agent-1', 2)
    const base = { v: 1 as const, seq: 0, startMs: START, endMs: START + 1000, step: 0, activeUsers: 1, tests: { run: 0, failures: 0, errors: 0 }, endpoints: [], latency: '', errors: [], counters: {}, final: false }
    merger.add({ ...base, source: 'worker-0', oldestInFlightMs: 1200 })
    merger.add({ ...base, source: 'worker-1', oldestInFlightMs: 4300 })
    const merged = merger.take()!
    expect(merged.oldestInFlightMs).toBe(4300)
    const decoded = decodeSnapshotMessage(encodeSnapshotMessage({ type: 'run.snapshot', runId: 'r', agentId: 'agent-1', snapshot: merged }))!
    expect(decoded.snapshot.oldestInFlightMs).toBe(4300)

    const agg = new Aggregator({ startMs: START, now: () => START + 1000 })
    agg.add(decoded.snapshot)
    agg.add({ ...base, source: 'agent-2', oldestInFlightMs: 900 })
    expect(agg.latest().oldestInFlightMs).toBe(4300)
    agg.add({ ...decoded.snapshot, seq: 1, final: true, oldestInFlightMs: 9999 })
    expect(agg.latest().oldestInFlightMs).toBe(900)
  })

  it('is in a recorder snapshot while a request is out, and absent once none is', () => {
    const rec = new Recorder({ source: 'worker-0' })
    // performance.now() counts from the thread's start: never before 0, as in a fresh worker.
    const now = performance.now()
    const startedAt = Math.max(0, now - 2500)
    const token = rec.inFlight.start(startedAt)
    expect(rec.snapshot().oldestInFlightMs).toBeGreaterThanOrEqual(Math.floor(now - startedAt))
    rec.inFlight.end(token)
    expect(rec.snapshot().oldestInFlightMs).toBeUndefined()
  })
})
