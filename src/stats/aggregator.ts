/**
 * The runner's side of the stats pipeline: merges every snapshot of every source. The merge is
 * exact (counters add, HDR histograms add), so the order snapshots arrive in does not matter
 * and the percentiles are those of one big run, never an average of percentiles.
 */
import { addEndpointInto, createEndpointTotals, type EndpointTotals } from './endpoint-totals.js'
import { ErrorGroups } from './error-groups.js'
import {
  createHistogram,
  encodeHistogram,
  addEncoded,
  latencyStats,
  type Histogram,
} from './histogram.js'
import { GeneratorHealth } from './generator-health.js'
import type { GeneratorSeries, GeneratorWarning } from './generator-types.js'
import { NamedTotals } from './named-totals.js'
import { Series, type SeriesOptions } from './series.js'
import { NameSeriesStore, type NameSeriesOptions } from './name-series.js'
import type {
  EncodedHistograms,
  EndpointSummary,
  LiveView,
  NameSeries,
  RunSummary,
  SeriesPoint,
  Snapshot,
  SourceTotals,
  Undelivered,
  Unfinished,
  WireHistogram,
} from './types.js'

export interface AggregatorOptions extends SeriesOptions, NameSeriesOptions {
  /** When the run started (ms since epoch); defaults to the first snapshot's `startMs`. */
  startMs?: number
  /** Clock, ms since epoch: for `lastSeenMs`, `latest()` and an unfinished `summary()`. */
  now?: () => number
  /** Distinct error groups kept over the run. */
  maxErrorGroups?: number
  /** Window of `latest().hitsPerSec`. */
  rateWindowMs?: number
}

export type { EndpointTotals } from './endpoint-totals.js'

interface SourceState extends SourceTotals {
  /** Every seq below this one was received; `above` holds those received past a gap. */
  nextSeq: number
  above: Set<number>
  /** The source's latest gauge of its oldest request in flight, ms (0: none). */
  oldestInFlightMs: number
}

/** Out-of-order seqs remembered per source; past this, gaps are taken as lost for good. */
const MAX_SEQ_GAP = 1024

/**
 * Encoded histograms waiting to be added (characters or bytes): past this, they are added at
 * once. Bounds what is held (one-byte strings: ~1 byte a character) between two reads.
 */
const DEFERRED_LIMIT_CHARS = 8_000_000

/**
 * Encoded histograms waiting to be added to their targets, grouped by target. Adding a second's
 * worth of snapshots target by target keeps each target's counts in the CPU cache while its
 * deltas land; adding each snapshot as it comes touches every endpoint's histograms (megabytes
 * for a cluster's 50 URL names) once per snapshot, and the cache misses cost more than the
 * adding (bench/cluster-merge.mjs, 100 agents × 50 names, runs alternated: 16.4% of a core
 * added as they came, 11.9–12.6% grouped). Whoever reads a target's histogram calls `flush()`
 * first; nothing is read from a histogram anywhere else.
 */
class DeferredAdds {
  readonly #pending = new Map<Histogram, WireHistogram[]>()
  #chars = 0

