import { describe, it, expect } from 'vitest'
import { Aggregator } from '../../src/stats/aggregator.js'
import { OTHER_ENDPOINTS, Recorder } from '../../src/stats/recorder.js'
import { ErrorGroups, OTHER_ERRORS } from '../../src/stats/error-groups.js'
import { decodeHistogram, MAX_TRACKABLE_US } from '../../src/stats/histogram.js'

describe('Recorder', () => {
  it('returns deltas: a second snapshot holds only what came after the first', () => {
    let now = 5000
    const rec = new Recorder({ source: 'worker-0', now: () => now })
    rec.recordHit('GET', '/a', 200, 1500, 700, 300, 1000, 50, null)
    rec.recordHit('GET', '/a', 404, 2500, 900, 0, 10, 50, null)
    rec.recordHit('GET', '/a', 0, 30_000, 0, 0, 0, 50, 'ECONNREFUSED')
    rec.recordTest('pass', 'T.test_a')
    rec.incrCounter('logins')
    rec.incrCounter('logins', 4)
    rec.setActiveUsers(7)
    rec.setStep(2)
    now = 6000
    const s0 = rec.snapshot()
    expect(s0).toMatchObject({
      v: 1, source: 'worker-0', seq: 0, startMs: 5000, endMs: 6000, step: 2, activeUsers: 7,
      tests: { run: 1, failures: 0, errors: 0 }, counters: { logins: 5 }, final: false, errors: [],
    })
    expect(s0.endpoints).toHaveLength(1)
    expect(s0.endpoints[0]).toMatchObject({
      method: 'GET', name: '/a', hits: 3, errors: 1, bytesIn: 1010, bytesOut: 150,
      statuses: { '200': 1, '404': 1 }, errorKinds: { ECONNREFUSED: 1 }, connects: 1, connectUs: 300,
    })
    expect(decodeHistogram(s0.endpoints[0]!.latency).totalCount).toBe(3)
    // TTFB is only measured on responses.
    expect(decodeHistogram(s0.endpoints[0]!.ttfb).totalCount).toBe(2)
    expect(decodeHistogram(s0.latency).totalCount).toBe(3)

    rec.recordHit('GET', '/a', 200, 1000, 500, 0, 1, 1, null)
    now = 7000
    const s1 = rec.snapshot(true)
    expect(s1).toMatchObject({ seq: 1, startMs: 6000, endMs: 7000, final: true, counters: {}, tests: { run: 0 } })
    expect(s1.endpoints[0]).toMatchObject({ hits: 1, errors: 0, statuses: { '200': 1 }, errorKinds: {} })

    now = 8000
    const s2 = rec.snapshot()
    expect(s2.endpoints).toEqual([])
    expect(decodeHistogram(s2.latency).totalCount).toBe(0)
    // Snapshots are plain data: they survive JSON and structured clone.
    expect(JSON.parse(JSON.stringify(s0))).toEqual(s0)
  })

  it('clamps latencies to the trackable range instead of throwing', () => {
    const rec = new Recorder({ source: 'w' })
    rec.recordHit('GET', '/', 200, 10 * MAX_TRACKABLE_US, -5, 0, 0, 0, null)
    rec.recordHit('GET', '/', 200, Number.NaN, 0, 0, 0, 0, null)
    const h = decodeHistogram(rec.snapshot().latency)
    expect(h.totalCount).toBe(2)
    expect(h.maxValue).toBeGreaterThanOrEqual(MAX_TRACKABLE_US)
  })

  it('groups test errors by outcome, kind, message and test, keeping the first stack', () => {
    const rec = new Recorder({ source: 'w' })
    rec.recordTest('failure', 'T.a', { kind: 'AssertionError', message: 'x', stack: 'first' })
    rec.recordTest('failure', 'T.a', { kind: 'AssertionError', message: 'x', stack: 'second' })
    rec.recordTest('error', 'T.a', { kind: 'TypeError', message: 'x', stack: 's' })
    rec.recordTest('failure', 'T.b', { kind: 'AssertionError', message: 'x', stack: 's' })
    const s = rec.snapshot()
    expect(s.tests).toEqual({ run: 4, failures: 3, errors: 1 })
    expect(s.errors[0]).toEqual({ outcome: 'failure', kind: 'AssertionError', message: 'x', test: 'T.a', count: 2, stack: 'first' })
    expect(s.errors).toHaveLength(3)
  })

  it('keeps at most 100 error groups per snapshot, folding the rest into (other errors) of their kind', () => {
    const rec = new Recorder({ source: 'w' })
    for (let i = 0; i < 10_000; i++) {
      rec.recordTest('error', 'T.a', { kind: i % 2 === 0 ? 'Error' : 'TypeError', message: `request ${i} failed`, stack: 'x'.repeat(100) })
    }
    const s = rec.snapshot()
    expect(s.errors).toHaveLength(102)
    expect(s.errors.slice(0, 2)).toEqual([
      { outcome: 'error', kind: 'Error', message: OTHER_ERRORS, test: '', count: 4_950, stack: '' },
      { outcome: 'error', kind: 'TypeError', message: OTHER_ERRORS, test: '', count: 4_950, stack: '' },
    ])
    expect(s.errors.reduce((n, g) => n + g.count, 0)).toBe(10_000)
    expect(s.tests.errors).toBe(10_000)

    // The aggregator has its own cap over the whole run.
    const agg = new Aggregator({ maxErrorGroups: 150 })
    agg.add(s)
    for (let i = 0; i < 10_000; i++) {
      rec.recordTest('error', 'T.a', { kind: 'Error', message: `again ${i}`, stack: '' })
    }
    agg.add(rec.snapshot())
    const groups = agg.summary().errors
    expect(groups.length).toBe(152)
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(20_000)
    // 100 + 50 groups kept apart, the rest counted under their kind.
    expect(groups.filter((g) => g.message === OTHER_ERRORS).map((g) => [g.kind, g.count])).toEqual([
      ['Error', 4_950 + 9_950],
      ['TypeError', 4_950],
    ])
  })

  it('keeps at most 50 kinds of overflow, then one (other errors) kind per outcome', () => {
    const groups = new ErrorGroups(2)
    for (let k = 0; k < 60; k++) groups.add('error', `E${k}`, 'm', 'T.a', 1, '')
    expect(groups.list().filter((g) => g.message === OTHER_ERRORS)).toHaveLength(51)
    expect(groups.list().find((g) => g.kind === OTHER_ERRORS)).toMatchObject({ count: 8, message: OTHER_ERRORS })
    expect(groups.size).toBe(53)
  })

  it('folds endpoints past the cap into (other endpoints) so memory stays bounded', () => {
    const rec = new Recorder({ source: 'w', maxEndpoints: 5 })
    for (let i = 0; i < 1000; i++) rec.recordHit('GET', `/items/${i}`, 200, 1000, 500, 0, 0, 0, null)
    const s = rec.snapshot()
    expect(s.endpoints.map((e) => e.name)).toEqual(['/items/0', '/items/1', '/items/2', '/items/3', '/items/4', OTHER_ENDPOINTS])
    expect(s.endpoints[5]?.hits).toBe(995)
  })

  it("keeps a scenario's hits, messages and service times apart per scenario, under one cap for all", () => {
    const rec = new Recorder({ source: 'w', maxEndpoints: 4 })
    rec.recordHit('GET', '/a', 200, 1000, 500, 0, 10, 1, null)
    rec.recordHit('GET', '/a', 200, 1000, 500, 0, 10, 1, null, undefined, 'browse')
    rec.recordHit('GET', '/a', 503, 1000, 500, 0, 10, 1, null, undefined, 'buy')
    rec.recordLateHit('GET', '/a', 200, 1000, 500, 0, 10, 1, null, 250, undefined, 'buy')
    rec.recordWsMessage('/feed', 'in', 7, 'browse')
    rec.recordWsClose('/feed', 1000, 'browse')
    // The cap (4) counts every scenario's endpoints: a fifth folds, in its own scenario.
    rec.recordHit('GET', '/b', 200, 1000, 500, 0, 10, 1, null, undefined, 'buy')
    rec.recordHit('GET', '/c', 200, 1000, 500, 0, 10, 1, null, undefined, 'buy')
    const s = rec.snapshot()
    expect(s.endpoints.map((e) => [e.scenario, e.method, e.name, e.hits, e.httpFailed, e.service !== undefined, e.ws?.messagesIn])).toEqual([
      [undefined, 'GET', '/a', 1, 0, false, undefined],
      ['browse', 'GET', '/a', 1, 0, false, undefined],
      ['buy', 'GET', '/a', 2, 1, true, undefined],
      ['browse', 'WS', '/feed', 0, 0, false, 1],
      ['buy', 'GET', OTHER_ENDPOINTS, 2, 0, false, undefined],
    ])
    // The summary is per (method, name), all scenarios together, as before.
    const a = new Aggregator()
    a.add(s)
    expect(a.summary().endpoints.map((e) => [e.method, e.name, e.hits])).toEqual([['GET', '/a', 4], ['GET', OTHER_ENDPOINTS, 2], ['WS', '/feed', 0]])
  })
})

