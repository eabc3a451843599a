import { describe, expect, it } from 'vitest'
import { decodeSnapshotMessage, encodeSnapshotMessage } from '../../src/cluster/snapshot-codec.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { createHistogram, percentilesAndMean } from '../../src/stats/histogram.js'
import { MIN_KEPT } from '../../src/stats/name-series.js'
import { Recorder } from '../../src/stats/recorder.js'
import { SnapshotMerger } from '../../src/stats/snapshot-merge.js'
import type { Snapshot } from '../../src/stats/types.js'

const START = 1_700_000_000_000

/** p50, p95, p99 (ms) of these latencies (µs) as one histogram: what a merged second must give. */
function expected(us: number[]): number[] {
  const h = createHistogram(true)
  for (const v of us) h.recordValue(v)
  return percentilesAndMean(h, [50, 95, 99]).slice(0, 3).map((v) => Math.round(v!) / 1000)
}

/** Two workers' snapshots over 4 seconds: /a in every second, /b in seconds 0 and 2 only. */
function workerSnapshots(): { snaps: Snapshot[][]; a: number[][]; b: number[][] } {
  let now = START
  const recs = [0, 1].map((w) => new Recorder({ source: `worker-${w}`, now: () => now }))
  const snaps: Snapshot[][] = []
  const a: number[][] = []
  const b: number[][] = []
  for (let s = 0; s < 4; s++) {
    a.push([])
    b.push([])
    for (let i = 0; i < 50; i++) {
      const w = i % 2
      // Worker 1 is slower: the merged percentiles are neither worker's.
      const us = 1000 + i * 37 + w * 20_000 + s * 500
      recs[w]!.recordHit('GET', '/a', 200, us, us / 2, 0, 0, 0, null)
      a[s]!.push(us)
      if (s % 2 === 0 && i < 10) {
        recs[w]!.recordHit('POST', '/b', 201, us * 3, us, 0, 0, 0, null)
        b[s]!.push(us * 3)
      }
    }
    now += 1000
    snaps.push(recs.map((r) => r.snapshot(s === 3)))
  }
  return { snaps, a, b }
}

describe("each URL name's latency per second", () => {
  it('merges every source of a second exactly, and leaves a second without hits of the name out (a gap)', () => {
    const { snaps, a, b } = workerSnapshots()
    const agg = new Aggregator({ startMs: START })
    for (const second of snaps) for (const s of second) agg.add(s)
    const sa = agg.nameSeriesOf('GET', '/a')!
    expect(sa.t).toEqual([1, 2, 3, 4])
    expect(sa.t.map((_, i) => [sa.p50[i], sa.p95[i], sa.p99[i]])).toEqual(a.map(expected))
    const sb = agg.nameSeriesOf('POST', '/b')!
    expect(sb.t).toEqual([1, 3])
    expect([0, 1].map((i) => [sb.p50[i], sb.p95[i], sb.p99[i]])).toEqual([expected(b[0]!), expected(b[2]!)])
    expect(agg.nameSeriesOf('GET', '/nope')).toBeUndefined()
    // The same in the list a saved result carries, by name.
    expect(agg.nameSeries().map((n) => `${n.method} ${n.name}`)).toEqual(['GET /a', 'POST /b'])
    expect(agg.nameSeries()[0]).toEqual(sa)
    // And the run-wide series' seconds are the same axis.
    expect(agg.series().map((p) => p.t)).toEqual([1, 2, 3, 4])
  })

  it('a cluster run: agents merge their workers, the runner merges agents from the binary messages — the same numbers', () => {
    const { snaps } = workerSnapshots()
    const local = new Aggregator({ startMs: START })
    for (const second of snaps) for (const s of second) local.add(s)
    // Each worker as its own agent (one worker each), snapshots through the wire codec.
    const agents = [0, 1].map((w) => new SnapshotMerger(`agent-${w}`, 1))
    const runner = new Aggregator({ startMs: START })
    for (const [s, second] of snaps.entries()) {
      for (const [w, snap] of second.entries()) {
        agents[w]!.add(snap)
        const merged = agents[w]!.take(s === 3)!
        const wire = decodeSnapshotMessage(encodeSnapshotMessage({ type: 'run.snapshot', runId: 'r', agentId: `agent-${w}`, snapshot: merged }))!
        runner.add(wire.snapshot)
      }
    }
    expect(runner.nameSeries()).toEqual(local.nameSeries())
  })

  it('stays bounded with many names: each keeps its newest seconds, all of them together at most the budget', () => {
    let now = START
    const rec = new Recorder({ source: 'w', now: () => now, maxEndpoints: 5000 })
    const names = 150
    const agg = new Aggregator({ startMs: START, maxNamePoints: 3_000 })
    for (let s = 0; s < 100; s++) {
      for (let n = 0; n < names; n++) rec.recordHit('GET', `/n${n}`, 200, 1000 + n, 500, 0, 0, 0, null)
      now += 1000
      agg.add(rec.snapshot())
    }
    const all = agg.nameSeries()
    expect(all).toHaveLength(names)
    const kept = all.map((n) => n.t.length)
    // 3,000 / 150 names = 20 each, raised to MIN_KEPT; plus the 3 seconds still open. Past its
    // share a name drops its oldest half at once.
    expect(Math.max(...kept)).toBeLessThanOrEqual(MIN_KEPT + 3)
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(MIN_KEPT / 2 + 3)
    // The newest seconds are the ones kept.
    expect(all[0]!.t.at(-1)).toBe(100)
    expect(all[0]!.t.slice(-3)).toEqual([98, 99, 100])
    expect(all[0]!.p99.at(-1)).toBe(1)
  })

  it('a snapshot later than the open seconds adds to the totals, not to a closed second of the name', () => {
    let now = START
    const rec = new Recorder({ source: 'w', now: () => now })
    const late = new Recorder({ source: 'late', now: () => START + 1000 })
    const agg = new Aggregator({ startMs: START })
    for (let s = 0; s < 6; s++) {
      rec.recordHit('GET', '/a', 200, 2000, 1000, 0, 0, 0, null)
      now += 1000
      agg.add(rec.snapshot())
    }
    late.recordHit('GET', '/a', 200, 900_000, 1000, 0, 0, 0, null)
    agg.add(late.snapshot())
    const a = agg.nameSeriesOf('GET', '/a')!
    expect(a.p99[0]).toBe(2)
    expect(agg.summary().endpoints[0]!.hits).toBe(7)
  })
})
