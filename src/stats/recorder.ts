/**
 * The per-worker end of the stats pipeline: counts every hit and test run, and hands out
 * deltas (snapshots) that the aggregator merges. State is reset at each snapshot and reused,
 * so memory depends on the number of endpoints, never on the number of hits.
 */
import { ErrorGroups } from './error-groups.js'
import type { HitSink } from './hit-sink.js'
import { clampUs, createHistogram, encodeHistogram, type Histogram } from './histogram.js'
import type { EndpointSnapshot, Outcome, Snapshot } from './types.js'

/** Where hits go once `maxEndpoints` distinct (method, name) pairs exist. */
export const OTHER_ENDPOINTS = '(other endpoints)'

export interface RecorderOptions {
  /** `worker-0`, `host-pid`, `agent/worker-1` … copied into every snapshot. */
  source: string
  /** Clock, ms since epoch. */
  now?: () => number
  /** Distinct (method, name) pairs kept; beyond it, hits count under (method, `(other endpoints)`). */
  maxEndpoints?: number
  /** Distinct error groups per snapshot; beyond it, an `(other errors)` group. */
  maxErrorGroups?: number
  /** Distinct custom counters per snapshot; beyond it, `(other counters)`. */
  maxCounters?: number
}

class Entry {
  hits = 0
  errors = 0
  bytesIn = 0
  bytesOut = 0
  connects = 0
  connectUs = 0
  readonly statuses = new Map<number, number>()
  readonly errorKinds = new Map<string, number>()
  readonly latency: Histogram = createHistogram()
  readonly ttfb: Histogram = createHistogram()
  constructor(
    readonly method: string,
    readonly name: string,
  ) {}
}

export class Recorder implements HitSink {
  readonly source: string
  readonly #now: () => number
  readonly #maxEndpoints: number
  readonly #maxCounters: number
  readonly #byMethod = new Map<string, Map<string, Entry>>()
  readonly #entries: Entry[] = []
  readonly #errors: ErrorGroups
  readonly #counters = new Map<string, number>()
  readonly #global: Histogram = createHistogram()
  #tests = { run: 0, failures: 0, errors: 0 }
  #seq = 0
  #startMs: number
  #step = 0
  #activeUsers = 0

  constructor(opts: RecorderOptions) {
    this.source = opts.source
    this.#now = opts.now ?? Date.now
    this.#maxEndpoints = opts.maxEndpoints ?? 1000
    this.#maxCounters = opts.maxCounters ?? 1000
    this.#errors = new ErrorGroups(opts.maxErrorGroups ?? 100)
    this.#startMs = this.#now()
  }

  recordHit(
    method: string,
    name: string,
    status: number,
    totalUs: number,
    ttfbUs: number,
    connectUs: number,
    bytesIn: number,
    bytesOut: number,
    errorKind: string | null,
  ): void {
    let byName = this.#byMethod.get(method)
    if (byName === undefined) {
      byName = new Map()
      this.#byMethod.set(method, byName)
    }
    const entry = byName.get(name) ?? this.#newEntry(byName, method, name)
    entry.hits++
    entry.bytesIn += bytesIn
    entry.bytesOut += bytesOut
    if (connectUs > 0) {
      entry.connects++
      entry.connectUs += connectUs
    }
    entry.latency.recordValue(clampUs(totalUs))
    if (errorKind !== null) {
      entry.errors++
      entry.errorKinds.set(errorKind, (entry.errorKinds.get(errorKind) ?? 0) + 1)
    } else {
      entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1)
      entry.ttfb.recordValue(clampUs(ttfbUs))
    }
  }

  #newEntry(byName: Map<string, Entry>, method: string, name: string): Entry {
    if (this.#entries.length >= this.#maxEndpoints && name !== OTHER_ENDPOINTS) {
      // Not stored under `name`: that would grow the map with every new URL.
      return byName.get(OTHER_ENDPOINTS) ?? this.#newEntry(byName, method, OTHER_ENDPOINTS)
    }
    const entry = new Entry(method, name)
    byName.set(name, entry)
    this.#entries.push(entry)
    return entry
  }

  /** One test run ended. `error` is required for failures and errors, ignored for passes. */
  recordTest(
    outcome: Outcome,
    test: string,
    error?: { kind: string; message: string; stack: string },
  ): void {
    this.#tests.run++
    if (outcome === 'pass') return
    if (outcome === 'failure') this.#tests.failures++
    else this.#tests.errors++
    const e = error ?? { kind: 'Unknown', message: '', stack: '' }
    this.#errors.add(outcome, e.kind, e.message, test, 1, e.stack)
  }

  incrCounter(name: string, n = 1): void {
    const current = this.#counters.get(name)
    if (current !== undefined) this.#counters.set(name, current + n)
    else if (this.#counters.size < this.#maxCounters) this.#counters.set(name, n)
    else this.#counters.set('(other counters)', (this.#counters.get('(other counters)') ?? 0) + n)
  }

  /** Index of the plan step now running (a gauge, sent as is). */
  setStep(i: number): void {
    this.#step = i
  }

  /** Virtual users now running (a gauge, sent as is). */
  setActiveUsers(n: number): void {
    this.#activeUsers = n
  }

  /**
   * The delta since the previous call (or since construction), then a reset. Endpoints without
   * hits in the interval are left out. `final` marks the last snapshot of this source.
   */
  snapshot(final = false): Snapshot {
    const endMs = this.#now()
    const endpoints: EndpointSnapshot[] = []
    const global = this.#global
    global.reset()
    for (const e of this.#entries) {
      if (e.hits === 0) continue
      // Adding per-endpoint histograms here costs one pass per endpoint per second, instead
      // of a third histogram update on every hit.
      global.add(e.latency)
      endpoints.push({
        method: e.method,
        name: e.name,
        hits: e.hits,
        errors: e.errors,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        statuses: Object.fromEntries(e.statuses),
        errorKinds: Object.fromEntries(e.errorKinds),
        latency: encodeHistogram(e.latency),
        ttfb: encodeHistogram(e.ttfb),
        connects: e.connects,
        connectUs: e.connectUs,
      })
      e.hits = e.errors = e.bytesIn = e.bytesOut = e.connects = e.connectUs = 0
      // Zero the counts but keep the keys: the same statuses come back next second.
      for (const k of e.statuses.keys()) e.statuses.set(k, 0)
      for (const k of e.errorKinds.keys()) e.errorKinds.set(k, 0)
      e.latency.reset()
      e.ttfb.reset()
    }
    for (const ep of endpoints) {
      dropZeros(ep.statuses)
      dropZeros(ep.errorKinds)
    }
    const snap: Snapshot = {
      v: 1,
      source: this.source,
      seq: this.#seq++,
      startMs: this.#startMs,
      endMs,
      step: this.#step,
      activeUsers: this.#activeUsers,
      tests: this.#tests,
      endpoints,
      latency: encodeHistogram(global),
      errors: this.#errors.list(),
      counters: Object.fromEntries(this.#counters),
      final,
    }
    this.#tests = { run: 0, failures: 0, errors: 0 }
    this.#errors.clear()
    this.#counters.clear()
    this.#startMs = endMs
    return snap
  }
}

function dropZeros(record: Record<string, number>): void {
  for (const k of Object.keys(record)) if (record[k] === 0) delete record[k]
}
