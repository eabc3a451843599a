import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/stats/aggregator.js'
import { addEncoded, createHistogram, decodeHistogram, encodeHistogram, encodeWire, latencyStats } from '../../src/stats/histogram.js'
import { Recorder } from '../../src/stats/recorder.js'
import { SnapshotMerger } from '../../src/stats/snapshot-merge.js'
import type { Snapshot } from '../../src/stats/types.js'
import { histogramShape, randomHistogram, rng } from '../helpers/histograms.js'


describe('compact wire histograms', () => {
  it('merge exactly as the V2 form does, into wide and 32-bit targets', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const parts = [randomHistogram(seed, 1 + seed * 37, 6 + (seed % 9), true), randomHistogram(seed * 7, 500, 12, true), randomHistogram(seed * 13, 3, 2, true)]
      for (const wide of [true, false]) {
        const compact = createHistogram(wide)
        const v2 = createHistogram(wide)
        for (const p of parts) {
          addEncoded(compact, encodeWire(p))
          addEncoded(v2, encodeHistogram(p))
        }
        expect(histogramShape(compact), `seed ${seed}`).toEqual(histogramShape(v2))
      }
      expect(histogramShape(decodeHistogram(encodeWire(parts[0]!)))).toEqual(histogramShape(decodeHistogram(encodeHistogram(parts[0]!))))
    }
  })

  it('are smaller than V2, and round-trip empty, huge counts and one-hour values', () => {
    const h = randomHistogram(2, 5000, 4, true)
    expect(encodeWire(h).length).toBeLessThan(encodeHistogram(h).length)
    const sparse = randomHistogram(3, 100, 3, true) // a URL name's one second
    expect(encodeWire(sparse).length).toBeLessThan(encodeHistogram(sparse).length * 0.6)
    expect(encodeWire(createHistogram())).toBe('')
    expect(decodeHistogram(encodeWire(createHistogram())).totalCount).toBe(0)
    const big = createHistogram(true)
    big.recordValueWithCount(3_600_000_000, 2 ** 40)
    big.recordValue(1)
    big.recordValue(0)
    const back = decodeHistogram(encodeWire(big), true)
    expect(histogramShape(back)).toEqual(histogramShape(decodeHistogram(encodeHistogram(big), true)))
    expect(back.totalCount).toBe(2 ** 40 + 2)
  })
})

/** Worker snapshots of a few seconds: several endpoints, errors, tests, counters, service times. */
function workerSnapshots(workers: number, seconds: number, open: boolean): Snapshot[][] {
  let now = 1_000_000
  const recs = Array.from({ length: workers }, (_, w) => new Recorder({ source: `agent-1/worker-${w}`, now: () => now }))
  const rand = rng(11)
  const out: Snapshot[][] = []
  for (let sec = 0; sec < seconds; sec++) {
    const round: Snapshot[] = []
    recs.forEach((rec, w) => {
      const hits = 50 + w * 30
      for (let i = 0; i < hits; i++) {
        const e = Math.floor(rand() * 7)
        if (e === 6 && w === 0) continue // an endpoint only some workers hit
        const us = Math.exp(Math.log(500) + rand() * 6)
        const err = rand() < 0.02 ? 'ECONNRESET' : null
        const args = [e % 3 === 0 ? 'POST' : 'GET', `/r/${e}`, err ? 0 : rand() < 0.1 ? 503 : 200, us, err ? 0 : us / 3, i % 10 === 0 ? 200 : 0, 1000, 100, err] as const
        if (open) rec.recordLateHit(...args, us * 0.2)
        else rec.recordHit(...args)
      }
      for (let t = 0; t < 20; t++) rec.recordTest(t % 7 === 0 ? 'failure' : 'pass', 'T.t', { kind: 'AssertionError', message: `bad ${t % 2}`, stack: 'at T.t (t.ts:1:1)' })
      rec.incrCounter('orders', w + 1)
      round.push(rec.snapshot(sec === seconds - 1))
    })
    now += 1000
    out.push(round)
  }
  return out
}

function everything(a: Aggregator): unknown {
  const s = a.summary()
  return { summary: s, series: a.series(), histograms: a.encodedHistograms().endpoints.length, latency: latencyStats(decodeHistogram(a.encodedHistograms().latency, true)) }
}

describe('an agent merging its workers’ snapshots', () => {
  for (const open of [false, true]) {
    it(`gives the runner exactly what the workers' snapshots gave${open ? ' (open model)' : ''}`, () => {
      const rounds = workerSnapshots(3, 5, open)
      const direct = new Aggregator({ startMs: 1_000_000, now: () => 0 })
      const viaAgent = new Aggregator({ startMs: 1_000_000, now: () => 0 })
      const merger = new SnapshotMerger('agent-1', 3)
      const sent: Snapshot[] = []
      for (const round of rounds) {
        for (const s of round) {
          direct.add(s)
          merger.add(s)
          if (merger.allFinal) sent.push(merger.take(true)!)
          else if (merger.ready) sent.push(merger.take()!)
        }
      }
      expect(merger.take(true)).toBeUndefined() // the final one went already
      expect(sent.map((s) => [s.source, s.seq, s.final])).toEqual([0, 1, 2, 3, 4].map((i) => ['agent-1', i, i === 4]))
      for (const s of sent) expect(viaAgent.add(JSON.parse(JSON.stringify(s)) as Snapshot)).toBe(true)
      expect(viaAgent.add(JSON.parse(JSON.stringify(sent[2])) as Snapshot)).toBe(false) // a redelivery
      const a = direct.summary()
      const b = viaAgent.summary()
      expect(b).toEqual(a)
      // The same counts (the V2 header's highest trackable value may differ: arrays grow apart).
      const decoded = (a: Aggregator): unknown => {
        const h = a.encodedHistograms()
        const d = (e: string | undefined): unknown => (e === undefined ? undefined : histogramShape(decodeHistogram(e, true)))
        return [d(h.latency), d(h.service), h.endpoints.map((e) => [e.method, e.name, d(e.latency), d(e.ttfb), d(e.service)])]
      }
      expect(decoded(viaAgent)).toEqual(decoded(direct))
      expect(viaAgent.series()).toEqual(direct.series())
      expect(viaAgent.sources()).toEqual([expect.objectContaining({ source: 'agent-1', hits: a.hits, final: true, lastSeq: 4 })])
    })
  }

  it('sums the workers’ latest user gauges and sends an empty final when nothing is left', () => {
    const merger = new SnapshotMerger('a', 2)
    const base = workerSnapshots(1, 1, false)[0]![0]!
    merger.add({ ...base, source: 'a/worker-0', seq: 0, activeUsers: 3, final: false })
    expect(merger.ready).toBe(false)
    merger.add({ ...base, source: 'a/worker-1', seq: 0, activeUsers: 4, final: false })
    expect(merger.ready).toBe(true)
    const first = merger.take()!
    expect(first.activeUsers).toBe(7)
    expect(first.endpoints.reduce((n, e) => n + e.hits, 0)).toBe(2 * base.endpoints.reduce((n, e) => n + e.hits, 0))
    merger.add({ ...base, source: 'a/worker-0', seq: 1, activeUsers: 2, final: false })
    expect(merger.take()!.activeUsers).toBe(6) // worker-1's gauge still counts
    expect(merger.take()).toBeUndefined()
    const last = merger.take(true)!
    expect(last).toMatchObject({ seq: 2, final: true, endpoints: [], latency: '', activeUsers: 0 })
    expect(merger.take(true)).toBeUndefined()
  })
})
