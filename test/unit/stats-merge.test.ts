import { describe, it, expect } from 'vitest'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { decodeHistogram, latencyStats } from '../../src/stats/histogram.js'
import type { Snapshot } from '../../src/stats/types.js'
import { rng } from '../helpers/rng.js'

interface Hit {
  method: string
  name: string
  status: number
  us: number
  err: string | null
}

function makeHits(n: number, random: () => number): Hit[] {
  const names = ['/', '/items', '/items/{id}', '/login']
  const hits: Hit[] = []
  for (let i = 0; i < n; i++) {
    // Log-uniform between 100 µs and 10 s: exercises many HDR buckets.
    const us = Math.round(100 * Math.pow(10, 5 * random()))
    const name = names[Math.floor(random() * names.length)] ?? '/'
    const r = random()
    const err = r < 0.01 ? 'ECONNREFUSED' : null
    const status = err !== null ? 0 : r < 0.05 ? 500 : 200
    hits.push({ method: name === '/login' ? 'POST' : 'GET', name, status, us, err })
  }
  return hits
}

function record(rec: Recorder, h: Hit): void {
  rec.recordHit(h.method, h.name, h.status, h.us, h.err === null ? h.us / 2 : 0, 0, 100, 10, h.err)
}

/** The value HDR reports at a percentile, computed from a sorted array (rank = ceil(p·N)). */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1] ?? NaN
}

