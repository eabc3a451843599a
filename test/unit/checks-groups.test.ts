import { describe, expect, it } from 'vitest'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { SnapshotMerger } from '../../src/stats/snapshot-merge.js'
import type { Snapshot } from '../../src/stats/types.js'
import { formatSummary } from '../../src/report/console/summary.js'
import { mergeResults } from '../../src/report/files/merge-results.js'
import { buildResult, runMeta } from '../../src/report/result.js'

/** Three workers' snapshots over 3 seconds: checks, nested groups with requests, method runs. */
function workerSnapshots(): Snapshot[][] {
  let now = 1_000
  const recs = [0, 1, 2].map((w) => new Recorder({ source: `worker-${w}`, now: () => now }))
  const out: Snapshot[][] = []
  for (let s = 0; s < 3; s++) {
    recs.forEach((rec, w) => {
      for (let i = 0; i < 100; i++) rec.recordCheck('status is 200', i % 25 !== w)
      rec.recordCheck('cart not empty', true)
      rec.recordGroup('checkout', w === 2 && s === 1 ? 'error' : 'pass', (w + 1) * 100_000)
      rec.recordGroup('checkout::pay', s === 0 ? 'failure' : 'pass', 50_000 + w)
      rec.recordGroupRequest('checkout::pay', 'POST', '/pay')
      rec.recordGroupRequest('checkout', 'GET', '/cart')
      rec.recordTest('pass', 'Shop.test_buy', undefined, 200_000 + w * 1000)
    })
    now += 1000
    out.push(recs.map((rec) => rec.snapshot(s === 2)))
  }
  return out
}

describe('checks, groups and test methods as recorder data', () => {
  it('count exactly, whether merged straight or through an agent merger first', () => {
    const seconds = workerSnapshots()
    const direct = new Aggregator({ startMs: 0 })
    for (const snaps of seconds) for (const snap of snaps) direct.add(snap)
    const viaAgent = new Aggregator({ startMs: 0 })
    const merger = new SnapshotMerger('agent-1', 3)
    seconds.forEach((snaps, i) => {
      for (const snap of snaps) merger.add(snap)
      viaAgent.add(merger.take(i === seconds.length - 1)!)
    })
    const a = direct.summary()
    const b = viaAgent.summary()
    expect(b.checks).toEqual(a.checks)
    expect(b.groups).toEqual(a.groups)
    expect(b.methods).toEqual(a.methods)
    // 3 workers × 3 s × 100 evaluations, of which each worker failed 4 a second (i % 25 === w).
    expect(a.checks).toEqual([
      { name: 'cart not empty', passes: 9, failures: 0 },
      { name: 'status is 200', passes: 900 - 36, failures: 36 },
    ])
    expect(a.groups?.map((g) => [g.name, g.runs, g.failures, g.errors, g.requests])).toEqual([
      ['checkout', 9, 0, 1, { 'GET /cart': 9 }],
      ['checkout::pay', 9, 3, 0, { 'POST /pay': 9 }],
    ])
    expect(a.groups?.[0]?.duration.max).toBeCloseTo(300, 0)
    expect(a.groups?.[0]?.duration.min).toBeCloseTo(100, 0)
    expect(a.methods).toMatchObject([{ name: 'Shop.test_buy', runs: 9, failures: 0, errors: 0 }])
    expect(a.methods?.[0]?.duration.p50).toBeCloseTo(201, 0)
  })

  it('leave snapshots and summaries without them as they were', () => {
    const rec = new Recorder({ source: 'w', now: () => 0 })
    rec.recordHit('GET', '/', 200, 1000, 500, 0, 10, 10, null)
    rec.recordTest('pass', 'T.test_a')
    const snap = rec.snapshot(true)
    expect(Object.keys(snap)).not.toContain('checks')
    expect(Object.keys(snap)).not.toContain('groups')
    expect(Object.keys(snap)).not.toContain('methods')
    const agg = new Aggregator({ startMs: 0 })
    agg.add(snap)
    expect(Object.keys(agg.summary())).not.toContain('checks')
  })

  it('survive a saved result merged again (loads report --merge): counts add, histograms add', () => {
    const agg = new Aggregator({ startMs: 0 })
    for (const snaps of workerSnapshots()) for (const snap of snaps) agg.add(snap)
    const info = { runId: 'r', address: 'shop.ts', tests: [{ className: 'Shop', methodName: 'test_buy' }], plan: { steps: [{ users: 1, hits: 1 }] }, mode: 'local' as const, workers: 3, startMs: 0 }
    const outcome = { summary: agg.summary(), exitCode: 0, interrupted: false, notes: [], thresholds: [] }
    const result = buildResult(runMeta(info), outcome, agg, 'test')
    const twice = mergeResults([result, result])
    expect(twice.summary.checks).toEqual(result.summary.checks!.map((c) => ({ ...c, passes: c.passes * 2, failures: c.failures * 2 })))
    expect(twice.summary.groups?.map((g) => [g.name, g.runs, g.duration.count, g.duration.p95])).toEqual(
      result.summary.groups!.map((g) => [g.name, g.runs * 2, g.duration.count * 2, g.duration.p95]),
    )
  })

  it('show in the summary: pass rates per check, groups and test methods with their times', () => {
    const agg = new Aggregator({ startMs: 0 })
    for (const snaps of workerSnapshots()) for (const snap of snaps) agg.add(snap)
    const text = formatSummary(agg.summary())
    expect(text).toMatch(/^Checks:\n {2}\s+CHECK\s+PASSED\s+PASSES\s+FAILURES\n {2}✓\s+cart not empty\s+100\.0%\s+9\s+0\n {2}✗\s+status is 200\s+96\.0%\s+864\s+36$/m)
    expect(text).toMatch(/^Groups:\n {2}GROUP\s+RUNS\s+FAILURES\s+ERRORS\s+P50 ms\s+P95 ms\s+P99 ms\s+MAX ms\s+REQUESTS\n {2}checkout\s+9\s+0\s+1\s+200\.\d\s+300\.0\s+300\.0\s+300\.0\s+9\n {2}checkout::pay\s+9\s+3\s+0\s/m)
    expect(text).toMatch(/^Test methods:\n {2}TEST\s+RUNS.*\n {2}Shop\.test_buy\s+9\s+0\s+0\s/m)
  })
})

