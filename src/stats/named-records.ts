/**
 * A worker's named data beside its hits: checks (`this.check`), group blocks (`this.group`) and
 * test-method runs, kept per name and handed out as deltas inside each snapshot. Memory depends
 * on the number of names (capped), never on the number of checks, blocks or runs.
 */
import { clampUs, createHistogram, encodeHistogram, type Histogram } from './histogram.js'
import type { CheckCounts, Outcome, ScenarioSnapshot, Snapshot, TimedSnapshot } from './types.js'

/** Where checks, groups or methods go once the cap of distinct names is reached. */
export const OTHER_CHECKS = '(other checks)'
export const OTHER_GROUPS = '(other groups)'
export const OTHER_METHODS = '(other methods)'
/** Distinct `METHOD name` keys counted per group; beyond it, `(other requests)`. */
const MAX_GROUP_REQUESTS = 100

class Timed {
  runs = 0
  failures = 0
  errors = 0
  readonly duration: Histogram = createHistogram()
  requests: Map<string, number> | null = null
  constructor(readonly name: string) {}
}

/**
 * One scenario's figures in a worker: its users hold it (no look-up per hit) and report their
 * hits and test runs to it; the snapshot drains it in place.
 */
export class ScenarioRecord {
  runs = 0
  failures = 0
  errors = 0
  hits = 0
  failed = 0
  dropped = 0
  readonly duration: Histogram = createHistogram()
  readonly latency: Histogram = createHistogram()
  constructor(readonly name: string) {}

  /** A hit of the scenario's users: its latency (µs, as the endpoint records it) and whether it failed. */
  hit(us: number, failed: boolean): void {
    this.hits++
    if (failed) this.failed++
    this.latency.recordValue(clampUs(us))
  }

  /** A test run of the scenario's users ended after `us` microseconds. */
  run(outcome: Outcome, us: number): void {
    record(this, outcome, us)
  }
}

export class NamedRecords {
  readonly #checks = new Map<string, CheckCounts>()
  readonly #groups = new Map<string, Timed>()
  readonly #methods = new Map<string, Timed>()
  readonly #scenarios = new Map<string, ScenarioRecord>()

  /** @param maxNames distinct names kept per kind (checks, groups, methods). */
  constructor(private readonly maxNames = 1000) {}

  check(name: string, pass: boolean): void {
    let c = this.#checks.get(name)
    if (c === undefined) {
      const key = this.#checks.size < this.maxNames ? name : OTHER_CHECKS
      c = this.#checks.get(key) ?? { passes: 0, failures: 0 }
      this.#checks.set(key, c)
    }
    if (pass) c.passes++
    else c.failures++
  }

  /** A group block ended after `us` microseconds. */
  group(name: string, outcome: Outcome, us: number): void {
    record(this.#timed(this.#groups, name, OTHER_GROUPS), outcome, us)
  }

  /** A test method's run ended after `us` microseconds. */
  method(name: string, outcome: Outcome, us: number): void {
    record(this.#timed(this.#methods, name, OTHER_METHODS), outcome, us)
  }

  /** Scenario `name`'s record (made on first use; scenarios are few, so never capped). */
  scenario(name: string): ScenarioRecord {
    let r = this.#scenarios.get(name)
    if (r === undefined) {
      r = new ScenarioRecord(name)
      this.#scenarios.set(name, r)
    }
    return r
  }

  /** A request made inside group `group` (its innermost one). */
  groupRequest(group: string, method: string, name: string): void {
    const t = this.#timed(this.#groups, group, OTHER_GROUPS)
    const requests = (t.requests ??= new Map())
    let key = `${method} ${name}`
    if (!requests.has(key) && requests.size >= MAX_GROUP_REQUESTS) key = '(other requests)'
    requests.set(key, (requests.get(key) ?? 0) + 1)
  }

  /** Moves the interval's checks, groups and methods into `snap` (only those with data), then resets. */
  moveInto(snap: Snapshot): void {
    if (this.#checks.size > 0) {
      snap.checks = Object.fromEntries(this.#checks)
      this.#checks.clear()
    }
    const groups = drain(this.#groups)
    if (groups.length > 0) snap.groups = groups
    const methods = drain(this.#methods)
    if (methods.length > 0) snap.methods = methods
    const scenarios: ScenarioSnapshot[] = []
    for (const r of this.#scenarios.values()) {
      if (r.runs === 0 && r.hits === 0 && r.dropped === 0) continue
      const row: ScenarioSnapshot = {
        name: r.name, runs: r.runs, failures: r.failures, errors: r.errors, duration: encodeHistogram(r.duration),
        hits: r.hits, failed: r.failed, latency: encodeHistogram(r.latency),
      }
      if (r.dropped > 0) row.dropped = r.dropped
      scenarios.push(row)
      // Kept (users hold it), emptied in place.
      r.runs = r.failures = r.errors = r.hits = r.failed = r.dropped = 0
      r.duration.reset()
      r.latency.reset()
    }
    if (scenarios.length > 0) snap.scenarios = scenarios
  }

  #timed(map: Map<string, Timed>, name: string, other: string): Timed {
    let t = map.get(name)
    if (t === undefined) {
      const key = map.size < this.maxNames ? name : other
      t = map.get(key) ?? new Timed(key)
      map.set(key, t)
    }
    return t
  }
}

function record(t: { runs: number; failures: number; errors: number; duration: Histogram }, outcome: Outcome, us: number): void {
  t.runs++
  if (outcome === 'failure') t.failures++
  else if (outcome === 'error') t.errors++
  t.duration.recordValue(clampUs(us))
}

/** The entries with data, as snapshot rows; the map is emptied (names come back as they are used). */
function drain(map: Map<string, Timed>): TimedSnapshot[] {
  const out: TimedSnapshot[] = []
  for (const t of map.values()) {
    if (t.runs === 0 && t.requests === null) continue
    const row: TimedSnapshot = { name: t.name, runs: t.runs, failures: t.failures, errors: t.errors, duration: encodeHistogram(t.duration) }
    if (t.requests !== null) row.requests = Object.fromEntries(t.requests)
    out.push(row)
  }
  map.clear()
  return out
}
