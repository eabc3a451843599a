/**
 * The per-worker end of the stats pipeline: counts every hit and test run, and hands out
 * deltas (snapshots) that the aggregator merges. State is reset at each snapshot and reused,
 * so memory depends on the number of endpoints, never on the number of hits.
 */
import { ErrorGroups } from './error-groups.js'
import type { HitSink, StreamSink, WsSink } from './hit-sink.js'
import { BucketCounts, clampUs, createHistogram, encodeHistogram, type Histogram } from './histogram.js'
import { NamedRecords, type ScenarioRecord } from './named-records.js'
import { InFlight } from './in-flight.js'
import { redactSecrets } from '../util/redact-secrets.js'
import type { EndpointSnapshot, Outcome, Snapshot } from './types.js'

/** Where hits go once `maxEndpoints` distinct (method, name) pairs exist. */
export const OTHER_ENDPOINTS = '(other endpoints)'

export interface RecorderOptions {
  /** `worker-0`, `host-pid`, `agent/worker-1` … copied into every snapshot. */
  source: string
  /** Clock, ms since epoch. */
  now?: () => number
  /**
   * Distinct (scenario, method, name) endpoints kept, all scenarios together; beyond it, hits count
   * under (scenario, method, `(other endpoints)`).
   */
  maxEndpoints?: number
  /** Distinct error groups per snapshot; beyond it, an `(other errors)` group. */
  maxErrorGroups?: number
  /** Distinct custom counters per snapshot; beyond it, `(other counters)`. */
  maxCounters?: number
}

class Entry {
  hits = 0
  errors = 0
  httpFailed = 0
  bytesIn = 0
  bytesOut = 0
  connects = 0
  connectUs = 0
  tlsHandshakes = 0
  tlsUs = 0
  readonly statuses = new Map<number, number>()
  readonly errorKinds = new Map<string, number>()
  readonly latency: Histogram = createHistogram()
  readonly ttfb: Histogram = createHistogram()
  /** What recordHit counts into; moved into `latency` / `ttfb` at each snapshot. */
  readonly latencyCounts = new BucketCounts()
  readonly ttfbCounts = new BucketCounts()
  /** Open model only: raw service times (latency then counts from intended starts). */
  service: Histogram | null = null
  /** WebSocket endpoints only. */
  ws: { messagesIn: number; messagesOut: number; closeCodes: Map<number, number> } | null = null
  constructor(
    readonly method: string,
    readonly name: string,
    /** The config-file scenario whose users made the hits; undefined outside scenarios. */
    readonly scenario: string | undefined,
  ) {}
}

/** An endpoint table: method → name → entry. */
type ByMethod = Map<string, Map<string, Entry>>

