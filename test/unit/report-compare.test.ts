import { describe, expect, it } from 'vitest'
import { compareRuns } from '../../src/report/compare/compare.js'
import { formatComparison } from '../../src/report/compare/format-comparison.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import type { CompareSide } from '../../src/report/compare/compare.js'
import type { RunSummary } from '../../src/stats/types.js'

/** 1000 hits in 10 s on each URL given, at `ms` each, `failed` of them with a 500. */
function run(urls: Record<string, { ms: number; failed?: number; hits?: number }>): CompareSide {
  return side(summaryOf(urls))
}

function side(summary: RunSummary, over: Partial<CompareSide> = {}): CompareSide {
  return {
    run: { runId: 'r', address: 'shop.TestShop.test_buy', tests: [{ className: 'TestShop', methodName: 'test_buy' }], plan: { steps: [{ users: 10, durationMs: 10_000 }] }, mode: 'local', workers: 2, startMs: 0 },
    summary,
    thresholds: [],
    state: 'finished',
    exitCode: 0,
    ...over,
  }
}

function summaryOf(urls: Record<string, { ms: number; failed?: number; hits?: number }>): RunSummary {
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
    expect(c.endpoints.slice(0, 3).map((e) => e.name)).toEqual(['/a', '/c', '/gone'])
    // All hits together: the median is the same hit class in both runs; the tail moved.
    expect(c.regressionList).toEqual([
      { subject: 'all hits', detail: 'p95, p99' },
      { subject: 'GET /a', detail: 'p50, p95, p99' },
      { subject: 'GET /c', detail: 'hits/s, failed hits' },
      { subject: 'GET /gone', detail: 'vanished (no hit in the current run)' },
    ])
    expect(c.regressionCount).toBe(4)
    expect(c.notComparable).toEqual([])
  })

  it('shows improvements beside regressions', () => {
    const c = compareRuns(run({ '/a': { ms: 20 }, '/b': { ms: 5 } }), run({ '/a': { ms: 10 }, '/b': { ms: 5.5 } }))
    const by = Object.fromEntries(c.endpoints.map((e) => [e.name, e]))
    expect(by['/a']).toMatchObject({ regressions: [], improvements: ['p50', 'p95', 'p99'] })
    // 10% and half a millisecond slower: within the tolerance, neither.
    expect(by['/b']).toMatchObject({ regressions: [], improvements: [] })
    expect(c.improvementList).toEqual([
      { subject: 'all hits', detail: 'p95, p99' },
      { subject: 'GET /a', detail: 'p50, p95, p99' },
    ])
    expect(c.regressionCount).toBe(0)
  })

  it('counts failed test runs (per method), a run whose every test failed, and failed thresholds as regressions', () => {
    const s = summaryOf({ '/a': { ms: 10 } })
    const method = (failures: number, errors: number) => ({ name: 'TestShop.test_buy', runs: 200, failures, errors, duration: s.latency })
    const base = side({ ...s, tests: { run: 200, failures: 0, errors: 0 }, methods: [method(0, 0)] })
    const broken = side(
      { ...s, tests: { run: 200, failures: 150, errors: 50 }, methods: [method(150, 50)] },
      {
        exitCode: 1,
        thresholds: [{ threshold: 'failed_tests<1', metric: 'failed_tests', scope: 'all', op: '<', limit: 1, unit: 'count', pass: false, measured: 200, measuredText: '200 failed test runs', final: true }],
      },
    )
    const c = compareRuns(base, broken)
    expect(c.tests).toEqual([
      { name: 'TestShop.test_buy', presence: 'both', runs: { base: 200, current: 200, change: 0, ratio: 0 }, failedShare: { base: 0, current: 1, change: 1, ratio: null }, regressed: true, improved: false },
    ])
    expect(c.regressionList).toEqual([
      { subject: 'TestShop.test_buy', detail: '100.0% failed (was 0.0%)' },
      { subject: 'threshold failed_tests<1', detail: 'failed (200 failed test runs)' },
    ])
    expect(c.runs.current).toMatchObject({ testRuns: 200, failedRuns: 200, exitCode: 1, thresholds: 1, failedThresholds: ['failed_tests<1'] })
    // Every run failed in both: still a regression, never "no regression".
    expect(compareRuns(broken, broken).regressionList.map((f) => f.subject)).toEqual(['TestShop.test_buy', 'threshold failed_tests<1'])
    // Results without per-method figures: all test runs together.
    const old = (x: CompareSide): CompareSide => ({ ...x, summary: { ...x.summary, methods: undefined } as unknown as RunSummary })
    expect(compareRuns(old(base), old(broken)).tests.map((t) => [t.name, t.regressed])).toEqual([['(all)', true]])
  })

  it('says why runs of different tests, plans or modes are not comparable', () => {
    const s = summaryOf({ '/a': { ms: 10 } })
    const base = side(s)
    const plan = (p: CompareSide['run']['plan']): CompareSide => side(s, { run: { ...base.run, plan: p } })
    expect(compareRuns(base, plan({ steps: [{ users: 20, durationMs: 10_000 }] })).notComparable).toEqual(['different plans: base 10 users for 10s; current 20 users for 10s'])
    expect(compareRuns(base, plan({ steps: [{ users: 10, durationMs: 10_000 }], think: { minMs: 200, maxMs: 1000 } })).notComparable).toEqual([
      'different plans: base 10 users for 10s; current 10 users for 10s, think 200ms-1s',
    ])
    expect(compareRuns(plan({ steps: [{ rate: 40, users: 50, durationMs: 10_000 }] }), plan({ steps: [{ rate: 40, durationMs: 10_000, users: 50 }] })).notComparable).toEqual([])
    const other = side(s, { run: { ...base.run, tests: [{ className: 'TestShop', methodName: 'test_browse' }], mode: 'cluster', workers: 8 } })
    expect(compareRuns(base, other).notComparable).toEqual([
      'different tests: only the base ran TestShop.test_buy; only the current run ran TestShop.test_browse',
      'base ran on this machine, current on a cluster (each agent runs the whole plan)',
    ])
    // Workers differ, the load does not.
    expect(compareRuns(base, side(s, { run: { ...base.run, workers: 1 } })).notComparable).toEqual([])
    expect(compareRuns(plan({ steps: [{ rate: 40, users: 50, durationMs: 10_000 }] }), base).runs.base).toMatchObject({ plan: '40 runs/s for 10s (at most 50 in flight)', users: 'at most 50 in flight', plannedMs: 10_000 })
  })

  it('tolerates what the tolerance allows', () => {
    const base = run({ '/a': { ms: 10 } })
    expect(compareRuns(base, run({ '/a': { ms: 12 } }), { tolerance: 0.25 }).regressionCount).toBe(0)
    expect(compareRuns(base, base).regressionCount).toBe(0)
  })

  it('prints a table with base → current and the change, regressions named', () => {
    const text = formatComparison(compareRuns(run({ '/a': { ms: 10 } }), run({ '/a': { ms: 20 } })), { base: 'a.json', current: 'b.json' })
    const lines = text.split('\n')
    expect(lines.slice(0, 14)).toEqual([
      'base:    a.json',
      'current: b.json',
      '',
      '            base                       current',
      'tests       1 test: TestShop.test_buy  1 test: TestShop.test_buy',
      'plan        10 users for 10s           10 users for 10s',
      'users       10                         10',
      'duration    10.00 s (planned 10.00 s)  10.00 s (planned 10.00 s)',
      'ended       finished, exit 0           finished, exit 0',
      'hits        1000                       1000',
      'test runs   0, 0 failed (0.0%)         0, 0 failed (0.0%)',
      'thresholds  none                       none',
      'where       this machine, 2 workers    this machine, 2 workers',
      '',
    ])
    expect(lines[14]).toBe('METHOD  NAME              HITS/S               P50 ms               P95 ms               P99 ms                 FAILED  FLAGS')
    expect(lines[16]).toBe('GET     /a     100 → 100 (+0.0%)  10.0 → 20.0 (+100%)  10.0 → 20.0 (+100%)  10.0 → 20.0 (+100%)  0.0% → 0.0% (+0.00pt)  REGRESSED P50 ms, P95 ms, P99 ms')
    expect(lines.slice(18, 20)).toEqual(['TEST    RUNS            FAILED RUNS  FLAGS', '(all)  0 → 0  0.0% → 0.0% (+0.00pt)'])
    expect(lines.slice(21, 25)).toEqual(['Regressions (2):', '  all hits: p50, p95, p99', '  GET /a: p50, p95, p99', ''])
    expect(lines.at(-2)).toMatch(/^2 regressions \(tolerance 10%/)
  })

  it('escapes control characters and cuts long names in the middle', () => {
    const long = `/a/${'y'.repeat(100)}\u001b[2J`
    const text = formatComparison(compareRuns(run({ [long]: { ms: 10 } }), run({ [long]: { ms: 10 } })), { base: 'a.json', current: 'b.json' })
    expect(text).not.toContain('\u001b')
    expect(text).toContain(`\nGET     /a/${'y'.repeat(27)}…${'y'.repeat(22)}\\x1b[2J  `)
  })
})
