/**
 * The saved result of a run (`--output json:FILE`) and the view the front end draws (live from
 * the dashboard, or embedded in a static report). One shape for both, so the live page and the
 * report can never disagree. Plain data, no Node.js imports: the front end imports these types.
 */
import type { SelectedTest } from '../case/select.js'
import type { ChangeEvent } from '../load/control.js'
import type { Plan } from '../load/plan.js'
import type { Aggregator } from '../stats/aggregator.js'
import type { GeneratorSeries } from '../stats/generator-types.js'
import type { EncodedHistograms, LiveView, NameSeries, RunSummary, SeriesPoint, SourceTotals } from '../stats/types.js'
import type { RunInfo, RunOutcome } from './reporter.js'
import type { ThresholdResult } from './thresholds/judge.js'

export const RESULT_FORMAT = 'loads-result'
export const RESULT_VERSION = 1

/** What the run was: the test, the plan, where it ran. */
export interface RunMeta {
  runId: string
  address: string
  tests: SelectedTest[]
  plan: Plan
  mode: 'local' | 'cluster'
  workers: number
  /** ms since epoch. */
  startMs: number
}

/**
 * `running`; then `finished` (the plan completed), `interrupted` (Ctrl-C, the dashboard's Stop,
 * `POST /api/stop`) or `aborted` (`--abort-on-fail`: a threshold failed for good).
 */
export type RunState = 'running' | 'finished' | 'interrupted' | 'aborted'

/** What the front end draws. */
export interface ReportView {
  run: RunMeta
  state: RunState
  /** Set once the run is over. */
  exitCode?: number
  /** The threshold that stopped the run (`aborted`). */
  abortedBy?: string
  /** The live numbers (rate over the last seconds …) while the run goes. */
  live?: LiveView
  summary: RunSummary
  series: SeriesPoint[]
  /**
   * Each URL name's latency per second, for the latency chart's name picker. In a saved result and
   * a static report; a live page asks the dashboard for the one name picked (`/api/name-series`).
   */
  nameSeries?: NameSeries[]
  /** The generator's health per second, on `series`' time axis (absent from older results). */
  generatorSeries?: GeneratorSeries
  /** Workers, or agents in a cluster run: their own totals and state. */
  sources: SourceTotals[]
  thresholds: ThresholdResult[]
  /** Live changes (scale, pause, resume, stop) with their time; absent when none were made. */
  changes?: ChangeEvent[]
  /** The producer's clock when this view was made (for "last heard from" ages), ms since epoch. */
  nowMs: number
}

/** `--output json:FILE`: everything needed to draw, compare and re-merge a run later. */
export interface RunResult extends Omit<ReportView, 'live' | 'exitCode'> {
  format: typeof RESULT_FORMAT
  version: typeof RESULT_VERSION
  loadsVersion: string
  exitCode: number
  /** The run's merged HDR histograms (µs, V2 encoding in base64): merge them to combine runs exactly. */
  histograms: EncodedHistograms
}

export function runMeta(info: RunInfo): RunMeta {
  return {
    runId: info.runId,
    address: info.address,
    tests: info.tests.map((t) => ({ className: t.className, methodName: t.methodName })),
    plan: { ...info.plan, steps: info.plan.steps.map((s) => ({ ...s })) },
    mode: info.mode,
    workers: info.workers,
    startMs: info.startMs,
  }
}

export function stateOf(outcome: RunOutcome): RunState {
  if (outcome.interrupted) return 'interrupted'
  return outcome.abortedBy !== undefined ? 'aborted' : 'finished'
}

/** The view of a run in progress. */
export function liveView(run: RunMeta, aggregator: Aggregator, thresholds: ThresholdResult[] = [], nowMs = Date.now(), changes: readonly ChangeEvent[] = []): ReportView {
  const summary = aggregator.summary()
  return {
    run,
    state: 'running',
    live: aggregator.latest(nowMs),
    summary,
    series: aggregator.series(),
    ...generatorSeriesOf(aggregator),
    sources: aggregator.sources(),
    thresholds,
    ...changesOf(changes, summary.startMs),
    nowMs,
  }
}

/** The view of a run that is over. */
export function finalView(run: RunMeta, outcome: RunOutcome, aggregator: Aggregator, nowMs = Date.now()): ReportView {
  return {
    run,
    state: stateOf(outcome),
    exitCode: outcome.exitCode,
    ...(outcome.abortedBy !== undefined ? { abortedBy: outcome.abortedBy } : {}),
    summary: outcome.summary,
    series: aggregator.series(),
    ...generatorSeriesOf(aggregator),
    sources: aggregator.sources(),
    thresholds: outcome.thresholds ?? [],
    ...changesOf(outcome.changes ?? [], outcome.summary.startMs),
    nowMs,
  }
}

/** The changes with their second on the series' time axis (one decimal). */
function changesOf(changes: readonly ChangeEvent[], startMs: number): { changes?: ChangeEvent[] } {
  if (changes.length === 0) return {}
  return { changes: changes.map((c) => ({ ...c, t: Math.max(0, Math.round((c.atMs - startMs) / 100) / 10) })) }
}

function generatorSeriesOf(aggregator: Aggregator): { generatorSeries?: GeneratorSeries } {
  const generatorSeries = aggregator.generatorSeries()
  return generatorSeries !== undefined ? { generatorSeries } : {}
}

export function buildResult(run: RunMeta, outcome: RunOutcome, aggregator: Aggregator, loadsVersion: string): RunResult {
  const view = finalView(run, outcome, aggregator, outcome.summary.endMs)
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    loadsVersion,
    ...view,
    nameSeries: aggregator.nameSeries(),
    exitCode: outcome.exitCode,
    histograms: aggregator.encodedHistograms(),
  }
}

/** A saved result as the front end draws it (the histograms stay behind: the page does not need them). */
export function resultView(result: RunResult): ReportView {
  const { format: _f, version: _v, loadsVersion: _l, histograms: _h, ...view } = result
  return view
}
