import Ajv2020 from 'ajv/dist/2020.js'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { formatJson } from '../../src/report/files/json-output.js'
import { mergeResults } from '../../src/report/files/merge-results.js'
import type { RunInfo, RunOutcome } from '../../src/report/reporter.js'
import { buildResult, runMeta, type RunResult } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

describe('open-model and WebSocket stats merge exactly', () => {
  it('keeps the raw service time beside the latency counted from the intended start', () => {
    const a = new Recorder({ source: 'worker-0' })
    const b = new Recorder({ source: 'worker-1' })
    // 99 on-time hits of 1 ms, and one that started 900 ms late.
    for (let i = 0; i < 99; i++) (i % 2 ? a : b).recordLateHit('GET', '/', 200, 1000, 500, 0, 10, 0, null, 0)
    a.recordLateHit('GET', '/', 200, 1000, 500, 0, 10, 0, null, 900_000)
    a.recordDropped(3)
    b.recordDropped(4)
    const agg = new Aggregator()
    agg.add(a.snapshot(true))
    agg.add(b.snapshot(true))
    const s = agg.summary()
    expect(s.hits).toBe(100)
    expect(s.dropped).toBe(7)
    expect(s.latency.count).toBe(100)
    expect(s.latency.max).toBeGreaterThan(900)
    expect(s.service?.count).toBe(100)
    expect(s.service?.max).toBeCloseTo(1, 1)
    expect(s.endpoints[0]?.service?.count).toBe(100)
    expect(agg.encodedHistograms().service).toBeTypeOf('string')
  })

  it('leaves closed-model summaries without service time or dropped starts', () => {
    const r = new Recorder({ source: 'worker-0' })
    r.recordHit('GET', '/', 200, 1000, 500, 0, 10, 0, null)
    const agg = new Aggregator()
    agg.add(r.snapshot(true))
    const s = agg.summary()
    expect(s.service).toBeUndefined()
    expect(s.dropped).toBeUndefined()
    expect(r.snapshot().service).toBeUndefined()
  })

  it('adds WebSocket messages, bytes and close codes per URL name across sources', () => {
    const agg = new Aggregator()
    for (const source of ['w0', 'w1']) {
      const r = new Recorder({ source })
      r.recordHit('WS', '/echo', 101, 2000, 2000, 1000, 0, 0, null)
      r.recordWsMessage('/echo', 'out', 5)
      r.recordWsMessage('/echo', 'in', 5)
      r.recordWsMessage('/echo', 'in', 7)
      agg.add(r.snapshot())
      // Traffic after the handshake's second still counts: an endpoint with messages but no hits.
      r.recordWsClose('/echo', 1000)
      agg.add(r.snapshot(true))
    }
    const ws = agg.summary().endpoints.find((e) => e.method === 'WS')
    expect(ws).toMatchObject({ hits: 2, statuses: { '101': 2 }, bytesIn: 24, bytesOut: 10, ws: { messagesIn: 4, messagesOut: 2, closeCodes: { '1000': 2 } } })
  })
})

describe('saved results with open-model and WebSocket figures', () => {
  function saved(source: string, lags: number[], dropped: number): RunResult {
    const r = new Recorder({ source })
    for (const lagUs of lags) r.recordLateHit('GET', '/', 200, 1000, 500, 0, 10, 0, null, lagUs)
    r.recordHit('WS', '/ws', 101, 2000, 2000, 100, 0, 0, null)
    r.recordWsMessage('/ws', 'in', 3)
    r.recordWsClose('/ws', 1000)
    r.recordDropped(dropped)
    // The run's start by the recorder's own clock: a series point is then a second of the run.
    const snap = r.snapshot(true)
    const agg = new Aggregator({ startMs: snap.startMs })
    agg.add(snap)
    const info: RunInfo = { runId: source, address: 'a.A', tests: [], plan: { steps: [{ users: 10, rate: 5, durationMs: 1000 }], pauseMs: 10 }, mode: 'local', workers: 1, startMs: snap.startMs }
    const outcome: RunOutcome = { summary: agg.summary(), exitCode: 0, interrupted: false, notes: [] }
    return JSON.parse(formatJson(buildResult(runMeta(info), outcome, agg, '0.1.0'))) as RunResult
  }

  it('merge exactly (`loads report --merge`) and match the shipped JSON Schema', () => {
    const a = saved('a', [0, 0, 0, 500_000], 2)
    const b = saved('b', [0, 0, 0, 0], 3)
    const merged = mergeResults([a, b])
    expect(merged.summary.dropped).toBe(5)
    expect(merged.summary.service?.count).toBe(8)
    expect(merged.summary.latency.max).toBeGreaterThan(500)
    expect(merged.summary.service!.max).toBeLessThan(2)
    expect(merged.summary.endpoints.find((e) => e.method === 'GET')?.service?.count).toBe(8)
    expect(merged.summary.endpoints.find((e) => e.method === 'WS')?.ws).toEqual({ messagesIn: 2, messagesOut: 0, closeCodes: { '1000': 2 } })
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    for (const r of [a, merged]) expect(validate(r), JSON.stringify(validate.errors)).toBe(true)
  })
})
