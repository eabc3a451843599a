/**
 * Checks, groups and test methods merged over snapshots: counts add, duration histograms add
 * bucket by bucket, so the merged figures are those of one run that did everything. The runner's
 * aggregator, an agent's snapshot merger and `loads report --merge` all merge through this.
 */
import { createHistogram, encodeHistogram, encodeWire, latencyStats, type Histogram } from './histogram.js'
import type { CheckCounts, CheckSummary, EncodedHistograms, RunSummary, ScenarioSnapshot, ScenarioSummary, Snapshot, TimedSnapshot, TimedSummary, WireHistogram } from './types.js'

interface TimedTotals {
  name: string
  runs: number
  failures: number
  errors: number
  duration: Histogram
  requests: Record<string, number> | null
}

interface ScenarioTotals extends TimedTotals {
  hits: number
  failed: number
  latency: Histogram
  dropped: number
}

type AddHistogram = (target: Histogram, encoded: WireHistogram) => void
type Fields = 'checks' | 'groups' | 'methods' | 'scenarios'

export class NamedTotals {
  readonly #checks = new Map<string, CheckCounts>()
  readonly #groups = new Map<string, TimedTotals>()
  readonly #methods = new Map<string, TimedTotals>()
  readonly #scenarios = new Map<string, ScenarioTotals>()