  add(target: Histogram, encoded: WireHistogram): void {
    if (encoded === '') return
    const list = this.#pending.get(target)
    if (list === undefined) this.#pending.set(target, [encoded])
    else list.push(encoded)
    this.#chars += encoded.length
    if (this.#chars > DEFERRED_LIMIT_CHARS) this.flush()
  }

  /** Adds everything waiting; every histogram is then up to date. */
  flush(): void {
    if (this.#chars === 0) return
    for (const [target, list] of this.#pending) {
      for (const encoded of list) addEncoded(target, encoded)
    }
    this.#pending.clear()
    this.#chars = 0
  }
}

export class Aggregator {
  readonly #now: () => number
  readonly #rateWindowMs: number
  #startMs: number | undefined
  #endMs = 0
  readonly #endpoints = new Map<string, EndpointTotals>()
  readonly #latency = createHistogram(true)
  readonly #errors: ErrorGroups
  readonly #counters = new Map<string, number>()
  /** Checks, groups and test methods. */
  readonly #named = new NamedTotals()
  readonly #sources = new Map<string, SourceState>()
  readonly #series: Series
  /** Each name's latency per second (the page's latency chart, a name picked). */
  readonly #nameSeries: NameSeriesStore
  /** Histogram deltas not added yet (see DeferredAdds): flushed before any histogram is read. */
  readonly #deferred = new DeferredAdds()
  readonly #addHistogram = (target: Histogram, encoded: WireHistogram): void => this.#deferred.add(target, encoded)
  readonly #tests = { run: 0, failures: 0, errors: 0 }
  #hits = 0
  #networkErrors = 0
  #httpFailed = 0
  #bytesIn = 0
  #bytesOut = 0
  #dropped = 0
  #strayBytesDrops = 0
  /** Open model only: the raw service times beside the corrected latency. */
  #service: Histogram | null = null
  /** Each source's health as a generator (utilisation, event-loop delay), kept per source. */
  readonly #generator = new GeneratorHealth()
  /** Recent (endMs, hits) pairs for the live rate. */
  #recent: { endMs: number; hits: number }[] = []

  constructor(opts: AggregatorOptions = {}) {
    this.#startMs = opts.startMs
    this.#now = opts.now ?? Date.now
    this.#rateWindowMs = opts.rateWindowMs ?? 2000
    this.#errors = new ErrorGroups(opts.maxErrorGroups ?? 1000)
    this.#series = new Series(opts)
    this.#nameSeries = new NameSeriesStore(opts)
  }

  /** Distinct (method, name) endpoints so far: reports warn when there are many (report/many-names.ts). */
  get endpointCount(): number {
    return this.#endpoints.size
  }

  get startMs(): number | undefined {
    return this.#startMs
  }

  /** Merges a snapshot. Returns false, changing nothing, for a duplicate (source + seq seen). */
  add(snap: Snapshot): boolean {
    const src = this.#source(snap.source)
    if (!acceptSeq(src, snap.seq)) return false
    this.#startMs ??= snap.startMs
    this.#endMs = Math.max(this.#endMs, snap.endMs)

    // Merged straight from the wire (no histogram built per snapshot: see histogram-wire.ts),
    // target by target when next read (DeferredAdds).
    this.#addHistogram(this.#latency, snap.latency)
    if (snap.service !== undefined) this.#addHistogram((this.#service ??= createHistogram(true)), snap.service)
    this.#dropped += snap.dropped ?? 0
    this.#strayBytesDrops += snap.strayBytesDrops ?? 0
    let hits = 0
    let networkErrors = 0
    let httpErrors = 0
    for (const e of snap.endpoints) {
      httpErrors += addEndpointInto(this.#endpoint(e.method, e.name), e, this.#addHistogram)
      hits += e.hits
      networkErrors += e.errors
      this.#bytesIn += e.bytesIn
      this.#bytesOut += e.bytesOut
    }
    this.#hits += hits
    this.#networkErrors += networkErrors
    this.#httpFailed += httpErrors
    addTests(this.#tests, snap.tests)
    for (const g of snap.errors) this.#errors.addGroup(g)
    for (const [k, n] of Object.entries(snap.counters)) {
      this.#counters.set(k, (this.#counters.get(k) ?? 0) + n)
    }
    if (snap.checks !== undefined || snap.groups !== undefined || snap.methods !== undefined || snap.scenarios !== undefined) this.#named.add(snap, this.#addHistogram)

    src.hits += hits
    src.networkErrors += networkErrors
    addTests(src.tests, snap.tests)
    src.lastSeenMs = this.#now()
    if (snap.seq >= src.lastSeq) {
      src.lastSeq = snap.seq
      src.activeUsers = snap.activeUsers
      src.step = snap.step
      src.oldestInFlightMs = snap.oldestInFlightMs ?? 0
    }
    src.final ||= snap.final

    const second = Math.floor((snap.endMs - this.#startMs) / 1000)
    this.#series.add(second, snap, snap.latency, { hits, errors: networkErrors, httpErrors })
    this.#nameSeries.add(second, snap.endpoints)
    if (snap.generator !== undefined) {
      this.#generator.add(snap.source, snap.seq, snap.generator, { startMs: snap.startMs, endMs: snap.endMs, runStartMs: this.#startMs, final: snap.final })
    }
    this.#recent.push({ endMs: snap.endMs, hits })
    if (this.#recent.length > 4096) this.#pruneRecent(this.#endMs)
    return true
  }

  /** The live view for a progress bar. `now` defaults to the aggregator's clock. */
  latest(now = this.#now()): LiveView {
    const start = this.#startMs ?? now
    const elapsedMs = Math.max(0, now - start)
    this.#pruneRecent(now)
    let recentHits = 0
    for (const r of this.#recent) if (r.endMs > now - this.#rateWindowMs) recentHits += r.hits
    const windowMs = Math.min(this.#rateWindowMs, elapsedMs)
    let activeUsers = 0
    let step = 0
    let finishedSources = 0
    let oldestInFlightMs = 0
    for (const s of this.#sources.values()) {
      if (!s.final) oldestInFlightMs = Math.max(oldestInFlightMs, s.oldestInFlightMs)
      activeUsers += s.final ? 0 : s.activeUsers
      step = Math.max(step, s.step)
      if (s.final) finishedSources++
    }
    return {
      elapsedMs,
      hits: this.#hits,
      hitsPerSec: windowMs > 0 ? (recentHits * 1000) / windowMs : 0,
      networkErrors: this.#networkErrors,
      tests: { ...this.#tests },
      activeUsers,
      step,
      sources: this.#sources.size,
      finishedSources,
      ...(this.#dropped > 0 ? { dropped: this.#dropped } : {}),
      ...(oldestInFlightMs > 0 ? { oldestInFlightMs } : {}),
    }
  }

  /**
   * The run so far. `endMs` defaults to the end of the newest snapshot: pass the clock's time
   * for an interrupted run if the last second matters.
   */
  summary(endMs?: number): RunSummary {
    this.#deferred.flush()
    const startMs = this.#startMs ?? endMs ?? this.#now()
    const end = Math.max(startMs, endMs ?? this.#endMs)
    const durationMs = end - startMs
    const perSec = (n: number): number => (durationMs > 0 ? (n * 1000) / durationMs : 0)
    const endpoints: EndpointSummary[] = [...this.#endpoints.values()]
      .map((e) => ({
        method: e.method,
        name: e.name,
        hits: e.hits,
        errors: e.errors,
        httpFailed: e.httpFailed,
        failed: e.errors + e.httpFailed,
        hitsPerSec: perSec(e.hits),
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        statuses: { ...e.statuses },
        errorKinds: { ...e.errorKinds },
        latency: latencyStats(e.latency),
        ttfb: latencyStats(e.ttfb),
        connects: e.connects,
        connectMeanMs: e.connects > 0 ? e.connectUs / e.connects / 1000 : 0,
        ...(e.tlsHandshakes > 0 ? { tlsHandshakes: e.tlsHandshakes, tlsMeanMs: e.tlsUs / e.tlsHandshakes / 1000 } : {}),
        ...(e.service !== null ? { service: latencyStats(e.service) } : {}),
        ...(e.ws !== null ? { ws: { ...e.ws, closeCodes: { ...e.ws.closeCodes } } } : {}),
      }))
      .sort((a, b) => b.hits - a.hits || a.name.localeCompare(b.name) || a.method.localeCompare(b.method))
    const generator = this.#generator.summary()
    return {
      startMs,
      endMs: end,
      durationMs,
      tests: { ...this.#tests },
      hits: this.#hits,
      networkErrors: this.#networkErrors,
      httpFailed: this.#httpFailed,
      failed: this.#networkErrors + this.#httpFailed,
      hitsPerSec: perSec(this.#hits),
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      latency: latencyStats(this.#latency),
      endpoints,
      errors: this.#errors.list(),
      counters: Object.fromEntries(this.#counters),
      ...this.#named.summary(),
      ...(this.#service !== null ? { dropped: this.#dropped, service: latencyStats(this.#service) } : this.#dropped > 0 ? { dropped: this.#dropped } : {}),
      ...(generator !== undefined ? { generator } : {}),
      ...(this.#strayBytesDrops > 0 ? { strayBytesDrops: this.#strayBytesDrops } : {}),
    }
  }

  /** The generator's per-second health on the series' time axis; undefined before any sample. */
  generatorSeries(): GeneratorSeries | undefined {
    return this.#generator.series()
  }

  /** Sources that stayed over a generator-health bound so far (see generator-health.ts). */
  generatorWarnings(): GeneratorWarning[] {
    return this.#generator.warnings()
  }

  /** Every (method, name)'s latency per second, by name. */
  nameSeries(): NameSeries[] {
    return this.#nameSeries.all()
  }

  /** One (method, name)'s latency per second, or undefined when it has no completed hit yet. */
  nameSeriesOf(method: string, name: string): NameSeries | undefined {
    return this.#nameSeries.of(method, name)
  }

  /** The per-second series, oldest first. */
  series(): SeriesPoint[] {
    return this.#series.points()
  }

  /** A cluster agent's word, in its `finished` event, on what it counted but could not deliver (set, not added: read twice, counted once). */
  undelivered(source: string, undelivered: Undelivered): void {
    this.#source(source).undelivered = { ...undelivered }
  }

  /**
   * A cluster agent whose results stop short, said once the run is over: set on its source, which
   * is added (with nothing counted) if none of its snapshots arrived, so that every agent of the
   * run is among the sources.
   */
  unfinished(source: string, unfinished: Unfinished): void {
    this.#source(source).unfinished = { ...unfinished }
  }

  /** Per-source totals, in the order sources were first heard from (agents that sent nothing last). */
  sources(): SourceTotals[] {
    return [...this.#sources.values()].map((s) => ({
      source: s.source,
      hits: s.hits,
      networkErrors: s.networkErrors,
      tests: { ...s.tests },
      lastSeq: s.lastSeq,
      lastSeenMs: s.lastSeenMs,
      activeUsers: s.activeUsers,
      step: s.step,
      final: s.final,
      ...(s.undelivered !== undefined ? { undelivered: { ...s.undelivered } } : {}),
      ...(s.unfinished !== undefined ? { unfinished: { ...s.unfinished } } : {}),
    }))
  }

  /** The merged histograms, encoded, so a saved result can be merged again later. */
  encodedHistograms(): EncodedHistograms {
    this.#deferred.flush()
    return {
      latency: encodeHistogram(this.#latency),
      endpoints: [...this.#endpoints.values()].map((e) => ({
        method: e.method,
        name: e.name,
        latency: encodeHistogram(e.latency),
        ttfb: encodeHistogram(e.ttfb),
        ...(e.service !== null ? { service: encodeHistogram(e.service) } : {}),
      })),
      ...(this.#service !== null ? { service: encodeHistogram(this.#service) } : {}),
      ...this.#named.encoded(),
    }
  }

  #endpoint(method: string, name: string): EndpointTotals {
    const key = `${method} ${name}`
    let t = this.#endpoints.get(key)
    if (t === undefined) {
      t = createEndpointTotals(method, name)
      this.#endpoints.set(key, t)
    }
    return t
  }

  #source(source: string): SourceState {
    let s = this.#sources.get(source)
    if (s === undefined) {
      s = {
        source, hits: 0, networkErrors: 0, tests: { run: 0, failures: 0, errors: 0 },
        lastSeq: -1, lastSeenMs: 0, activeUsers: 0, step: 0, final: false,
        nextSeq: 0, above: new Set(), oldestInFlightMs: 0,
      }
      this.#sources.set(source, s)
    }
    return s
  }

  #pruneRecent(now: number): void {
    const horizon = now - this.#rateWindowMs
    if (this.#recent.length > 0 && (this.#recent[0]?.endMs ?? 0) <= horizon) {
      this.#recent = this.#recent.filter((r) => r.endMs > horizon)
    }
  }
}

/** Records `seq` as received; false if it already was. */
function acceptSeq(s: SourceState, seq: number): boolean {
  if (seq < s.nextSeq || s.above.has(seq)) return false
  if (seq === s.nextSeq) {
    s.nextSeq++
    while (s.above.delete(s.nextSeq)) s.nextSeq++
  } else {
    s.above.add(seq)
    if (s.above.size > MAX_SEQ_GAP) {
      // A gap that never filled: the missing snapshots are lost, move past them.
      s.nextSeq = Math.min(...s.above)
      while (s.above.delete(s.nextSeq)) s.nextSeq++
    }
  }
  return true
}

function addTests(
  target: { run: number; failures: number; errors: number },
  add: { run: number; failures: number; errors: number },
): void {
  target.run += add.run
  target.failures += add.failures
  target.errors += add.errors
}
