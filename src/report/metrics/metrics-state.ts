/**
 * The run's figures as metrics backends want them: cumulative counters and gauges keyed by label
 * set, folded from the merged snapshot stream (the runner's, so a cluster's figures are written
 * once, not once per agent). Every output (remote write, /metrics, InfluxDB, OTLP) renders this
 * one state, so they all carry the same series and the same totals as the summary.
 */
import type { Snapshot } from '../../stats/types.js'
import type { RunInfo } from '../reporter.js'
import { LatencyBuckets } from './latency-buckets.js'
import { NamedMetrics } from './named-metrics.js'

/** Label name → value, in a fixed order (run_id, test, agent, scenario and its tags, method, name, …). */
export type Labels = Readonly<Record<string, string>>

/** One counter or gauge series. */
export interface ScalarSeries {
  labels: Labels
  value: number
}

/** Every series of one metric. `unit` and `help` describe it; names follow Prometheus's rules. */
export interface Family<T> {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  series: Map<string, { labels: Labels; value: T }>
}

export interface MetricsStateOptions {
  runId: string
  /** The test address as the user gave it. */
  test: string
  /** Label series by agent (a cluster run: a snapshot's source is an agent id). */
  perAgent: boolean
  /**
   * Distinct (scenario, URL name) pairs kept apart; further names fold into `OTHER_NAME` (one
   * warning), each in its scenario.
   */
  maxNames: number
  /** Told once, when the first name is folded. */
  warn?: (message: string) => void
  /** Config-file scenarios' tags (scenario name → tags), labels of the scenario's series. */
  scenarioTags?: Readonly<Record<string, Labels>>
}

export const DEFAULT_MAX_NAMES = 200
/** The name the cardinality guard folds further names into. */
export const OTHER_NAME = '__other__'

export class MetricsState {
  readonly hits: Family<number> = family('loads_hits_total', 'Requests made (every hit, answered or failed on the network).', 'counter')
  readonly failures: Family<number> = family('loads_failures_total', 'Failed hits: kind="network" (no response) or kind="http" (status >= 400).', 'counter')
  readonly bytesIn: Family<number> = family('loads_received_bytes_total', 'Bytes received.', 'counter')
  readonly bytesOut: Family<number> = family('loads_sent_bytes_total', 'Bytes sent.', 'counter')
  readonly testRuns: Family<number> = family('loads_test_runs_total', 'Test method runs ended, by outcome (pass, failure, error).', 'counter')
  readonly counters: Family<number> = family('loads_counter_total', 'Custom counters (this.incrCounter), by counter name.', 'counter')
  readonly checks: Family<number> = family('loads_checks_total', 'Checks evaluated (this.check), by check name and result (pass, fail).', 'counter')
  readonly users: Family<number> = family('loads_active_users', 'Virtual users running.', 'gauge')
  readonly latency: Family<LatencyBuckets> = family('loads_hit_duration_seconds', 'Latency of each hit, seconds.', 'histogram')

  readonly #opts: MetricsStateOptions
  /** (scenario, name) pairs kept so far. */
  readonly #names = new Set<string>()
  /** Each source's latest users gauge, and the seq it came with. */
  readonly #users = new Map<string, { seq: number; users: number }>()
  #folded = 0
  readonly #endpoints = new Map<string, EndpointSeries>()
  /** Groups, test methods and scenarios. */
  readonly named: NamedMetrics