  /** Adds a snapshot's checks, groups, methods and scenarios; histograms go through `addHistogram`. */
  add(snap: Pick<Snapshot, Fields>, addHistogram: AddHistogram): void {
    if (snap.checks !== undefined) {
      for (const name in snap.checks) {
        const add = snap.checks[name]!
        const c = this.#checks.get(name)
        if (c === undefined) this.#checks.set(name, { passes: add.passes, failures: add.failures })
        else {
          c.passes += add.passes
          c.failures += add.failures
        }
      }
    }
    if (snap.groups !== undefined) for (const g of snap.groups) addTimed(this.#groups, g, addHistogram)
    if (snap.methods !== undefined) for (const m of snap.methods) addTimed(this.#methods, m, addHistogram)
    if (snap.scenarios !== undefined) for (const sc of snap.scenarios) addScenario(this.#scenarios, sc, addHistogram)
  }

  get empty(): boolean {
    return this.#checks.size === 0 && this.#groups.size === 0 && this.#methods.size === 0 && this.#scenarios.size === 0
  }

  /** The summary's fields (each absent when empty). Histograms must be up to date. */
  summary(): Pick<RunSummary, Fields> {
    const out: Pick<RunSummary, Fields> = {}
    if (this.#checks.size > 0) {
      out.checks = [...this.#checks].map(([name, c]): CheckSummary => ({ name, passes: c.passes, failures: c.failures })).sort(byName)
    }
    if (this.#groups.size > 0) out.groups = [...this.#groups.values()].map(timedSummary).sort(byName)
    if (this.#methods.size > 0) out.methods = [...this.#methods.values()].map(timedSummary)
    if (this.#scenarios.size > 0) {
      out.scenarios = [...this.#scenarios.values()]
        .map((t): ScenarioSummary => ({ ...timedSummary(t), hits: t.hits, failed: t.failed, latency: latencyStats(t.latency), ...(t.dropped > 0 ? { dropped: t.dropped } : {}) }))
        .sort(byName)
    }
    return out
  }

  /** The merged deltas as snapshot fields in the compact wire form (an agent's merged snapshot). */
  snapshotFields(): Pick<Snapshot, Fields> {
    const out: Pick<Snapshot, Fields> = {}
    if (this.#checks.size > 0) out.checks = Object.fromEntries(this.#checks)
    if (this.#groups.size > 0) out.groups = [...this.#groups.values()].map(timedWire)
    if (this.#methods.size > 0) out.methods = [...this.#methods.values()].map(timedWire)
    if (this.#scenarios.size > 0) {
      out.scenarios = [...this.#scenarios.values()].map(
        (t): ScenarioSnapshot => ({ ...timedWire(t), hits: t.hits, failed: t.failed, latency: encodeWire(t.latency), ...(t.dropped > 0 ? { dropped: t.dropped } : {}) }),
      )
    }
    return out
  }

  /** The duration histograms, for a saved result that can be merged again. */
  encoded(): Pick<EncodedHistograms, 'groups' | 'methods' | 'scenarios'> {
    const out: Pick<EncodedHistograms, 'groups' | 'methods' | 'scenarios'> = {}
    if (this.#groups.size > 0) out.groups = [...this.#groups.values()].map((t) => ({ name: t.name, duration: encodeHistogram(t.duration) }))
    if (this.#methods.size > 0) out.methods = [...this.#methods.values()].map((t) => ({ name: t.name, duration: encodeHistogram(t.duration) }))
    if (this.#scenarios.size > 0) {
      out.scenarios = [...this.#scenarios.values()].map((t) => ({ name: t.name, duration: encodeHistogram(t.duration), latency: encodeHistogram(t.latency) }))
    }
    return out
  }

  clear(): void {
    this.#checks.clear()
    this.#groups.clear()
    this.#methods.clear()
    this.#scenarios.clear()
  }
}

/**
 * A saved summary's checks, groups and methods as snapshot fields, with their histograms from
 * `histograms` (`loads report --merge`); a group or method without a saved histogram keeps its
 * counts and an empty duration.
 */
export function summaryAsSnapshot(s: RunSummary, histograms: EncodedHistograms): Pick<Snapshot, Fields> {
  const out: Pick<Snapshot, Fields> = {}
  if (s.checks !== undefined) out.checks = Object.fromEntries(s.checks.map((c) => [c.name, { passes: c.passes, failures: c.failures }]))
  const rows = (list: TimedSummary[], saved: { name: string; duration: string }[] | undefined): TimedSnapshot[] =>
    list.map((t) => ({
      name: t.name, runs: t.runs, failures: t.failures, errors: t.errors,
      duration: saved?.find((h) => h.name === t.name)?.duration ?? '',
      ...(t.requests !== undefined ? { requests: t.requests } : {}),
    }))
  if (s.groups !== undefined) out.groups = rows(s.groups, histograms.groups)
  if (s.methods !== undefined) out.methods = rows(s.methods, histograms.methods)
  if (s.scenarios !== undefined) {
    out.scenarios = s.scenarios.map((sc): ScenarioSnapshot => {
      const saved = histograms.scenarios?.find((h) => h.name === sc.name)
      return {
        name: sc.name, runs: sc.runs, failures: sc.failures, errors: sc.errors, duration: saved?.duration ?? '',
        hits: sc.hits, failed: sc.failed, latency: saved?.latency ?? '', ...(sc.dropped !== undefined ? { dropped: sc.dropped } : {}),
      }
    })
  }
  return out
}

function addTimed(map: Map<string, TimedTotals>, t: TimedSnapshot, addHistogram: AddHistogram): void {
  let acc = map.get(t.name)
  if (acc === undefined) {
    acc = { name: t.name, runs: 0, failures: 0, errors: 0, duration: createHistogram(true), requests: null }
    map.set(t.name, acc)
  }
  acc.runs += t.runs
  acc.failures += t.failures
  acc.errors += t.errors
  addHistogram(acc.duration, t.duration)
  if (t.requests !== undefined) {
    const requests = (acc.requests ??= {})
    for (const k in t.requests) requests[k] = (requests[k] ?? 0) + t.requests[k]!
  }
}

function addScenario(map: Map<string, ScenarioTotals>, sc: ScenarioSnapshot, addHistogram: AddHistogram): void {
  let acc = map.get(sc.name)
  if (acc === undefined) {
    acc = { name: sc.name, runs: 0, failures: 0, errors: 0, duration: createHistogram(true), requests: null, hits: 0, failed: 0, latency: createHistogram(true), dropped: 0 }
    map.set(sc.name, acc)
  }
  acc.runs += sc.runs
  acc.failures += sc.failures
  acc.errors += sc.errors
  acc.hits += sc.hits
  acc.failed += sc.failed
  acc.dropped += sc.dropped ?? 0
  addHistogram(acc.duration, sc.duration)
  addHistogram(acc.latency, sc.latency)
}

function timedSummary(t: TimedTotals): TimedSummary {
  return {
    name: t.name, runs: t.runs, failures: t.failures, errors: t.errors, duration: latencyStats(t.duration),
    ...(t.requests !== null ? { requests: { ...t.requests } } : {}),
  }
}

function timedWire(t: TimedTotals): TimedSnapshot {
  return {
    name: t.name, runs: t.runs, failures: t.failures, errors: t.errors, duration: encodeWire(t.duration),
    ...(t.requests !== null ? { requests: t.requests } : {}),
  }
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
