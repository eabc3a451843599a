/**
 * The per-second series of a run: every snapshot is folded into the second its interval ended
 * in. Counters are exact. Percentiles come from the merged histogram of that second, which is
 * kept while the second is recent (snapshots of different sources arrive a little apart) and
 * then frozen, so memory stays bounded on runs of any length.
 */
import { addEncoded, createHistogram, percentilesAndMean, type Histogram } from './histogram.js'
import type { SeriesPoint, Snapshot, WireHistogram } from './types.js'

interface OpenSecond {
  point: SeriesPoint
  latency: Histogram
  /** Encoded latencies of this second not added to `latency` yet: added together when read. */
  pending: WireHistogram[]
  /** Each source's latest gauge within this second. */
  users: Map<string, { endMs: number; users: number }>
  dirty: boolean
}

const SERIES_PERCENTILES = [50, 95, 99]

export interface SeriesOptions {
  /** Points kept; the oldest go first. Default: 24 h of seconds. */
  maxPoints?: number
  /** Seconds behind the newest one whose histograms stay open for late snapshots. */
  openSeconds?: number
}

export class Series {
  readonly #maxPoints: number
  readonly #openSeconds: number
  /** Sorted by t. */
  readonly #points: SeriesPoint[] = []
  readonly #open = new Map<number, OpenSecond>()
  readonly #pool: Histogram[] = []
  #newest = -1

  constructor(opts: SeriesOptions = {}) {
    this.#maxPoints = opts.maxPoints ?? 24 * 3600
    this.#openSeconds = opts.openSeconds ?? 10
  }

  /**
   * Folds a snapshot into second `t`: its global latency (encoded) and the totals of its
   * endpoints, which the caller adds up as it merges them.
   */
  add(t: number, snap: Snapshot, latency: WireHistogram, totals: { hits: number; errors: number; httpErrors: number }): void {
    if (t < 0) t = 0
    const oldest = this.#points[0]
    if (this.#points.length >= this.#maxPoints && oldest !== undefined && t < oldest.t) return
    const { hits, errors, httpErrors } = totals
    const open = this.#open.get(t)
    const point = open?.point ?? this.#find(t) ?? this.#insert(t)
    point.hits += hits
    point.errors += errors
    point.testsRun += snap.tests.run
    point.failures += snap.tests.failures
    point.testErrors += snap.tests.errors
    point.httpErrors += httpErrors
    point.step = Math.max(point.step, snap.step)
    if (open !== undefined) {
      if (latency !== '') open.pending.push(latency)
      const prev = open.users.get(snap.source)
      if (prev === undefined || prev.endMs <= snap.endMs) {
        open.users.set(snap.source, { endMs: snap.endMs, users: snap.activeUsers })
      }
      open.dirty = true
    } else if (t > this.#newest - this.#openSeconds) {
      const h = this.#pool.pop() ?? createHistogram(true)
      const users = new Map([[snap.source, { endMs: snap.endMs, users: snap.activeUsers }]])
      this.#open.set(t, { point, latency: h, pending: latency === '' ? [] : [latency], users, dirty: true })
    }
    // A late snapshot for a frozen second adds to its counts, not to its percentiles.
    if (t > this.#newest) {
      this.#newest = t
      this.#closeBefore(t - this.#openSeconds)
    }
  }

  /** The points so far, oldest first (copies). */
  points(): SeriesPoint[] {
    for (const open of this.#open.values()) this.#refresh(open)
    return this.#points.map((p) => ({ ...p }))
  }

  #refresh(open: OpenSecond): void {
    if (!open.dirty) return
    const h = open.latency
    // The second's snapshots one after the other into one histogram: it stays in the CPU cache.
    for (const encoded of open.pending) addEncoded(h, encoded)
    open.pending = []
    const p = open.point
    if (h.totalCount > 0) {
      const [p50, p95, p99] = percentilesAndMean(h, SERIES_PERCENTILES)
      p.p50 = p50! / 1000
      p.p95 = p95! / 1000
      p.p99 = p99! / 1000
    }
    let users = 0
    for (const u of open.users.values()) users += u.users
    p.activeUsers = users
    open.dirty = false
  }

  #closeBefore(t: number): void {
    for (const [k, open] of this.#open) {
      if (k >= t) continue
      this.#refresh(open)
      open.latency.reset()
      this.#pool.push(open.latency)
      this.#open.delete(k)
    }
  }

  #find(t: number): SeriesPoint | undefined {
    const i = this.#indexOf(t)
    const p = this.#points[i]
    return p !== undefined && p.t === t ? p : undefined
  }

  #insert(t: number): SeriesPoint {
    const point: SeriesPoint = {
      t, hits: 0, errors: 0, testsRun: 0, failures: 0, testErrors: 0, httpErrors: 0,
      activeUsers: 0, step: 0, p50: null, p95: null, p99: null,
    }
    this.#points.splice(this.#indexOf(t), 0, point)
    if (this.#points.length > this.#maxPoints) {
      const dropped = this.#points.shift()
      if (dropped !== undefined) this.#open.delete(dropped.t)
    }
    return point
  }

  /** First index whose t is >= `t` (binary search; appends hit the fast path). */
  #indexOf(t: number): number {
    const pts = this.#points
    const last = pts[pts.length - 1]
    if (last === undefined || last.t < t) return pts.length
    let lo = 0
    let hi = pts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((pts[mid]?.t ?? Infinity) < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