  constructor(opts: MetricsStateOptions) {
    this.#opts = opts
    this.named = new NamedMetrics(this.#run, opts.scenarioTags)
  }

  /** URL names folded into `OTHER_NAME` so far (distinct). */
  get foldedNames(): number {
    return this.#folded
  }

  /** Every family, in the order outputs write them. */
  scalarFamilies(): Family<number>[] {
    return [this.hits, this.failures, this.bytesIn, this.bytesOut, this.testRuns, this.counters, this.checks, this.users, ...this.named.scalarFamilies()]
  }

  /** Every histogram family: hit latency first, then groups', test methods' and scenarios'. */
  histogramFamilies(): Family<LatencyBuckets>[] {
    return [this.latency, ...this.named.histogramFamilies()]
  }

  /**
   * Folds one merged (deduplicated) snapshot in. On a cluster run, hits, test runs and users are
   * labelled by agent; failures, bytes, latency, checks and counters are not: per agent they
   * would multiply the series (a histogram's 15 per URL name) by the agents for little use.
   */
  add(snap: Snapshot): void {
    const base = this.#base(snap.source)
    for (const e of snap.endpoints) {
      const ep = this.#endpoint(snap.source, e.method, e.name, e.scenario)
      for (const status in e.statuses) {
        const n = e.statuses[status]!
        let hits = ep.hits.get(status)
        if (hits === undefined) {
          hits = series(this.hits, { ...ep.agentLabels, status_class: statusClass(status) })
          ep.hits.set(status, hits)
        }
        hits.value += n
        if (Number(status) >= 400) (ep.httpFailures ??= series(this.failures, { ...ep.labels, kind: 'http' })).value += n
      }
      if (e.errors > 0) {
        ;(ep.networkHits ??= series(this.hits, { ...ep.agentLabels, status_class: 'network' })).value += e.errors
        ;(ep.networkFailures ??= series(this.failures, { ...ep.labels, kind: 'network' })).value += e.errors
      }
      ep.bytesIn.value += e.bytesIn
      ep.bytesOut.value += e.bytesOut
      if (e.latency !== '' && e.latency.length > 0) ep.latency.addEncoded(e.latency)
    }
    const run = this.#run
    const passed = snap.tests.run - snap.tests.failures - snap.tests.errors
    bump(this.testRuns, { ...base, outcome: 'pass' }, passed, true)
    bump(this.testRuns, { ...base, outcome: 'failure' }, snap.tests.failures, true)
    bump(this.testRuns, { ...base, outcome: 'error' }, snap.tests.errors, true)
    for (const counter in snap.counters) bump(this.counters, { ...run, counter }, snap.counters[counter]!)
    for (const check in snap.checks) {
      const c = snap.checks[check]!
      bump(this.checks, { ...run, check, result: 'pass' }, c.passes, true)
      bump(this.checks, { ...run, check, result: 'fail' }, c.failures, true)
    }
    if (snap.groups !== undefined || snap.methods !== undefined || snap.scenarios !== undefined) this.named.add(snap)

    const prev = this.#users.get(snap.source)
    if (prev === undefined || snap.seq >= prev.seq) this.#users.set(snap.source, { seq: snap.seq, users: snap.activeUsers })
    this.users.series.clear()
    for (const [source, { users }] of this.#users) {
      const labels = this.#base(source)
      const key = keyOf(labels)
      const s = this.users.series.get(key)
      if (s === undefined) this.users.series.set(key, { labels, value: users })
      else s.value += users
    }
  }

  /**
   * The series an endpoint of a source adds to, found once (a cluster's runner folds one snapshot
   * per agent a second). A scenario's endpoint is labelled with the scenario and its tags.
   */
  #endpoint(source: string, method: string, rawName: string, scenario: string | undefined): EndpointSeries {
    const key = `${source}\u0000${method}\u0000${rawName}\u0000${scenario ?? ''}`
    let ep = this.#endpoints.get(key)
    if (ep !== undefined) return ep
    const name = this.#guard(rawName, scenario)
    const sc = scenario === undefined ? {} : { scenario, ...(this.#opts.scenarioTags?.[scenario] ?? {}) }
    const labels = { ...this.#run, ...sc, method, name }
    const agentLabels = { ...this.#base(source), ...sc, method, name }
    const lat = keyOf(labels)
    let latency = this.latency.series.get(lat)
    if (latency === undefined) {
      latency = { labels, value: new LatencyBuckets() }
      this.latency.series.set(lat, latency)
    }
    ep = { labels, agentLabels, hits: new Map(), bytesIn: series(this.bytesIn, labels), bytesOut: series(this.bytesOut, labels), latency: latency.value }
    this.#endpoints.set(key, ep)
    return ep
  }

  /** The labels of every series. */
  get #run(): Record<string, string> {
    return { run_id: this.#opts.runId, test: this.#opts.test }
  }

  /** The labels of a series kept per agent (on a cluster run). */
  #base(source: string): Record<string, string> {
    return this.#opts.perAgent ? { ...this.#run, agent: agentOf(source) } : this.#run
  }

  /** The guard counts (scenario, name) pairs: each is its own set of series. */
  #guard(name: string, scenario: string | undefined): string {
    const key = scenario === undefined ? name : `${scenario}\u0000${name}`
    if (this.#names.has(key)) return name
    if (this.#names.size < this.#opts.maxNames) {
      this.#names.add(key)
      return name
    }
    if (this.#folded++ === 0) {
      this.#opts.warn?.(`metrics: more than ${this.#opts.maxNames} distinct URL names (scenarios counted apart); further names are written as name="${OTHER_NAME}" (raise --metrics-max-names, or name URLs with the request's name option)`)
    }
    return OTHER_NAME
  }
}

/** The series one endpoint (of one source) adds to; the same objects the families hold. */
interface EndpointSeries {
  labels: Labels
  /** `labels` plus the agent, on a cluster run. */
  agentLabels: Labels
  hits: Map<string, { value: number }>
  networkHits?: { value: number }
  httpFailures?: { value: number }
  networkFailures?: { value: number }
  bytesIn: { value: number }
  bytesOut: { value: number }
  latency: LatencyBuckets
}

/** The series of `f` with these labels, created at 0 if new. */
function series(f: Family<number>, labels: Labels): { labels: Labels; value: number } {
  const key = keyOf(labels)
  let s = f.series.get(key)
  if (s === undefined) {
    s = { labels, value: 0 }
    f.series.set(key, s)
  }
  return s
}

/** Each config-file scenario's tags (name → tags), from the run's plan. */
export function scenarioTags(info: Pick<RunInfo, 'plan'>): Record<string, Labels> {
  const out: Record<string, Labels> = {}
  for (const sc of info.plan.scenarios ?? []) if (sc.tags !== undefined) out[sc.name] = sc.tags
  return out
}

/** `200` → `2xx`. */
export function statusClass(status: string): string {
  return /^[1-5]\d\d$/.test(status) ? `${status[0]}xx` : 'other'
}

/** A cluster agent's snapshots come from `host-pid`; merged worker sources look like `agent/worker-1`. */
function agentOf(source: string): string {
  const slash = source.indexOf('/')
  return slash > 0 ? source.slice(0, slash) : source
}

function family<T>(name: string, help: string, type: Family<T>['type']): Family<T> {
  return { name, help, type, series: new Map() }
}

export function keyOf(labels: Labels): string {
  let key = ''
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0001`
  return key
}

/**
 * Adds `n` to a series. A series starts with its first count, or at 0 with `atZero` (bytes of
 * an endpoint, test-run outcomes: a dashboard shows 0 rather than "no data").
 */
function bump(f: Family<number>, labels: Labels, n: number, atZero = false): void {
  const key = keyOf(labels)
  const s = f.series.get(key)
  if (s !== undefined) s.value += n
  else if (n !== 0 || atZero) f.series.set(key, { labels, value: n })
}
