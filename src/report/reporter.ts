import type { SelectedTest } from '../case/select.js'
import type { ChangeEvent } from '../load/control.js'
import type { Plan } from '../load/plan.js'
import type { Aggregator } from '../stats/aggregator.js'
import type { RunSummary, Snapshot } from '../stats/types.js'
import type { ThresholdResult } from './thresholds/judge.js'

/** What a run is, told to every output when it starts. */
export interface RunInfo {
  runId: string
  /** The test address as the user typed it. */
  address: string
  tests: SelectedTest[]
  plan: Plan
  /** `local` (worker threads) or `cluster` (agents over NATS). */
  mode: 'local' | 'cluster'
  workers: number
  startMs: number
}

/** How a run ended, told to every output at the end. */
export interface RunOutcome {
  summary: RunSummary
  exitCode: number
  interrupted: boolean
  /** Lines an output may add under the summary (per-agent state, thresholds …). */
  notes: string[]
  /** Each `--threshold`'s verdict on the merged results (none given: empty or absent). */
  thresholds?: ThresholdResult[]
  /** The threshold that stopped the run early (`--abort-on-fail`), as the user wrote it. */
  abortedBy?: string
  /** Live changes made while the run went (scale, pause, resume, stop), in order. */
  changes?: ChangeEvent[]
}

/**
 * An output: it only reads. Hooks are optional and must not block the engine; the aggregator
 * passed to `onSnapshot` is for reading the merged state, never for changing it.
 */
export interface Reporter {
  onRunStart?(info: RunInfo): void | Promise<void>
  onStep?(index: number): void
  /** A live change was applied (docs/live-control.md). */
  onChange?(event: ChangeEvent): void
  onSnapshot?(snapshot: Snapshot, aggregator: Aggregator): void
  onRunEnd?(outcome: RunOutcome, aggregator: Aggregator): void | Promise<void>
}
