import { describe, expect, it } from 'vitest'
import { createHistogram, latencyStats, percentilesAndMean, type Histogram } from '../../src/stats/histogram.js'
import { rng } from '../helpers/histograms.js'


const PERCENTILES = [0, 0.1, 1, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100]

/** What hdr-histogram-js itself answers, one call per figure. */
function library(h: Histogram): number[] {
  return [...PERCENTILES.map((p) => h.getValueAtPercentile(p)), h.mean]
}

describe('percentilesAndMean: the library’s figures in one pass', () => {
  const cases: [string, (h: Histogram, r: () => number) => void][] = [
    ['one value', (h) => h.recordValue(50_000)],
    ['only zeros', (h) => h.recordValueWithCount(0, 7)],
    ['zeros and values', (h, r) => { h.recordValueWithCount(0, 3); for (let i = 0; i < 500; i++) h.recordValue(Math.floor(r() * 5000)) }],
    ['small exact values (bucket 0)', (h, r) => { for (let i = 0; i < 1000; i++) h.recordValue(Math.floor(r() * 2047)) }],
    ['log-spread latencies', (h, r) => { for (let i = 0; i < 5000; i++) h.recordValue(Math.floor(Math.exp(Math.log(200) + r() * 12))) }],
    ['up to an hour', (h, r) => { for (let i = 0; i < 2000; i++) h.recordValue(Math.floor(r() * 3_600_000_000)) }],
    ['huge counts', (h, r) => { for (let i = 0; i < 50; i++) h.recordValueWithCount(Math.floor(r() * 1e6), 2 ** 40 + i) }],
    ['odd total, two values', (h) => { h.recordValueWithCount(1000, 3); h.recordValueWithCount(90_000, 2) }],
  ]
  for (const wide of [false, true]) {
    // 32-bit counters cannot hold 2^40.
    for (const [name, fill] of cases.filter(([name]) => wide || name !== 'huge counts')) {
      it(`${name} (${wide ? '64' : '32'}-bit counts)`, () => {
        const h = createHistogram(wide)
        fill(h, rng(name.length * 7 + (wide ? 1 : 0)))
        expect(percentilesAndMean(h, PERCENTILES)).toEqual(library(h))
      })
    }
  }

  it('latencyStats gives the library’s min, percentiles and mean, in ms', () => {
    const h = createHistogram(true)
    const r = rng(3)
    for (let i = 0; i < 3000; i++) h.recordValue(Math.floor(Math.exp(Math.log(1000) + r() * 6)))
    const s = latencyStats(h)
    expect(s).toEqual({
      count: 3000,
      min: h.getValueAtPercentile(0) / 1000,
      mean: h.mean / 1000,
      p50: h.getValueAtPercentile(50) / 1000,
      p90: h.getValueAtPercentile(90) / 1000,
      p95: h.getValueAtPercentile(95) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      p999: h.getValueAtPercentile(99.9) / 1000,
      max: h.maxValue / 1000,
    })
    expect(s.p50).toBeGreaterThan(1)
  })

  it('an empty histogram is all zeros', () => {
    expect(percentilesAndMean(createHistogram(), [50, 99])).toEqual([0, 0, 0])
    expect(latencyStats(createHistogram()).p99).toBe(0)
  })
})
