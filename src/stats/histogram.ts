/**
 * HDR histograms as the stats layer uses them: microseconds, 3 significant digits, clamped to
 * one hour, encoded as compressed base64 on the wire. Every histogram in the pipeline is built
 * here, so all of them share one bucket layout and merge exactly.
 */
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js'
import type { LatencyStats } from './types.js'

export type { Histogram }

/** The largest latency we keep apart from the others: one hour, in µs. Longer ones are clamped. */
export const MAX_TRACKABLE_US = 3_600_000_000

/**
 * A histogram for µs values. `wide` counters (float64, exact to 2^53) are for merged totals
 * that can exceed 2^32 in one bucket over a long run; a recorder's one-second delta uses 32 bits.
 * They start small and grow to the largest value seen (at most ~95 kB / ~190 kB each).
 */
export function createHistogram(wide = false): Histogram {
  return build({
    bitBucketSize: wide ? 64 : 32,
    autoResize: true,
    useWebAssembly: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
  })
}

/** Rounds to a whole µs in [0, MAX_TRACKABLE_US]; NaN and negatives become 0. */
export function clampUs(us: number): number {
  if (!(us > 0)) return 0
  return us >= MAX_TRACKABLE_US ? MAX_TRACKABLE_US : Math.round(us)
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h)
}

/**
 * Decodes a histogram from the wire; an empty string is an empty histogram. `wide` for merged
 * totals (see `createHistogram`); a snapshot's one-second deltas fit 32-bit counters.
 */
export function decodeHistogram(encoded: string, wide = false): Histogram {
  if (encoded === '') return createHistogram(wide)
  return decodeFromCompressedBase64(encoded, wide ? 64 : 32, false)
}

/** Adds an encoded histogram's counts to `target`. */
export function addEncoded(target: Histogram, encoded: string): void {
  const h = decodeHistogram(encoded)
  if (h.totalCount > 0) target.add(h)
}

const usToMs = (us: number): number => us / 1000

/** Figures in ms from a µs histogram; all zero when it is empty. */
export function latencyStats(h: Histogram): LatencyStats {
  const count = h.totalCount
  if (count === 0) {
    return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 }
  }
  // minNonZeroValue is MAX_SAFE_INTEGER when only zeros were recorded.
  const min = h.getValueAtPercentile(0)
  return {
    count,
    min: usToMs(min),
    mean: usToMs(h.mean),
    p50: usToMs(h.getValueAtPercentile(50)),
    p90: usToMs(h.getValueAtPercentile(90)),
    p95: usToMs(h.getValueAtPercentile(95)),
    p99: usToMs(h.getValueAtPercentile(99)),
    p999: usToMs(h.getValueAtPercentile(99.9)),
    max: usToMs(h.maxValue),
  }
}
