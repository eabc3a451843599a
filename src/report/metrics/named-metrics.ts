/**
 * The metrics of a run's named figures beside its hits: group blocks (`this.group`), test-method
 * runs and config-file scenarios, folded from the merged snapshots like the rest of MetricsState.
 * Scenario series carry a `scenario` label and the scenario's `tags` (k6 tags every sample with
 * its scenario the same way); groups a `group` label, methods a `test_method` label.
 */
import type { Outcome, Snapshot, TimedSnapshot } from '../../stats/types.js'
import { LatencyBuckets } from './latency-buckets.js'
import { keyOf, type Family, type Labels } from './metrics-state.js'

export class NamedMetrics {
  readonly groupRuns = family<number>('loads_group_runs_total', 'Group blocks ended (this.group), by group and outcome (pass, failure, error).', 'counter')
  readonly methodRuns = family<number>('loads_test_method_runs_total', 'Test method runs ended, by method (Class.method) and outcome.', 'counter')
  readonly scenarioHits = family<number>('loads_scenario_hits_total', "Requests made by a scenario's users.", 'counter')
  readonly scenarioFailures = family<number>('loads_scenario_failures_total', "Failed hits of a scenario's users (network errors and unexpected statuses).", 'counter')
  readonly scenarioRuns = family<number>('loads_scenario_test_runs_total', "Test runs of a scenario's users ended, by outcome.", 'counter')
  readonly groupDuration = family<LatencyBuckets>('loads_group_duration_seconds', 'Wall time of each group block, seconds.', 'histogram')
  readonly methodDuration = family<LatencyBuckets>('loads_test_method_duration_seconds', 'Wall time of each test method run (setUp and tearDown included), seconds.', 'histogram')
  readonly scenarioLatency = family<LatencyBuckets>('loads_scenario_hit_duration_seconds', "Latency of each hit of a scenario's users, seconds.", 'histogram')

  /**
   * @param run the labels of every series (run id, test).
   * @param scenarioTags each scenario's tags, added to its series' labels.
   */
  constructor(
    private readonly run: Labels,
    private readonly scenarioTags: Readonly<Record<string, Labels>> = {},
  ) {}

  scalarFamilies(): Family<number>[] {
    return [this.groupRuns, this.methodRuns, this.scenarioHits, this.scenarioFailures, this.scenarioRuns]
  }

  histogramFamilies(): Family<LatencyBuckets>[] {
    return [this.groupDuration, this.methodDuration, this.scenarioLatency]
  }

  /** Folds one merged snapshot's groups, methods and scenarios in. */
  add(snap: Snapshot): void {
    for (const g of snap.groups ?? []) this.#timed(this.groupRuns, this.groupDuration, { ...this.run, group: g.name }, g)
    for (const m of snap.methods ?? []) this.#timed(this.methodRuns, this.methodDuration, { ...this.run, test_method: m.name }, m)
    for (const s of snap.scenarios ?? []) {
      const labels = { ...this.run, scenario: s.name, ...(this.scenarioTags[s.name] ?? {}) }
      bump(this.scenarioHits, labels, s.hits)
      bump(this.scenarioFailures, labels, s.failed)
      this.#timed(this.scenarioRuns, undefined, labels, s)
      addLatency(this.scenarioLatency, labels, s.latency)
    }
  }

  #timed(runs: Family<number>, duration: Family<LatencyBuckets> | undefined, labels: Labels, t: TimedSnapshot): void {
    const outcomes: [Outcome, number][] = [['pass', t.runs - t.failures - t.errors], ['failure', t.failures], ['error', t.errors]]
    for (const [outcome, n] of outcomes) bump(runs, { ...labels, outcome }, n)
    if (duration !== undefined) addLatency(duration, labels, t.duration)
  }
}

function family<T>(name: string, help: string, type: Family<T>['type']): Family<T> {
  return { name, help, type, series: new Map() }
}

/** Adds `n` to a series; a series starts at 0 so every outcome shows (a dashboard shows 0, not "no data"). */
function bump(f: Family<number>, labels: Labels, n: number): void {
  const key = keyOf(labels)
  const s = f.series.get(key)
  if (s !== undefined) s.value += n
  else f.series.set(key, { labels, value: n })
}

function addLatency(f: Family<LatencyBuckets>, labels: Labels, delta: TimedSnapshot['duration']): void {
  const key = keyOf(labels)
  let s = f.series.get(key)
  if (s === undefined) {
    s = { labels, value: new LatencyBuckets() }
    f.series.set(key, s)
  }
  if (delta !== '' && delta.length > 0) s.value.addEncoded(delta)
}
