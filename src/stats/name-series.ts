/**
 * Latency per second of each (method, name): what the page's latency chart draws when a URL
 * name is picked. Each second's percentiles come from the merged histogram of every source's
 * share of that endpoint (exact across workers and agents, as the run-wide series is), computed
 * when the second closes; only the three numbers are kept, in typed arrays, so memory does not
 * grow with hits — and it is bounded with many names: all names together keep at most
 * `maxPoints` seconds, each name its newest `maxPoints ÷ names` (never fewer than MIN_KEPT).
 * A second in which a name had no completed hit has no point (a gap, not 0 ms).
 */
import { addEncoded, createHistogram, percentilesAndMean, type Histogram } from './histogram.js'
import type { EndpointSnapshot, NameSeries, WireHistogram } from './types.js'

/** Seconds kept per name however many names there are. */
export const MIN_KEPT = 60

/** All names' points together, by default (16 bytes each: 3.2 MB). */
export const DEFAULT_NAME_POINTS = 200_000

const PERCENTILES = [50, 95, 99]

class Track {
  /** Seconds not closed yet, oldest first: each source's encoded latencies of that second. */
  readonly open: { t: number; wires: WireHistogram[] }[] = []
  len = 0
  t = new Int32Array(64)
  p50 = new Float32Array(64)
  p95 = new Float32Array(64)
  p99 = new Float32Array(64)
  constructor(
    readonly method: string,
    readonly name: string,
  ) {}

  push(t: number, p50: number, p95: number, p99: number, cap: number): void {
    if (this.len >= cap) {
      // Drop the oldest half at once: amortised O(1) per point.
      const keep = Math.floor(cap / 2)
      const from = this.len - keep
      for (const a of [this.t, this.p50, this.p95, this.p99]) a.copyWithin(0, from, this.len)
      this.len = keep
    }
    if (this.len === this.t.length) {
      const size = Math.min(Math.max(64, this.len * 2), Math.max(cap, 64))
      this.t = grow(this.t, size)
      this.p50 = grow(this.p50, size)
      this.p95 = grow(this.p95, size)
      this.p99 = grow(this.p99, size)
    }
    const i = this.len++
    this.t[i] = t
    this.p50[i] = p50
    this.p95[i] = p95
    this.p99[i] = p99
  }
}

function grow<T extends Int32Array | Float32Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size)
  b.set(a.subarray(0, Math.min(a.length, size)))
  return b
}

export interface NameSeriesOptions {
  /** Points kept over all names (see the file's comment). */
  maxNamePoints?: number
  /** Seconds behind the newest whose histograms stay open for late snapshots (default 3). */
  nameOpenSeconds?: number
}

export class NameSeriesStore {
  readonly #maxPoints: number
  readonly #openSeconds: number
  /** By method, then name: no key string built per endpoint per snapshot. */
  readonly #tracks = new Map<string, Map<string, Track>>()
  #trackCount = 0
  /** Tracks with seconds still open. */
  readonly #opened = new Set<Track>()
  readonly #scratch: Histogram = createHistogram()
  #newest = -1

  constructor(opts: NameSeriesOptions = {}) {
    this.#maxPoints = opts.maxNamePoints ?? DEFAULT_NAME_POINTS
    this.#openSeconds = opts.nameOpenSeconds ?? 3
  }

  /** Folds a snapshot's endpoints into second `t` (the run-wide series' second). */
  add(t: number, endpoints: readonly EndpointSnapshot[]): void {
    if (t < 0) t = 0
    // A second already closed keeps its percentiles (its hits are in the totals).
    if (t <= this.#newest - this.#openSeconds) return
    for (const e of endpoints) {
      if (e.latency === '' || e.hits === 0) continue
      const track = this.#track(e.method, e.name)
      const open = track.open
      let second = open.length > 0 && open[open.length - 1]!.t === t ? open[open.length - 1] : open.find((o) => o.t === t)
      if (second === undefined) {
        second = { t, wires: [] }
        open.push(second)
        if (open.length > 1 && open[open.length - 2]!.t > t) open.sort((x, y) => x.t - y.t)
        this.#opened.add(track)
      }
      second.wires.push(e.latency)
    }
    if (t > this.#newest) {
      this.#newest = t
      this.#closeBefore(t - this.#openSeconds + 1)
    }
  }

  /** Every name's series, by name; open seconds included (not consumed). */
  all(): NameSeries[] {
    const out: NameSeries[] = []
    for (const byName of this.#tracks.values()) for (const track of byName.values()) {
      const s = this.#series(track)
      if (s !== undefined) out.push(s)
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.method.localeCompare(b.method))
  }

  /** One name's series (open seconds included), or undefined when it has none. */
  of(method: string, name: string): NameSeries | undefined {
    const track = this.#tracks.get(method)?.get(name)
    return track === undefined ? undefined : this.#series(track)
  }

  #track(method: string, name: string): Track {
    let byName = this.#tracks.get(method)
    if (byName === undefined) this.#tracks.set(method, (byName = new Map()))
    let track = byName.get(name)
    if (track === undefined) {
      byName.set(name, (track = new Track(method, name)))
      this.#trackCount++
    }
    return track
  }

  #series(track: Track): NameSeries | undefined {
    const s: NameSeries = { method: track.method, name: track.name, t: [], p50: [], p95: [], p99: [] }
    for (let i = 0; i < track.len; i++) {
      s.t.push(track.t[i]!)
      s.p50.push(ms(track.p50[i]!))
      s.p95.push(ms(track.p95[i]!))
      s.p99.push(ms(track.p99[i]!))
    }
    for (const second of track.open) {
      const [p50, p95, p99] = this.#percentiles(second.wires)
      s.t.push(second.t)
      s.p50.push(ms(p50!))
      s.p95.push(ms(p95!))
      s.p99.push(ms(p99!))
    }
    return s.t.length > 0 ? s : undefined
  }

  /** Closes every track's seconds before `t`, oldest first, into its points. */
  #closeBefore(t: number): void {
    const cap = Math.max(MIN_KEPT, Math.floor(this.#maxPoints / Math.max(1, this.#trackCount)))
    for (const track of this.#opened) {
      const open = track.open
      let n = 0
      while (n < open.length && open[n]!.t < t) {
        const second = open[n]!
        const [p50, p95, p99] = this.#percentiles(second.wires)
        track.push(second.t, p50!, p95!, p99!, cap)
        n++
      }
      if (n > 0) open.splice(0, n)
      if (open.length === 0) this.#opened.delete(track)
    }
  }

  /** p50, p95, p99 in µs of the merged histograms (0 when empty: callers only pass non-empty ones). */
  #percentiles(wires: readonly WireHistogram[]): number[] {
    const h = this.#scratch
    h.reset()
    for (const w of wires) addEncoded(h, w)
    if (h.totalCount === 0) return [0, 0, 0]
    return percentilesAndMean(h, PERCENTILES)
  }
}

/** µs (float32) → ms with µs precision. */
function ms(us: number): number {
  return Math.round(us) / 1000
}
