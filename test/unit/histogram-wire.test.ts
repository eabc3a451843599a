import { decodeFromCompressedBase64, encodeIntoCompressedBase64, type JsHistogram } from 'hdr-histogram-js'
import { describe, expect, it } from 'vitest'
import { addEncoded, createHistogram, decodeHistogram, encodeHistogram, latencyStats, type Histogram } from '../../src/stats/histogram.js'

function random(seed: number, n: number, spread: number): Histogram {
  const h = createHistogram()
  let s = seed
  const rand = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  for (let i = 0; i < n; i++) h.recordValue(Math.round(Math.exp(Math.log(50) + rand() * spread)))
  if (seed % 3 === 0) h.recordValueWithCount(0, 2)
  return h
}

/** Every count, and the figures derived from min, max and total. */
function shape(h: Histogram): unknown {
  const j = h as JsHistogram
  const counts: [number, number][] = []
  for (let i = 0; i < j.countsArrayLength; i++) if (j.getCountAtIndex(i) !== 0) counts.push([i, j.getCountAtIndex(i)])
  return { counts, total: h.totalCount, min: h.minNonZeroValue, max: h.maxValue, stats: latencyStats(h) }
}

describe('histograms on the wire', () => {
  it('merging the uncompressed encoding gives exactly what decoding the compressed one and add() gave', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const parts = [random(seed, 1 + seed * 37, 6 + (seed % 9)), random(seed * 7, 500, 12), random(seed * 13, 3, 2)]
      const fast = createHistogram(true)
      const slow = createHistogram(true)
      for (const p of parts) {
        addEncoded(fast, encodeHistogram(p))
        slow.add(decodeFromCompressedBase64(encodeIntoCompressedBase64(p), 32, false))
      }
      expect(shape(fast), `seed ${seed}`).toEqual(shape(slow))
    }
  })

  it('still reads compressed histograms (saved results, HdrHistogram tools)', () => {
    const h = random(5, 1000, 10)
    const compressed = encodeIntoCompressedBase64(h)
    expect(shape(decodeHistogram(compressed))).toEqual(shape(decodeFromCompressedBase64(compressed, 32, false)))
    const target = createHistogram(true)
    addEncoded(target, encodeIntoCompressedBase64(h))
    expect(shape(target)).toEqual(shape(decodeHistogram(encodeHistogram(h), true)))
  })

  it('round-trips empty, huge and one-hour values', () => {
    expect(decodeHistogram(encodeHistogram(createHistogram())).totalCount).toBe(0)
    const h = createHistogram(true)
    h.recordValueWithCount(3_600_000_000, 2 ** 40)
    h.recordValue(1)
    const back = decodeHistogram(encodeHistogram(h), true)
    expect(back.totalCount).toBe(2 ** 40 + 1)
    expect(back.maxValue).toBe(h.highestEquivalentValue(h.maxValue))
    expect(back.getValueAtPercentile(50)).toBe(h.getValueAtPercentile(50))
  })
})
