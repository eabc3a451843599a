/**
 * HDR histograms as the stats layer uses them: microseconds, 3 significant digits, clamped to
 * one hour, encoded as compressed base64 on the wire. Every histogram in the pipeline is built
 * here, so all of them share one bucket layout and merge exactly.
 */
import { createRequire } from 'node:module'
import type { Histogram, JsHistogram } from 'hdr-histogram-js'
// The two classes we build, not the package's index: the index also loads its WebAssembly build,
// pako and the log reader and writer (94 files, 40–120 ms at every process start), none of which
// runs here.
import { addCompactBytes, addCompactInto, addRawInto, encodeCompact, encodeRaw } from './histogram-wire.js'
import type { LatencyStats, WireHistogram } from './types.js'

export type { Histogram }

// Loaded with require(): the package is CommonJS with `exports.default`, which Node's ESM loader
// and Vitest's interop unwrap differently.
const require = createRequire(import.meta.url)
type HistogramClass = new (lowest: number, highest: number, digits: number) => JsHistogram
const Int32Histogram = (require('hdr-histogram-js/dist/Int32Histogram.js') as { default: HistogramClass }).default
const Float64Histogram = (require('hdr-histogram-js/dist/Float64Histogram.js') as { default: HistogramClass }).default

/** The largest latency we keep apart from the others: one hour, in µs. Longer ones are clamped. */
export const MAX_TRACKABLE_US = 3_600_000_000

/**
 * A histogram for µs values. `wide` counters (float64, exact to 2^53) are for merged totals
 * that can exceed 2^32 in one bucket over a long run; a recorder's one-second delta uses 32 bits.
 * They start small and grow to the largest value seen (at most ~95 kB / ~190 kB each).
 */
export function createHistogram(wide = false): Histogram {
  // What hdr-histogram-js's build() makes of { bitBucketSize: 64 or 32, autoResize: true,
  // useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: 2,
  // numberOfSignificantValueDigits: 3 }.
  const h = wide ? new Float64Histogram(1, 2, 3) : new Int32Histogram(1, 2, 3)
  h.autoResize = true
  return h
}

/** Rounds to a whole µs in [0, MAX_TRACKABLE_US]; NaN and negatives become 0. */
export function clampUs(us: number): number {
  if (!(us > 0)) return 0
  return us >= MAX_TRACKABLE_US ? MAX_TRACKABLE_US : Math.round(us)
}

/** HdrHistogram V2, uncompressed, base64: see histogram-wire.ts for why not compressed. */
export function encodeHistogram(h: Histogram): string {
  return encodeRaw(h as JsHistogram)
}

/** The compact form agents send snapshots in (see histogram-wire.ts); '' when empty. */
export function encodeWire(h: Histogram): string {
  return encodeCompact(h as JsHistogram)
}

/**
 * Decodes a histogram from the wire; an empty string is an empty histogram. `wide` for merged
 * totals (see `createHistogram`); a snapshot's one-second deltas fit 32-bit counters.
 */
export function decodeHistogram(encoded: WireHistogram, wide = false): Histogram {
  const h = createHistogram(wide)
  if (typeof encoded !== 'string') {
    addBytes(h, encoded)
    return h
  }
  if (encoded === '') return h
  if (addCompactInto(h as JsHistogram, encoded) || addRawInto(h as JsHistogram, encoded)) return h
  // The package's own compressed base64 (an older wire format): the full package, loaded once.
  const { decodeFromCompressedBase64 } = require('hdr-histogram-js') as typeof import('hdr-histogram-js')
  return decodeFromCompressedBase64(encoded, wide ? 64 : 32, false)
}

/** Adds an encoded histogram's counts to `target`. */
export function addEncoded(target: Histogram, encoded: WireHistogram): void {
  if (typeof encoded !== 'string') return addBytes(target, encoded)
  if (encoded === '' || addCompactInto(target as JsHistogram, encoded) || addRawInto(target as JsHistogram, encoded)) return
  const h = decodeHistogram(encoded)
  if (h.totalCount > 0) target.add(h)
}

