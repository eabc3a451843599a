import { describe, expect, it } from 'vitest'
import { finalExitCode, ExitCode } from '../../src/runner/exit-codes.js'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { formatThresholdLines, ThresholdSet } from '../../src/report/thresholds/threshold-set.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

/** 1000 hits: 990 GET /items/{id} at 1..99 ms (10 each), 8 × 500, 2 refused; 10 POST /items at 400 ms. */
function aggregate(): Aggregator {
  let now = 0
  const rec = new Recorder({ source: 'w', now: () => now })
  for (let i = 0; i < 980; i++) rec.recordHit('GET', '/items/{id}', i < 8 ? 500 : 200, (1 + (i % 98)) * 1000, 500, 0, 100, 10, null)
  rec.recordHit('GET', '/items/{id}', 0, 1000, 0, 0, 0, 10, 'ECONNREFUSED')
  rec.recordHit('GET', '/items/{id}', 0, 1000, 0, 0, 0, 10, 'ECONNREFUSED')
  for (let i = 0; i < 8; i++) rec.recordHit('GET', '/other', 200, 1000, 500, 0, 100, 10, null)
  for (let i = 0; i < 10; i++) rec.recordHit('POST', '/items/{id}', 201, 400_000, 500, 0, 100, 10, null)
  for (let i = 0; i < 97; i++) rec.recordTest('pass', 'T.test_a')
  for (let i = 0; i < 3; i++) rec.recordTest('failure', 'T.test_a', { kind: 'AssertionError', message: 'no', stack: '' })
  now = 2000
  const agg = new Aggregator({ startMs: 0 })
  agg.add(rec.snapshot(true))
  return agg
}

describe('parseThreshold', () => {
  it.each([
    ['p95<300ms', { metric: 'p95', op: '<', limit: 300, unit: 'ms' }],
    ['p99<1s', { metric: 'p99', op: '<', limit: 1000, unit: 'ms' }],
    ['p99.9 <= 1.5s', { metric: 'p99.9', op: '<=', limit: 1500, unit: 'ms' }],
    ['p999<250', { metric: 'p99.9', op: '<', limit: 250, unit: 'ms' }],
    ['mean<800us', { metric: 'mean', op: '<', limit: 0.8, unit: 'ms' }],
    ['errors<1%', { metric: 'errors', op: '<', limit: 0.01, unit: 'share' }],
    ['errors<10', { metric: 'errors', op: '<', limit: 10, unit: 'count' }],
    ['failed_tests<1', { metric: 'failed_tests', op: '<', limit: 1, unit: 'count' }],
    ['rps>500', { metric: 'rps', op: '>', limit: 500, unit: 'per_sec' }],
    ['hits>=1000', { metric: 'hits', op: '>=', limit: 1000, unit: 'count' }],
  ])('%s', (text, expected) => {
    const t = parseThreshold(text)
    expect(t).toMatchObject(expected)
    expect(t.scope).toBeUndefined()
  })

  it('reads a URL scope before the last colon, with or without a method', () => {
    expect(parseThreshold('GET /items/{id}:p95<200ms')).toMatchObject({ scope: { method: 'GET', name: '/items/{id}' }, metric: 'p95', limit: 200 })
    expect(parseThreshold('/items/{id}:errors<1%')).toMatchObject({ scope: { name: '/items/{id}' }, metric: 'errors' })
    expect(parseThreshold('GET http://h:8080/x:p99<1s').scope).toEqual({ method: 'GET', name: 'http://h:8080/x' })
  })

  it.each([
    ['p95', /expected \[METHOD NAME:\]METRIC<VALUE/],
    ['p95<3 parsecs', /p95 takes a duration/],
    ['p95<300kg', /p95 takes a duration/],
    ['latency<3ms', /unknown metric 'latency'/],
    ['hits>5%', /hits is a count/],
    ['errors<1.5', /whole hits or test runs/],
    ['errors<150%', /at most 100%/],
    ['GET /x:failed_tests<1', /drop the "NAME:" part/],
    [':p95<1s', /nothing before ":"/],
  ])('refuses %s with a clear message', (text, message) => {
    expect(() => parseThreshold(text)).toThrow(message)
  })
})