describe('Aggregator series and live view', () => {
  it('buckets each snapshot into the second its interval ended in', () => {
    const agg = new Aggregator({ startMs: 10_000 })
    let now = 10_000
    const a = new Recorder({ source: 'a', now: () => now })
    const b = new Recorder({ source: 'b', now: () => now })
    a.setActiveUsers(3)
    b.setActiveUsers(4)
    a.recordHit('GET', '/', 200, 1000, 0, 0, 0, 0, null)
    now = 10_900
    agg.add(a.snapshot()) // second 0
    for (let i = 0; i < 99; i++) a.recordHit('GET', '/', 200, 1000, 0, 0, 0, 0, null)
    a.recordTest('failure', 'T.x', { kind: 'AssertionError', message: 'm', stack: '' })
    now = 11_900
    agg.add(a.snapshot()) // second 1
    for (let i = 0; i < 100; i++) b.recordHit('GET', '/', 200, 3000, 0, 0, 0, 0, null)
    b.recordHit('GET', '/', 0, 9000, 0, 0, 0, 0, 'TIMEOUT')
    now = 11_999
    agg.add(b.snapshot()) // second 1 too
    now = 14_000
    agg.add(a.snapshot()) // second 4, nothing in it
    const points = agg.series()
    expect(points.map((p) => p.t)).toEqual([0, 1, 4])
    const p1 = points[1]!
    expect(p1).toMatchObject({ hits: 200, errors: 1, testsRun: 1, failures: 1, testErrors: 0, activeUsers: 7 })
    // 99 hits at 1 ms and 101 at 3 ms or more: the median is 3 ms, from the merged histogram.
    expect(p1.p50).toBeCloseTo(3, 2)
    expect(p1.p99).toBeCloseTo(3, 2)
    expect(points[0]).toMatchObject({ hits: 1, activeUsers: 3, p50: 1 })
    expect(points[2]).toMatchObject({ hits: 0, activeUsers: 3 })
  })

  it('keeps at most maxPoints seconds, dropping the oldest', () => {
    const agg = new Aggregator({ startMs: 0, maxPoints: 20 })
    let now = 0
    const rec = new Recorder({ source: 'a', now: () => now })
    for (let t = 0; t < 200; t++) {
      rec.recordHit('GET', '/', 200, 1000, 0, 0, 0, 0, null)
      now = t * 1000 + 500
      agg.add(rec.snapshot())
    }
    const points = agg.series()
    expect(points).toHaveLength(20)
    expect(points[0]?.t).toBe(180)
    expect(points[19]?.t).toBe(199)
    expect(agg.summary().hits).toBe(200)
  })

  it('reports hits so far, the recent rate, tests and the sum of active users', () => {
    let now = 0
    const agg = new Aggregator({ startMs: 0, now: () => now })
    const a = new Recorder({ source: 'a', now: () => now })
    const b = new Recorder({ source: 'b', now: () => now })
    for (let t = 1; t <= 5; t++) {
      for (let i = 0; i < 100 * t; i++) a.recordHit('GET', '/', 200, 1000, 0, 0, 0, 0, null)
      a.setActiveUsers(t)
      b.setActiveUsers(10)
      b.setStep(1)
      b.recordTest('pass', 'T.x')
      now = t * 1000
      agg.add(a.snapshot())
      agg.add(b.snapshot())
    }
    const live = agg.latest(5000)
    // Last 2 s: the snapshots ending at 4 s and 5 s (400 + 500 hits).
    expect(live).toEqual({
      elapsedMs: 5000, hits: 1500, hitsPerSec: 450, networkErrors: 0,
      tests: { run: 5, failures: 0, errors: 0 }, activeUsers: 15, step: 1, sources: 2, finishedSources: 0,
    })
    expect(agg.sources().find((s) => s.source === 'b')).toMatchObject({ lastSeq: 4, lastSeenMs: 5000, tests: { run: 5 } })
  })

  it('summarises per-second rates over the run duration', () => {
    const agg = new Aggregator({ startMs: 0 })
    let now = 0
    const rec = new Recorder({ source: 'a', now: () => now })
    for (let i = 0; i < 998; i++) rec.recordHit('GET', '/', 200, 2000, 1000, 0, 100, 10, null)
    rec.recordHit('GET', '/', 500, 2000, 1000, 0, 100, 10, null)
    rec.recordHit('GET', '/', 500, 2000, 1000, 0, 100, 10, null)
    rec.recordHit('POST', '/login', 201, 4000, 1000, 2000, 100, 10, null)
    now = 10_000
    agg.add(rec.snapshot(true))
    const s = agg.summary()
    expect(s).toMatchObject({ startMs: 0, endMs: 10_000, durationMs: 10_000, hits: 1001, hitsPerSec: 100.1 })
    expect(s.endpoints[0]).toMatchObject({ method: 'GET', name: '/', hits: 1000, hitsPerSec: 100, statuses: { '200': 998, '500': 2 } })
    expect(s.endpoints[1]).toMatchObject({ method: 'POST', hits: 1, connects: 1, connectMeanMs: 2 })
    expect(s.latency.p50).toBeCloseTo(2, 2)
  })
})
