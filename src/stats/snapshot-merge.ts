/**
 * An agent's side of the stats pipeline: merges its workers' snapshots into one snapshot per
 * interval, under the agent's own source and seq, so the runner merges one snapshot per agent
 * per second however many workers each agent runs. The merge is exact (counters add, histograms
 * add bucket by bucket), so merging the agent's snapshots gives what merging its workers' would.
 * Histograms leave in the compact wire form (histogram-wire.ts).
 */
import { addEncoded, createHistogram, encodeWire, type Histogram } from './histogram.js'
import type { EndpointSnapshot, ErrorGroup, Snapshot } from './types.js'
import { GeneratorMerge } from './generator-merge.js'
import { NamedTotals } from './named-totals.js'
import { addCounts, addEndpointInto, createEndpointTotals, type EndpointTotals } from './endpoint-totals.js'


interface Worker {
  seq: number
  activeUsers: number
  step: number
  final: boolean
  /** The worker's latest gauge of its oldest request in flight, ms (0: none). */
  oldestInFlightMs: number
}

export class SnapshotMerger {
  #seq = 0
  #sentFinal = false
  /** Each worker's latest gauges (by seq), kept across intervals. */
  readonly #workers = new Map<string, Worker>()
  /** Sources that contributed to the pending interval. */
  readonly #pendingSources = new Set<string>()
  /** Accumulators reused across intervals; `#touched` are those of the pending interval. */
  readonly #endpoints = new Map<string, EndpointTotals>()
  readonly #touched = new Set<EndpointTotals>()
  readonly #latency = createHistogram(true)
  #service: Histogram | null = null
  #hasService = false
  #startMs = Number.POSITIVE_INFINITY
  #endMs = 0
  #lastEndMs = 0
  #tests = { run: 0, failures: 0, errors: 0 }
  #errors: ErrorGroup[] = []
  #counters: Record<string, number> = {}
  #dropped: number | undefined
  /** The workers' generator samples of the pending interval (busiest thread, delays added). */
  readonly #generator = new GeneratorMerge()
  #strayBytesDrops: number | undefined
  /** Checks, groups and test methods of the pending interval. */
  readonly #named = new NamedTotals()

  /**
   * @param source the merged snapshots' source (the agent id)
   * @param workers how many sources feed it: once each unfinished one sent a snapshot, the
   *   interval is `ready`; once all sent their final one, `allFinal`.
   */
  constructor(
    readonly source: string,
    private readonly workers: number,
  ) {}

  /** A seq of this source for one more snapshot of the interval just taken (one split to fit the broker). */
  nextSeq(): number {
    return this.#seq++
  }

  /** Snapshots added since the last `take`. */
  get pending(): number {
    return this.#pendingSources.size
  }