describe('judgeThresholds on merged results', () => {
  const agg = aggregate()
  const judge = (...texts: string[]) => judgeThresholds(texts.map(parseThreshold), agg.summary(), agg.encodedHistograms())

  it('measures percentiles, errors, failed tests and the rate, and says pass or fail', () => {
    const r = judge('p50<60ms', 'p99.9<100ms', 'errors<1%', 'errors<=10', 'network_errors<3', 'failed_tests<1%', 'rps>400', 'hits>=1000')
    expect(r.map((x) => [x.threshold, x.pass, x.measuredText])).toEqual([
      ['p50<60ms', true, '49.0 ms'],
      ['p99.9<100ms', false, '400.1 ms'],
      ['errors<1%', false, '1.00% (10 of 1000 hits)'],
      ['errors<=10', true, '10 of 1000 hits'],
      ['network_errors<3', true, '2 of 1000 hits'],
      ['failed_tests<1%', false, '3.00% (3 of 100 test runs)'],
      ['rps>400', true, '500 hits/s'],
      ['hits>=1000', true, '1000 hits'],
    ])
  })

  it('judges one URL, and merges the histograms of every method under a name', () => {
    const [get, all, other, missing] = judge('GET /items/{id}:p99<100ms', '/items/{id}:max<1s', '/other:errors<1%', 'GET /nope:p95<1s')
    expect(get).toMatchObject({ pass: true, measuredText: '98.0 ms', scope: 'GET /items/{id}' })
    expect(all).toMatchObject({ pass: true, measuredText: '400.1 ms', scope: '/items/{id}' })
    expect(other).toMatchObject({ pass: true, measured: 0 })
    expect(missing).toMatchObject({ pass: false, measured: null, measuredText: 'no hits for GET /nope' })
  })

  it('marks only counts over budget, max over limit and min under limit as failed for good', () => {
    const r = judge('errors<5', 'max<100ms', 'min>2ms', 'errors<0.5%', 'p99.9<100ms', 'rps<100')
    expect(r.map((x) => [x.pass, x.final])).toEqual([
      [false, true],
      [false, true],
      [false, true],
      [false, false],
      [false, false],
      [false, false],
    ])
  })

  it('prints each verdict with its measured value, and the threshold that aborted the run', () => {
    const lines = formatThresholdLines(judge('p50<60ms', 'errors<1%'), 'errors<1%')
    expect(lines).toEqual([
      'Thresholds (1 of 2 failed):',
      '  pass  p50<60ms   p50 49.0 ms',
      '  FAIL  errors<1%  errors 1.00% (10 of 1000 hits)',
      "  the run was stopped early (--abort-on-fail): 'errors<1%' failed for good",
    ])
  })
})

describe('ThresholdSet.failedForGood', () => {
  it('reports a count over budget only with --abort-on-fail, and ignores shares', () => {
    const agg = aggregate()
    const ts = ['errors<1%', 'errors<5'].map(parseThreshold)
    expect(new ThresholdSet(ts, false).failedForGood(agg, 0)).toBeUndefined()
    expect(new ThresholdSet(ts, true).failedForGood(agg, 0)?.threshold).toBe('errors<5')
    expect(new ThresholdSet([parseThreshold('errors<1%')], true).failedForGood(agg, 0)).toBeUndefined()
  })
})

describe('finalExitCode', () => {
  it('puts user interrupts over the engine over test failures over thresholds', () => {
    const base = { interrupted: false, testFailures: 0, thresholdsFailed: false }
    expect(finalExitCode(base)).toBe(ExitCode.OK)
    expect(finalExitCode({ ...base, thresholdsFailed: true })).toBe(ExitCode.THRESHOLD)
    expect(finalExitCode({ ...base, thresholdsFailed: true, testFailures: 2 })).toBe(ExitCode.TEST_FAILURES)
    expect(finalExitCode({ ...base, thresholdsFailed: true, engineCode: ExitCode.PARTIAL })).toBe(ExitCode.PARTIAL)
    expect(finalExitCode({ ...base, thresholdsFailed: true, interrupted: true })).toBe(ExitCode.INTERRUPTED)
  })
})
