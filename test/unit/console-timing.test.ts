import { describe, expect, it } from 'vitest'
import { formatSummary } from '../../src/report/console/summary.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

function summaryOf(record: (rec: Recorder) => void) {
  let now = 0
  const rec = new Recorder({ source: 'a', now: () => now })
  record(rec)
  now = 10_000
  const agg = new Aggregator({ startMs: 0 })
  agg.add(rec.snapshot(true))
  return agg.summary()
}

describe('the console summary shows everything measured per URL', () => {
  it('min, mean, p99.9, max, TTFB, connections and their connect time, bytes', () => {
    const s = summaryOf((rec) => {
      // 10 hits of 4 ms (TTFB 3 ms), 2 of them opening a connection of 1.5 ms; a refused one.
      for (let i = 0; i < 10; i++) rec.recordHit('GET', '/a', 200, 4000, 3000, i < 2 ? 1500 : 0, 1500, 100, null)
      rec.recordHit('POST', '/b', 0, 1000, 0, 0, 0, 50, 'ECONNREFUSED')
    })
    const lines = formatSummary(s).split('\n')
    const at = lines.indexOf('Per URL, continued (CONNECT ms: TCP, the mean of the hits that opened a connection):')
    expect(at).toBeGreaterThan(0)
    expect(lines.slice(at + 1, at + 4)).toEqual([
      'METHOD  NAME  MIN ms  MEAN ms  P99.9 ms  MAX ms  TTFB P50  TTFB P95  CONNECTS  CONNECT ms  BYTES IN  BYTES OUT',
      'GET     /a      4.00     4.00      4.00    4.00      3.00      3.00         2        1.50   15.0 kB    1.00 kB',
      'POST    /b      1.00     1.00      1.00    1.00         –         –         0           –       0 B       50 B',
    ])
  })

  it('for --rate: the service time per URL beside the latency, and what their gap means', () => {
    const s = summaryOf((rec) => {
      for (let i = 0; i < 10; i++) rec.recordLateHit('GET', '/a', 200, 20_000, 5_000, 0, 10, 10, null, 30_000)
      rec.recordDropped(4)
    })
    const text = formatSummary(s)
    expect(text).toContain('\nDropped starts: 4 (due while every user was busy, and not started before the step ended)\n')
    expect(text).toContain(
      "\n  (open model: latency counts from each run's intended start, coordinated omission corrected; service time is the request's own; the gap between them is how long runs waited to start because every user was busy — what a real user would have waited on top)\n",
    )
    expect(text).toMatch(/\nMETHOD +NAME +MIN ms .* BYTES OUT +SERVICE P50 +SERVICE P95\nGET +\/a +50\.0 +50\.0 .* 20\.0 +20\.0\n/)
  })
})
