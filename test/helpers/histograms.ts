import type { JsHistogram } from 'hdr-histogram-js'
import { createHistogram, latencyStats, type Histogram } from '../../src/stats/histogram.js'

/** A small seeded generator (LCG): the same numbers on every run. */
export function rng(seed: number): () => number {
  let s = seed
  return () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
}

/**
 * `n` log-spread latencies from 50 µs (`spread`: how many e-folds up), plus two zeros when
 * `seed % 3 === 0`; with `heavy`, also one bucket with a huge count when `seed % 4 === 0`.
 */
export function randomHistogram(seed: number, n: number, spread: number, heavy = false): Histogram {
  const h = createHistogram()
  const rand = rng(seed)
  for (let i = 0; i < n; i++) h.recordValue(Math.round(Math.exp(Math.log(50) + rand() * spread)))
  if (seed % 3 === 0) h.recordValueWithCount(0, 2)
  if (heavy && seed % 4 === 0) h.recordValueWithCount(700, 300 + seed * 1000)
  return h
}

/** Every count, and the figures derived from min, max and total: equal shapes, equal histograms. */
export function histogramShape(h: Histogram): unknown {
  const j = h as JsHistogram
  const counts: [number, number][] = []
  for (let i = 0; i < j.countsArrayLength; i++) if (j.getCountAtIndex(i) !== 0) counts.push([i, j.getCountAtIndex(i)])
  return { counts, total: h.totalCount, min: h.minNonZeroValue, max: h.maxValue, stats: latencyStats(h) }
}