  /** Every worker still running has a snapshot in the pending interval. */
  get ready(): boolean {
    if (this.#pendingSources.size === 0) return false
    let covered = 0
    for (const [source, w] of this.#workers) if (w.final || this.#pendingSources.has(source)) covered++
    return covered >= this.workers
  }

  /** Every worker sent its final snapshot. */
  get allFinal(): boolean {
    let finals = 0
    for (const w of this.#workers.values()) if (w.final) finals++
    return finals >= this.workers
  }

  add(snap: Snapshot): void {
    const w = this.#workers.get(snap.source)
    if (w === undefined) {
      this.#workers.set(snap.source, { seq: snap.seq, activeUsers: snap.activeUsers, step: snap.step, final: snap.final, oldestInFlightMs: snap.oldestInFlightMs ?? 0 })
    } else {
      if (snap.seq >= w.seq) {
        w.seq = snap.seq
        w.activeUsers = snap.activeUsers
        w.step = snap.step
        w.oldestInFlightMs = snap.oldestInFlightMs ?? 0
      }
      w.final ||= snap.final
    }
    this.#pendingSources.add(snap.source)
    this.#startMs = Math.min(this.#startMs, snap.startMs)
    this.#endMs = Math.max(this.#endMs, snap.endMs)
    addEncoded(this.#latency, snap.latency)
    if (snap.service !== undefined) {
      this.#hasService = true
      addEncoded((this.#service ??= createHistogram(true)), snap.service)
    }
    if (snap.dropped !== undefined) this.#dropped = (this.#dropped ?? 0) + snap.dropped
    if (snap.generator !== undefined) this.#generator.add(snap.source, snap.generator)
    if (snap.strayBytesDrops !== undefined) this.#strayBytesDrops = (this.#strayBytesDrops ?? 0) + snap.strayBytesDrops
    for (const e of snap.endpoints) this.#addEndpoint(e)
    this.#tests.run += snap.tests.run
    this.#tests.failures += snap.tests.failures
    this.#tests.errors += snap.tests.errors
    for (const g of snap.errors) this.#errors.push(g)
    addCounts(this.#counters, snap.counters)
    if (snap.checks !== undefined || snap.groups !== undefined || snap.methods !== undefined || snap.scenarios !== undefined) this.#named.add(snap, addEncoded)
  }

  /**
   * The merged snapshot of what was added since the last call, or undefined when nothing was.
   * `final` marks the source's last one: it is sent even if empty, and nothing after it.
   */
  take(final = false): Snapshot | undefined {
    if (this.#sentFinal || (this.#pendingSources.size === 0 && !final)) return undefined
    let activeUsers = 0
    let step = 0
    let oldestInFlightMs = 0
    for (const w of this.#workers.values()) {
      if (!w.final) activeUsers += w.activeUsers
      if (!w.final) oldestInFlightMs = Math.max(oldestInFlightMs, w.oldestInFlightMs)
      step = Math.max(step, w.step)
    }
    const empty = this.#pendingSources.size === 0
    const endMs = empty ? this.#lastEndMs : this.#endMs
    const endpoints: EndpointSnapshot[] = []
    for (const t of this.#touched) {
      endpoints.push({
        method: t.method, name: t.name, ...(t.scenario !== undefined ? { scenario: t.scenario } : {}), hits: t.hits, errors: t.errors, httpFailed: t.httpFailed, bytesIn: t.bytesIn, bytesOut: t.bytesOut,
        statuses: t.statuses, errorKinds: t.errorKinds,
        latency: encodeWire(t.latency), ttfb: encodeWire(t.ttfb),
        connects: t.connects, connectUs: t.connectUs,
        ...(t.tlsHandshakes > 0 ? { tlsHandshakes: t.tlsHandshakes, tlsUs: t.tlsUs } : {}),
        ...(t.service !== null ? { service: encodeWire(t.service) } : {}),
        ...(t.ws !== null ? { ws: t.ws } : {}),
      })
      resetEndpoint(t)
    }
    const generator = this.#generator.take()
    const snap: Snapshot = {
      v: 1,
      source: this.source,
      seq: this.#seq++,
      startMs: empty ? endMs : this.#startMs,
      endMs,
      step,
      activeUsers: final ? 0 : activeUsers,
      tests: this.#tests,
      endpoints,
      latency: encodeWire(this.#latency),
      errors: this.#errors,
      counters: this.#counters,
      ...(this.#dropped !== undefined ? { dropped: this.#dropped } : {}),
      ...(this.#strayBytesDrops !== undefined ? { strayBytesDrops: this.#strayBytesDrops } : {}),
      ...(oldestInFlightMs > 0 && !final ? { oldestInFlightMs } : {}),
      ...(this.#hasService ? { service: this.#service !== null ? encodeWire(this.#service) : '' } : {}),
      ...(generator !== undefined ? { generator } : {}),
      ...this.#named.snapshotFields(),
      final,
    }
    this.#named.clear()
    this.#touched.clear()
    this.#pendingSources.clear()
    this.#latency.reset()
    this.#service?.reset()
    this.#hasService = false
    this.#lastEndMs = endMs
    this.#startMs = Number.POSITIVE_INFINITY
    this.#endMs = 0
    this.#tests = { run: 0, failures: 0, errors: 0 }
    this.#errors = []
    this.#counters = {}
    this.#dropped = undefined
    this.#strayBytesDrops = undefined
    if (final) this.#sentFinal = true
    return snap
  }

  #addEndpoint(e: EndpointSnapshot): void {
    // Scenarios stay apart: the runner's metrics outputs label each endpoint with its scenario.
    const key = e.scenario === undefined ? `${e.method} ${e.name}` : `${e.method} ${e.name}\u0000${e.scenario}`
    let t = this.#endpoints.get(key)
    if (t === undefined) {
      t = createEndpointTotals(e.method, e.name, e.scenario)
      this.#endpoints.set(key, t)
    }
    this.#touched.add(t)
    addEndpointInto(t, e, addEncoded)
  }
}

/** Empties an endpoint's sums for the next interval (the histograms keep their grown arrays). */
function resetEndpoint(t: EndpointTotals): void {
  t.hits = t.errors = t.httpFailed = t.bytesIn = t.bytesOut = t.connects = t.connectUs = t.tlsHandshakes = t.tlsUs = 0
  t.statuses = {}
  t.errorKinds = {}
  t.latency.reset()
  t.ttfb.reset()
  // Service and ws exist only for endpoints that carry them: absent again unless re-added.
  t.service = null
  t.ws = null
}
