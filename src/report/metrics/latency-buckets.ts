/**
 * A latency distribution as the metrics backends take it, folded from HDR deltas: classic
 * Prometheus buckets (fixed upper bounds) and native/exponential buckets (schema 3: each bucket
 * 2^(1/8) ≈ 9% wider than the one before). An HDR bucket (0.1% wide) lands whole in the bucket
 * that holds its middle value, so the counts are exact and the bounds off by at most 0.1%.
 */
import { addEncoded, createHistogram, forEachBucket, type Histogram } from '../../stats/histogram.js'
import type { WireHistogram } from '../../stats/types.js'

/** Upper bounds of the classic buckets, seconds: Prometheus's defaults with 1 and 2.5 ms added. */
export const CLASSIC_BOUNDS_S: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Native histogram schema: 2^3 = 8 buckets per power of two (the resolution k6 and client_golang default to). */
export const NATIVE_SCHEMA = 3

export class LatencyBuckets {
  /** Every observation so far (µs, wide counters): deltas are added here as they come. */
  readonly #hdr: Histogram = createHistogram(true)
  readonly #pending: WireHistogram[] = []
  #dirty = false
  #count = 0
  #sumS = 0
  #minS = 0
  #maxS = 0
  #classic = new Array<number>(CLASSIC_BOUNDS_S.length + 1).fill(0)
  #native = new Map<number, number>()
  #zeroCount = 0

  /**
   * Adds a one-second HDR delta (µs, as a snapshot carries it). Only the HDR counts change here;
   * the buckets are derived when next read (once a second), not once per snapshot: a cluster's
   * runner gets one snapshot per agent a second.
   */
  addEncoded(delta: WireHistogram): void {
    // Added in a batch when read (or every 64): one target's counts stay in the CPU cache while
    // a second's deltas land (as the aggregator's DeferredAdds do).
    this.#pending.push(delta)
    if (this.#pending.length >= 64) this.#drain()
    this.#dirty = true
  }

  #drain(): void {
    for (const d of this.#pending) addEncoded(this.#hdr, d)
    this.#pending.length = 0
  }

  /** Adds an HDR histogram's counts (µs). */
  add(delta: Histogram): void {
    this.#hdr.add(delta)
    this.#dirty = true
  }

  /** Observations, and their sum in seconds. */
  get count(): number {
    return this.#refresh().#count
  }

  get sumS(): number {
    return this.#refresh().#sumS
  }

  /** Smallest and largest observation, seconds (0 while empty). */
  get minS(): number {
    return this.#refresh().#minS
  }

  get maxS(): number {
    return this.#refresh().#maxS
  }

  /** Per classic bound, then one for +Inf: counts per bucket (not cumulative). */
  get classic(): readonly number[] {
    return this.#refresh().#classic
  }

  /** Native bucket index → count: index i holds (2^((i-1)/8), 2^(i/8)] seconds. */
  get native(): ReadonlyMap<number, number> {
    return this.#refresh().#native
  }

  /** Observations of 0 µs (the native zero bucket). */
  get zeroCount(): number {
    return this.#refresh().#zeroCount
  }

  #refresh(): this {
    if (!this.#dirty) return this
    this.#dirty = false
    this.#drain()
    this.#count = 0
    this.#sumS = 0
    this.#zeroCount = 0
    this.#classic = new Array<number>(CLASSIC_BOUNDS_S.length + 1).fill(0)
    this.#native = new Map()
    let b = 0
    forEachBucket(this.#hdr, (lowestUs, highestUs, n) => {
      const midS = (lowestUs + highestUs) / 2 / 1e6
      if (this.#count === 0) this.#minS = lowestUs / 1e6
      this.#maxS = highestUs / 1e6
      this.#count += n
      this.#sumS += midS * n
      // Buckets come lowest first: the classic bucket only moves up.
      while (b < CLASSIC_BOUNDS_S.length && highestUs / 1e6 > CLASSIC_BOUNDS_S[b]!) b++
      this.#classic[b]! += n
      if (highestUs === 0) this.#zeroCount += n
      else {
        const i = nativeIndex(midS)
        this.#native.set(i, (this.#native.get(i) ?? 0) + n)
      }
    })
    return this
  }

  /** Classic buckets as Prometheus exposes them: cumulative counts per `le`, +Inf last. */
  cumulative(): { le: string; count: number }[] {
    let running = 0
    return this.classic.map((c, i) => {
      running += c
      return { le: i < CLASSIC_BOUNDS_S.length ? String(CLASSIC_BOUNDS_S[i]) : '+Inf', count: running }
    })
  }

  /** Native buckets as spans and deltas (the remote-write encoding), lowest index first. */
  spans(): { spans: { offset: number; length: number }[]; deltas: number[] } {
    const indexes = [...this.native.keys()].sort((a, b) => a - b)
    const spans: { offset: number; length: number }[] = []
    const deltas: number[] = []
    let prevIndex = 0
    let prevCount = 0
    for (const [k, i] of indexes.entries()) {
      const count = this.native.get(i)!
      const last = spans.at(-1)
      if (last !== undefined && i === prevIndex + 1) last.length++
      else spans.push({ offset: k === 0 ? i : i - prevIndex - 1, length: 1 })
      deltas.push(count - prevCount)
      prevIndex = i
      prevCount = count
    }
    return { spans, deltas }
  }
}

/** The native bucket holding `s` seconds (s > 0): the smallest i with s ≤ 2^(i/8). */
export function nativeIndex(s: number): number {
  const i = Math.ceil(Math.log2(s) * 2 ** NATIVE_SCHEMA)
  // log2 rounding at exact powers: keep s inside (2^((i-1)/8), 2^(i/8)].
  if (2 ** ((i - 1) / 2 ** NATIVE_SCHEMA) >= s) return i - 1
  return i
}
