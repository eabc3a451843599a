import { describe, expect, it } from 'vitest'
import { compareRuns } from '../../src/report/compare/compare.js'
import { formatComparison } from '../../src/report/compare/format-comparison.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import type { RunSummary } from '../../src/stats/types.js'

/** 1000 hits in 10 s on each URL given, at `ms` each, `failed` of them with a 500. */
function run(urls: Record<string, { ms: number; failed?: number; hits?: number }>): RunSummary {
  let now = 0
  const rec = new Recorder({ source: 'w', now: () => now })
  for (const [name, u] of Object.entries(urls)) {
    const n = u.hits ?? 1000
    for (let i = 0; i < n; i++) rec.recordHit('GET', name, i < (u.failed ?? 0) ? 500 : 200, u.ms * 1000, 100, 0, 10, 10, null)
  }
  now = 10_000
  const agg = new Aggregator({ startMs: 0 })
  agg.add(rec.snapshot(true))
  return agg.summary()
}

describe('compareRuns', () => {
  it('flags latency over the tolerance and 1 ms, a lower rate, and a failed share up more than a point', () => {
    const base = run({ '/a': { ms: 10 }, '/b': { ms: 0.2 }, '/c': { ms: 5 }, '/gone': { ms: 1 } })
    const current = run({ '/a': { ms: 12 }, '/b': { ms: 0.4 }, '/c': { ms: 5, failed: 20, hits: 800 }, '/new': { ms: 1 } })
    const c = compareRuns(base, current)
    const by = Object.fromEntries(c.endpoints.map((e) => [e.name, e]))
    // +20% and +2 ms: a regression.
    expect(by['/a']!.regressions).toEqual(['p50', 'p95', 'p99'])
    expect(by['/a']!.p50.ratio).toBeCloseTo(0.2, 2)
    // Doubled, but under a millisecond: noise.
    expect(by['/b']!.regressions).toEqual([])
    // 20% fewer hits per second and 2.5% failed instead of none.
    expect(by['/c']!.regressions).toEqual(['hitsPerSec', 'failedShare'])
    expect(by['/c']!.failedShare).toEqual({ base: 0, current: 0.025, change: 0.025, ratio: null })
    expect(by['/gone']).toMatchObject({ presence: 'gone', regressions: [] })
    expect(by['/new']).toMatchObject({ presence: 'new', regressions: [], hits: { base: null, current: 1000 } })
    expect(c.endpoints.slice(0, 2).map((e) => e.name)).toEqual(['/a', '/c'])
    expect(c.regressionCount).toBe(2 + (c.overall.regressions.length > 0 ? 1 : 0))
  })

  it('tolerates what the tolerance allows', () => {
    const base = run({ '/a': { ms: 10 } })
    expect(compareRuns(base, run({ '/a': { ms: 12 } }), { tolerance: 0.25 }).regressionCount).toBe(0)
    expect(compareRuns(base, base).regressionCount).toBe(0)
  })

  it('prints a table with base → current and the change, regressions named', () => {
    const text = formatComparison(compareRuns(run({ '/a': { ms: 10 } }), run({ '/a': { ms: 20 } })), { base: 'a.json', current: 'b.json' })
    const lines = text.split('\n')
    expect(lines.slice(0, 3)).toEqual(['base:    a.json', 'current: b.json', ''])
    expect(lines[3]).toBe('METHOD  NAME              HITS/S               P50 ms               P95 ms               P99 ms                 FAILED  FLAGS')
    expect(lines[5]).toBe('GET     /a     100 → 100 (+0.0%)  10.0 → 20.0 (+100%)  10.0 → 20.0 (+100%)  10.0 → 20.0 (+100%)  0.0% → 0.0% (+0.00pt)  REGRESSED P50 ms, P95 ms, P99 ms')
    expect(lines.at(-2)).toMatch(/^2 regressions \(tolerance 10%/)
  })
})