export class Recorder implements HitSink, WsSink, StreamSink {
  readonly source: string
  /** This worker's requests in flight: sessions count into it (see Session's `inFlight`). */
  readonly inFlight = new InFlight()
  readonly #now: () => number
  readonly #maxEndpoints: number
  readonly #maxCounters: number
  /** Hits made outside any scenario. */
  readonly #byMethod: ByMethod = new Map()
  /** Hits of config-file scenarios' users: each scenario its own table (the cap counts them all). */
  readonly #byScenario = new Map<string, ByMethod>()
  readonly #entries: Entry[] = []
  readonly #errors: ErrorGroups
  readonly #counters = new Map<string, number>()
  readonly #global: Histogram = createHistogram()
  /** Checks, group blocks and test-method runs, by name. */
  readonly #named = new NamedRecords()
  #tests = { run: 0, failures: 0, errors: 0 }
  #seq = 0
  #startMs: number
  #step = 0
  #activeUsers = 0
  #lastEntry: Entry | null = null
  #lastName = ''
  #lastMethod = ''
  #lastScenario: string | undefined = undefined
  #dropped = 0
  #strayBytesDrops = 0
  /** Set once an open-model hit was recorded: snapshots then carry service-time histograms. */
  #globalService: Histogram | null = null

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
    failed?: boolean,
    scenario?: string,
    tlsUs?: number,
  ): void {
    // Consecutive hits mostly share an endpoint: compare the strings (usually the same
    // references) before two map look-ups.
    let entry = this.#lastEntry
    if (entry === null || name !== this.#lastName || method !== this.#lastMethod || scenario !== this.#lastScenario) {
      entry = this.#entry(method, name, scenario)
      this.#lastEntry = entry
      this.#lastName = name
      this.#lastMethod = method
      this.#lastScenario = scenario
    }
    entry.hits++
    entry.bytesIn += bytesIn
    entry.bytesOut += bytesOut
    if (connectUs > 0) {
      entry.connects++
      entry.connectUs += connectUs
    }
    if (tlsUs !== undefined && tlsUs > 0) {
      entry.tlsHandshakes++
      entry.tlsUs += tlsUs
    }
    entry.latencyCounts.record(totalUs)
    if (errorKind !== null) {
      entry.errors++
      entry.errorKinds.set(errorKind, (entry.errorKinds.get(errorKind) ?? 0) + 1)
    } else {
      entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1)
      entry.ttfbCounts.record(ttfbUs)
      if (failed ?? status >= 400) entry.httpFailed++
    }
  }

  /**
   * An open-model hit (`--rate`): `serviceUs` is the request's own time, `lagUs` how late its
   * test run started after its intended start. The latency recorded is their sum (coordinated
   * omission corrected, as wrk2 does); the service time is kept beside it.
   */
  recordLateHit(
    method: string,
    name: string,
    status: number,
    serviceUs: number,
    ttfbUs: number,
    connectUs: number,
    bytesIn: number,
    bytesOut: number,
    errorKind: string | null,
    lagUs: number,
    failed?: boolean,
    scenario?: string,
    tlsUs?: number,
  ): void {
    this.recordHit(method, name, status, serviceUs + lagUs, ttfbUs, connectUs, bytesIn, bytesOut, errorKind, failed, scenario, tlsUs)
    const entry = this.#entry(method, name, scenario)
    ;(entry.service ??= createHistogram()).recordValue(clampUs(serviceUs))
    this.#globalService ??= createHistogram()
  }

  recordWsMessage(name: string, direction: 'in' | 'out', bytes: number, scenario?: string): void {
    this.recordStreamMessage('WS', name, direction, bytes, scenario)
  }

  /** A message of a stream (gRPC) under (method, name): counted in the endpoint's `ws` counts, bytes added. */
  recordStreamMessage(method: string, name: string, direction: 'in' | 'out', bytes: number, scenario?: string): void {
    const entry = this.#entry(method, name, scenario)
    const ws = (entry.ws ??= { messagesIn: 0, messagesOut: 0, closeCodes: new Map() })
    if (direction === 'in') {
      ws.messagesIn++
      entry.bytesIn += bytes
    } else {
      ws.messagesOut++
      entry.bytesOut += bytes
    }
  }

  recordWsClose(name: string, code: number, scenario?: string): void {
    const entry = this.#entry('WS', name, scenario)
    const ws = (entry.ws ??= { messagesIn: 0, messagesOut: 0, closeCodes: new Map() })
    ws.closeCodes.set(code, (ws.closeCodes.get(code) ?? 0) + 1)
  }

  /** A keep-alive connection was closed: the server sent bytes no request asked for. */
  recordStrayBytes(): void {
    this.#strayBytesDrops++
  }

  /** Open model: `n` scheduled starts could not happen (no free user before the step ended). */
  recordDropped(n: number): void {
    this.#dropped += n
  }

  #entry(method: string, name: string, scenario: string | undefined): Entry {
    let byMethod = this.#byMethod
    if (scenario !== undefined) {
      const table = this.#byScenario.get(scenario)
      if (table === undefined) this.#byScenario.set(scenario, (byMethod = new Map()))
      else byMethod = table
    }
    let byName = byMethod.get(method)
    if (byName === undefined) {
      byName = new Map()
      byMethod.set(method, byName)
    }
    return byName.get(name) ?? this.#newEntry(byName, method, name, scenario)
  }

  #newEntry(byName: Map<string, Entry>, method: string, name: string, scenario: string | undefined): Entry {
    if (this.#entries.length >= this.#maxEndpoints && name !== OTHER_ENDPOINTS) {
      // Not stored under `name`: that would grow the map with every new URL.
      return byName.get(OTHER_ENDPOINTS) ?? this.#newEntry(byName, method, OTHER_ENDPOINTS, scenario)
    }
    const entry = new Entry(method, name, scenario)
    byName.set(name, entry)
    this.#entries.push(entry)
    return entry
  }

  /**
   * One test run ended. `error` is required for failures and errors, ignored for passes.
   * `durationUs`, when given, is the run's wall time: it feeds the method's own figures.
   */
  recordTest(
    outcome: Outcome,
    test: string,
    error?: { kind: string; message: string; stack: string; hint?: string },
    durationUs?: number,
  ): void {
    this.#tests.run++
    if (durationUs !== undefined) this.#named.method(test, outcome, durationUs)
    if (outcome === 'pass') return
    if (outcome === 'failure') this.#tests.failures++
    else this.#tests.errors++
    const e = error ?? { kind: 'Unknown', message: '', stack: '' }
    // Secrets in URLs (a token in a query, user:password@) never reach an output.
    this.#errors.add(outcome, e.kind, redactSecrets(e.message), test, 1, redactSecrets(e.stack), e.hint === undefined ? undefined : redactSecrets(e.hint))
  }

  /** `this.check(…)`: one evaluation of check `name`. */
  recordCheck(name: string, pass: boolean): void {
    this.#named.check(name, pass)
  }

  /** `this.group(name, …)`: a block ended after `durationUs`, as `outcome` (it threw or not). */
  recordGroup(name: string, outcome: Outcome, durationUs: number): void {
    this.#named.group(name, outcome, durationUs)
  }

  /** Scenario `name`'s figures, for its users to report their hits and runs to (see ScenarioRecord). */
  scenario(name: string): ScenarioRecord {
    return this.#named.scenario(name)
  }

  /** A request made inside group `group` (the innermost one open), by its endpoint. */
  recordGroupRequest(group: string, method: string, name: string): void {
    this.#named.groupRequest(group, method, name)
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
   * The run's clock starts now: the interval in progress is said to begin here, so the time spent
   * loading (the test module, `--data` parsing, setUpClass) is not counted in the run's duration.
   * Called once, when the first step starts; what was recorded before stays in the interval.
   */
  restartClock(): void {
    if (this.#seq === 0) this.#startMs = this.#now()
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
    const globalService = this.#globalService
    globalService?.reset()
    for (const e of this.#entries) {
      if (e.hits === 0 && !hasWsTraffic(e)) continue
      e.latencyCounts.drainInto(e.latency)
      e.ttfbCounts.drainInto(e.ttfb)
      // Adding per-endpoint histograms here costs one pass per endpoint per second, instead
      // of a third histogram update on every hit.
      global.add(e.latency)
      endpoints.push({
        method: e.method,
        name: e.name,
        hits: e.hits,
        errors: e.errors,
        httpFailed: e.httpFailed,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        statuses: Object.fromEntries(e.statuses),
        errorKinds: Object.fromEntries(e.errorKinds),
        latency: encodeHistogram(e.latency),
        ttfb: encodeHistogram(e.ttfb),
        connects: e.connects,
        connectUs: e.connectUs,
      })
      if (e.scenario !== undefined) endpoints[endpoints.length - 1]!.scenario = e.scenario
      if (e.tlsHandshakes > 0) {
        endpoints[endpoints.length - 1]!.tlsHandshakes = e.tlsHandshakes
        endpoints[endpoints.length - 1]!.tlsUs = e.tlsUs
      }
      if (e.service !== null) {
        globalService?.add(e.service)
        endpoints[endpoints.length - 1]!.service = encodeHistogram(e.service)
        e.service.reset()
      }
      if (e.ws !== null) {
        endpoints[endpoints.length - 1]!.ws = { messagesIn: e.ws.messagesIn, messagesOut: e.ws.messagesOut, closeCodes: Object.fromEntries(e.ws.closeCodes) }
        e.ws = null
      }
      e.hits = e.errors = e.httpFailed = e.bytesIn = e.bytesOut = e.connects = e.connectUs = e.tlsHandshakes = e.tlsUs = 0
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
    if (globalService !== null) snap.service = encodeHistogram(globalService)
    this.#named.moveInto(snap)
    if (this.#dropped > 0) snap.dropped = this.#dropped
    const oldestInFlightMs = final ? 0 : Math.round(this.inFlight.oldestAgeMs(performance.now()))
    if (oldestInFlightMs > 0) snap.oldestInFlightMs = oldestInFlightMs
    this.#dropped = 0
    if (this.#strayBytesDrops > 0) snap.strayBytesDrops = this.#strayBytesDrops
    this.#strayBytesDrops = 0
    this.#tests = { run: 0, failures: 0, errors: 0 }
    this.#errors.clear()
    this.#counters.clear()
    this.#startMs = endMs
    return snap
  }
}

function hasWsTraffic(e: Entry): boolean {
  return e.ws !== null && (e.ws.messagesIn > 0 || e.ws.messagesOut > 0 || e.ws.closeCodes.size > 0)
}

function dropZeros(record: Record<string, number>): void {
  for (const k of Object.keys(record)) if (record[k] === 0) delete record[k]
}