function addBytes(target: Histogram, bytes: Uint8Array): void {
  if (!addCompactBytes(target as JsHistogram, bytes, 0, bytes.length)) throw new Error('not a compact histogram')
}

const usToMs = (us: number): number => us / 1000

/** Figures in ms from a µs histogram; all zero when it is empty. */
export function latencyStats(h: Histogram): LatencyStats {
  const count = h.totalCount
  if (count === 0) {
    return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 }
  }
  const [min, p50, p90, p95, p99, p999, mean] = percentilesAndMean(h, STATS_PERCENTILES)
  return {
    count,
    min: usToMs(min!),
    mean: usToMs(mean!),
    p50: usToMs(p50!),
    p90: usToMs(p90!),
    p95: usToMs(p95!),
    p99: usToMs(p99!),
    p999: usToMs(p999!),
    max: usToMs(h.maxValue),
  }
}

const STATS_PERCENTILES = [0, 50, 90, 95, 99, 99.9]

/**
 * `h.getValueAtPercentile(p)` for each of `percentiles` (ascending), then `h.mean`: the very
 * same values, in one pass over the counts instead of one pass per figure (hdr-histogram-js
 * walks the counts from the start for each percentile, and its mean goes through an iterator
 * object per bucket). A dashboard reads a summary every second: 100 URL names' histograms
 * took ~70 ms through the library, ~2 ms here. Only for the layout `createHistogram` builds.
 */
export function percentilesAndMean(h: Histogram, percentiles: readonly number[]): number[] {
  const out = new Array<number>(percentiles.length + 1).fill(0)
  const total = h.totalCount
  if (total === 0) return out
  // The count each percentile needs, computed as hdr-histogram-js does (rounding included).
  const needed = percentiles.map((p) => {
    const fp = (Math.min(p, 100) / 100) * total
    return Math.max(Math.ceil(fp - ulp(fp)), 1)
  })
  let seen = 0
  let sum = 0
  let k = 0
  forEachBucket(h, (lowest, highest, c) => {
    seen += c
    // The mean counts each value at the median of its bucket [lowest, highest].
    sum += (lowest + Math.floor((highest - lowest + 1) / 2)) * c
    while (k < needed.length && seen >= needed[k]!) {
      out[k] = percentiles[k] === 0 ? lowest : highest
      k++
    }
  })
  out[percentiles.length] = sum / total
  return out
}

/**
 * Calls `fn(lowestUs, highestUs, count)` for every bucket of `h` with a count, lowest first
 * (`h` built by `createHistogram` or `decodeHistogram`). The metrics outputs turn HDR buckets
 * into Prometheus/OTLP buckets with it: an HDR bucket is 0.1% wide at most, far finer than theirs.
 */
export function forEachBucket(h: Histogram, fn: (lowestUs: number, highestUs: number, count: number) => void): void {
  const total = h.totalCount
  if (total === 0) return
  const j = h as JsHistogram
  const raw = (j as unknown as { _counts?: unknown })._counts
  const counts = raw instanceof Float64Array || raw instanceof Uint32Array ? raw : null
  const length = j.countsArrayLength
  // From the lowest bucket with a count: latencies of milliseconds leave the first ~2000 empty.
  const zeros = counts !== null ? counts[0]! : j.getCountAtIndex(0)
  const first = zeros > 0 || j.minNonZeroValue > Number.MAX_SAFE_INTEGER - 1 ? 0 : j.countsArrayIndex(j.minNonZeroValue)
  let seen = 0
  for (let i = first; i < length && seen < total; i++) {
    const c = counts !== null ? counts[i]! : j.getCountAtIndex(i)
    if (c === 0) continue
    seen += c
    // Bucket i holds [lowest, lowest + size - 1].
    const size = i < UNIT_RANGE ? 1 : 2 ** ((i >> HALF_COUNT_MAGNITUDE) - 1)
    const lowest = valueFromIndex(i)
    fn(lowest, lowest + size - 1, c)
  }
}

