import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { describe, expect, it } from 'vitest'
import { addEncoded, createHistogram, decodeHistogram, encodeHistogram } from '../../src/stats/histogram.js'
import { histogramShape, randomHistogram } from '../helpers/histograms.js'

describe('histograms on the wire', () => {
  it('merging the uncompressed encoding gives exactly what decoding the compressed one and add() gave', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const parts = [randomHistogram(seed, 1 + seed * 37, 6 + (seed % 9)), randomHistogram(seed * 7, 500, 12), randomHistogram(seed * 13, 3, 2)]
      const fast = createHistogram(true)
      const slow = createHistogram(true)
      for (const p of parts) {
        addEncoded(fast, encodeHistogram(p))
        slow.add(decodeFromCompressedBase64(encodeIntoCompressedBase64(p), 32, false))
      }
      expect(histogramShape(fast), `seed ${seed}`).toEqual(histogramShape(slow))
    }
  })

  it('still reads compressed histograms (saved results, HdrHistogram tools)', () => {
    const h = randomHistogram(5, 1000, 10)
    const compressed = encodeIntoCompressedBase64(h)
    expect(histogramShape(decodeHistogram(compressed))).toEqual(histogramShape(decodeFromCompressedBase64(compressed, 32, false)))
    const target = createHistogram(true)
    addEncoded(target, encodeIntoCompressedBase64(h))
    expect(histogramShape(target)).toEqual(histogramShape(decodeHistogram(encodeHistogram(h), true)))
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
