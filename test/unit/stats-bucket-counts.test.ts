import { describe, expect, it } from 'vitest'
import { BucketCounts, clampUs, createHistogram, encodeHistogram, latencyStats, MAX_TRACKABLE_US } from '../../src/stats/histogram.js'

/** A fixed pseudo-random sequence, so a failure is reproducible. */
function values(n: number, seed = 7): number[] {
  let s = seed
  const rand = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(Math.exp(rand() * Math.log(MAX_TRACKABLE_US)) - 1 + rand())
  return out
}

function viaCounts(xs: number[]) {
  const counts = new BucketCounts()
  for (const x of xs) counts.record(x)
  const h = createHistogram()
  counts.drainInto(h)
  return { h, counts }
}

function direct(xs: number[]) {
  const h = createHistogram()
  for (const x of xs) h.recordValue(clampUs(x))
  return h
}

describe('BucketCounts', () => {
  it('drains into exactly the histogram that recording each value would build', () => {
    const xs = [...values(20_000), 0, -5, NaN, 1, 2047, 2048, 2049, 4095, 4096, 123_456.6, MAX_TRACKABLE_US, MAX_TRACKABLE_US * 3]
    const { h } = viaCounts(xs)
    const expected = direct(xs)
    expect(h.totalCount).toBe(xs.length)
    expect(encodeHistogram(h)).toBe(encodeHistogram(expected))
    expect(latencyStats(h)).toEqual(latencyStats(expected))
    expect(h.maxValue).toBe(MAX_TRACKABLE_US)
  })

  it('keeps the exact min and max when they share a bucket with other values', () => {
    // 5000 and 5001 share a bucket (2 µs wide at this range), as do 9000 and 9001.
    const xs = [5001, 5000, 5001, 7000, 9000, 9001, 9000]
    const { h } = viaCounts(xs)
    const expected = direct(xs)
    expect(h.minNonZeroValue).toBe(expected.minNonZeroValue)
    expect(h.maxValue).toBe(expected.maxValue)
    expect(latencyStats(h)).toEqual(latencyStats(expected))
  })

  it('is empty after a drain, and a second drain adds only what came after', () => {
    const { h, counts } = viaCounts([100, 200])
    expect(counts.totalCount).toBe(0)
    counts.record(300)
    counts.drainInto(h)
    counts.drainInto(h)
    expect(h.totalCount).toBe(3)
    expect(h.maxValue).toBe(300)
  })
})