/** The gap between `x` and the next double, as hdr-histogram-js computes it. */
function ulp(x: number): number {
  return Math.pow(2, Math.floor(Math.log2(x)) - 52)
}

/** Sub-buckets per power of two in the layout above (3 significant digits, unit 1 µs): 2^10. */
const HALF_COUNT_MAGNITUDE = 10
const HALF_COUNT = 1 << HALF_COUNT_MAGNITUDE
/** Values below this have a bucket of their own (bucket 0: 0…2047 µs in steps of 1). */
const UNIT_RANGE = HALF_COUNT << 1

/**
 * The counts of one HDR histogram (the layout `createHistogram` builds), kept apart so recording
 * is an index computation and one increment: hdr-histogram-js's `recordValue` spends most of its
 * ~300 ns in `Math.log2`/`Math.pow` to find the index, plus min/max and total bookkeeping. The
 * recorder counts here on every hit and moves the counts into a real histogram once per snapshot
 * (`drainInto`), where they land in the very same buckets: percentiles, min and max are exact.
 */
export class BucketCounts {
  #counts = new Uint32Array(UNIT_RANGE)
  /** Highest index with a count, or -1 when empty. */
  #maxIndex = -1
  #min = Infinity
  #max = 0
  #total = 0

  get totalCount(): number {
    return this.#total
  }

  /** Records `us` (rounded, clamped to [0, MAX_TRACKABLE_US] like `clampUs`). O(1). */
  record(us: number): void {
    const v = us > 0 ? (us >= MAX_TRACKABLE_US ? MAX_TRACKABLE_US : Math.round(us)) : 0
    let index: number
    if (v < UNIT_RANGE) {
      index = v
    } else {
      // floor(log2(v)) − 10 is the bucket; v fits 32 bits (MAX_TRACKABLE_US < 2^32).
      const bucket = 31 - Math.clz32(v) - HALF_COUNT_MAGNITUDE
      index = (bucket << HALF_COUNT_MAGNITUDE) + (v >>> bucket)
    }
    if (index >= this.#counts.length) this.#grow(index)
    this.#counts[index]!++
    if (index > this.#maxIndex) this.#maxIndex = index
    if (v < this.#min) this.#min = v
    if (v > this.#max) this.#max = v
    this.#total++
  }

  /** Adds every count to `target` (same layout: same buckets), then empties itself. */
  drainInto(target: Histogram): void {
    if (this.#total === 0) return
    const counts = this.#counts
    const last = this.#maxIndex
    const min = this.#min
    const max = this.#max
    const minIndex = indexOf(min)
    for (let i = 0; i <= last; i++) {
      const n = counts[i]!
      if (n === 0) continue
      counts[i] = 0
      // A bucket's lowest value stands for its values, except in the buckets of the extremes,
      // which get the true min and max (the same buckets): min and max come out exact too.
      if (i === minIndex && i === last && n > 1) {
        target.recordValueWithCount(min, n - 1)
        target.recordValue(max)
      } else {
        target.recordValueWithCount(i === minIndex ? min : i === last ? max : valueFromIndex(i), n)
      }
    }
    this.#maxIndex = -1
    this.#min = Infinity
    this.#max = 0
    this.#total = 0
  }

  #grow(index: number): void {
    let length = this.#counts.length
    while (length <= index) length += HALF_COUNT * 4
    const counts = new Uint32Array(length)
    counts.set(this.#counts)
    this.#counts = counts
  }
}

function indexOf(v: number): number {
  if (v < UNIT_RANGE) return v
  const bucket = 31 - Math.clz32(v) - HALF_COUNT_MAGNITUDE
  return (bucket << HALF_COUNT_MAGNITUDE) + (v >>> bucket)
}

/** The lowest value that lands in counts index `i`. */
function valueFromIndex(i: number): number {
  let bucket = (i >> HALF_COUNT_MAGNITUDE) - 1
  let sub = (i & (HALF_COUNT - 1)) + HALF_COUNT
  if (bucket < 0) {
    sub -= HALF_COUNT
    bucket = 0
  }
  return sub * 2 ** bucket
}