describe('thresholds on checks and groups', () => {
  it.each([
    ['checks>99%', { metric: 'checks', op: '>', limit: 0.99, unit: 'share' }],
    ["check:'status is 200'>99.5%", { metric: 'checks', check: 'status is 200', limit: 0.995, unit: 'share' }],
    ['check:"a: b">=50%', { metric: 'checks', check: 'a: b', op: '>=', limit: 0.5 }],
    ['check:cart not empty>1%', { metric: 'checks', check: 'cart not empty', op: '>' }],
    ['group:checkout:p95<2s', { metric: 'p95', group: 'checkout', limit: 2000, unit: 'ms' }],
    ['group:checkout::pay:failed_tests<1', { metric: 'failed_tests', group: 'checkout::pay', limit: 1, unit: 'count' }],
  ])('parses %s', (text, expected) => {
    expect(parseThreshold(text)).toMatchObject({ text, ...expected })
  })

  it.each([
    ['checks>99', /checks is a share/],
    ["check:''>9%", /expected check:'NAME'>99%/],
    ['group:p95<2s', /expected group:NAME:METRIC/],
    ['group:checkout:rps>3', /a group has latency metrics/],
    ['GET /x:checks>9%', /checks are not per URL/],
  ])('refuses %s', (text, message) => {
    expect(() => parseThreshold(text)).toThrow(message)
  })

  it('are judged on the merged figures', () => {
    const agg = new Aggregator({ startMs: 0 })
    for (const snaps of workerSnapshots()) for (const snap of snaps) agg.add(snap)
    const texts = ['checks>97%', 'checks>96.5%', "check:'cart not empty'>=100%", "check:'status is 200'>95%", 'check:nope>1%', 'group:checkout:p95<350ms', 'group:checkout:max<250ms', 'group:checkout::pay:failed_tests<1', 'group:nope:p95<1s']
    const results = judgeThresholds(texts.map(parseThreshold), agg.summary(), agg.encodedHistograms())
    expect(results.map((r) => [r.threshold, r.pass, r.measuredText, r.scope])).toEqual([
      ['checks>97%', false, '96.0% (873 of 909 checks passed)', 'all'],
      ['checks>96.5%', false, '96.0% (873 of 909 checks passed)', 'all'],
      ["check:'cart not empty'>=100%", true, '100.0% (9 of 9 checks passed)', "check 'cart not empty'"],
      ["check:'status is 200'>95%", true, '96.0% (864 of 900 checks passed)', "check 'status is 200'"],
      ['check:nope>1%', false, "no check named 'nope' ran", "check 'nope'"],
      ['group:checkout:p95<350ms', true, '300.0 ms', 'group checkout'],
      ['group:checkout:max<250ms', false, '300.0 ms', 'group checkout'],
      ['group:checkout::pay:failed_tests<1', false, '3 of 9 blocks', 'group checkout::pay'],
      ['group:nope:p95<1s', false, 'no block of group nope ran', 'group nope'],
    ])
  })
})