describe('Aggregator merge', () => {
  const random = rng(42)
  const hits = makeHits(10_000, random)
  let clock = 1_000_000

  // 4 workers, each snapshotting at random moments: the deltas land in ~5 snapshots each.
  const workers = [0, 1, 2, 3].map((i) => new Recorder({ source: `worker-${i}`, now: () => clock }))
  const snaps: Snapshot[] = []
  hits.forEach((h, i) => {
    const w = workers[Math.floor(random() * workers.length)]!
    record(w, h)
    clock++
    if (random() < 0.0005) snaps.push(w.snapshot())
    if (i % 37 === 0) w.recordTest(i % 74 === 0 ? 'failure' : 'pass', 'T.test_a', { kind: 'AssertionError', message: 'boom', stack: 'AssertionError: boom\n  at t.js:1' })
  })
  for (const w of workers) snaps.push(w.snapshot(true))

  const single = new Recorder({ source: 'all', now: () => clock })
  for (const h of hits) record(single, h)
  const one = new Aggregator()
  one.add(single.snapshot(true))

  it('gives percentiles identical to one recorder that saw every hit', () => {
    const merged = new Aggregator()
    for (const s of snaps) expect(merged.add(s)).toBe(true)
    const a = merged.summary()
    const b = one.summary()
    expect(a.latency).toEqual(b.latency)
    expect(a.hits).toBe(10_000)
    for (const e of b.endpoints) {
      const m = a.endpoints.find((x) => x.method === e.method && x.name === e.name)
      expect(m?.latency).toEqual(e.latency)
      expect(m?.ttfb).toEqual(e.ttfb)
      expect(m?.statuses).toEqual(e.statuses)
      expect(m?.errorKinds).toEqual(e.errorKinds)
    }
  })

  it('matches a sorted-array computation within 3 significant digits', () => {
    const merged = new Aggregator()
    for (const s of snaps) merged.add(s)
    const l = merged.summary().latency
    const sorted = hits.map((h) => h.us).sort((x, y) => x - y)
    const checks: [number, number][] = [[50, l.p50], [90, l.p90], [95, l.p95], [99, l.p99], [99.9, l.p999]]
    for (const [p, ms] of checks) {
      const exact = exactPercentile(sorted, p)
      expect(Math.abs(ms * 1000 - exact)).toBeLessThanOrEqual(exact * 0.001 + 1)
    }
    expect(Math.abs(l.max * 1000 - sorted[sorted.length - 1]!)).toBeLessThanOrEqual(sorted[sorted.length - 1]! * 0.001)
    expect(Math.abs(l.min * 1000 - sorted[0]!)).toBeLessThanOrEqual(sorted[0]! * 0.001)
    const mean = sorted.reduce((x, y) => x + y, 0) / sorted.length
    expect(Math.abs(l.mean * 1000 - mean)).toBeLessThanOrEqual(mean * 0.001)
  })

  it('is independent of the order snapshots arrive in', () => {
    const forward = new Aggregator({ startMs: 1_000_000 })
    const backward = new Aggregator({ startMs: 1_000_000 })
    for (const s of snaps) forward.add(s)
    for (const s of [...snaps].reverse()) backward.add(s)
    expect(backward.summary(clock)).toEqual(forward.summary(clock))
    // The encodings may differ in header (range grown in another order), not in content.
    const decode = (a: Aggregator): string =>
      decodeHistogram(a.encodedHistograms().latency, true).outputPercentileDistribution()
    expect(decode(backward)).toBe(decode(forward))
  })

  it('counts hits, statuses, bytes and network errors exactly', () => {
    const merged = new Aggregator()
    for (const s of snaps) merged.add(s)
    const s = merged.summary()
    const errs = hits.filter((h) => h.err !== null).length
    const s500 = hits.filter((h) => h.status === 500).length
    expect(s.networkErrors).toBe(errs)
    expect(s.bytesIn).toBe(1_000_000)
    expect(s.bytesOut).toBe(100_000)
    const statuses = s.endpoints.reduce((n, e) => n + (e.statuses['500'] ?? 0), 0)
    expect(statuses).toBe(s500)
    // Network failures are counted under their kind, never under a status.
    expect(s.endpoints.some((e) => '0' in e.statuses)).toBe(false)
    expect(s.endpoints.reduce((n, e) => n + (e.errorKinds['ECONNREFUSED'] ?? 0), 0)).toBe(errs)
    expect(s.endpoints.map((e) => e.hits)).toEqual([...s.endpoints.map((e) => e.hits)].sort((x, y) => y - x))
    expect(s.tests).toEqual({ run: 271, failures: 136, errors: 0 })
    expect(s.errors).toEqual([{ outcome: 'failure', kind: 'AssertionError', message: 'boom', test: 'T.test_a', count: 136, stack: 'AssertionError: boom\n  at t.js:1' }])
    expect(merged.sources().map((x) => [x.source, x.final]).sort()).toEqual(
      [0, 1, 2, 3].map((i) => [`worker-${i}`, true]).sort(),
    )
    expect(merged.sources().reduce((n, x) => n + x.hits, 0)).toBe(10_000)
  })

  it('exports histograms that re-merge into the same figures', () => {
    const merged = new Aggregator()
    for (const s of snaps) merged.add(s)
    const enc = merged.encodedHistograms()
    expect(latencyStats(decodeHistogram(enc.latency, true))).toEqual(merged.summary().latency)
    expect(enc.endpoints).toHaveLength(4)
  })
})

describe('Aggregator duplicates', () => {
  it('drops a snapshot whose source and seq it has already merged', () => {
    let now = 0
    const rec = new Recorder({ source: 'w', now: () => now })
    rec.recordHit('GET', '/', 200, 1000, 500, 0, 1, 1, null)
    now = 1000
    const s0 = rec.snapshot()
    rec.recordHit('GET', '/', 200, 1000, 500, 0, 1, 1, null)
    now = 2000
    const s1 = rec.snapshot()
    const agg = new Aggregator()
    expect(agg.add(s1)).toBe(true)
    expect(agg.add(s1)).toBe(false)
    expect(agg.add(s0)).toBe(true)
    expect(agg.add(s0)).toBe(false)
    expect(agg.add(structuredClone(s1))).toBe(false)
    // The same seq from another source is not a duplicate.
    expect(agg.add({ ...s0, source: 'other' })).toBe(true)
    expect(agg.summary().hits).toBe(3)
  })
})
