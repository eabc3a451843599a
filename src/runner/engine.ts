import type { ChangedBy, ChangeEvent, EngineChange, RunChange } from '../load/control.js'
import type { Plan } from '../load/plan.js'
import type { RunConfig } from '../load/run-config.js'
import type { Snapshot, Undelivered, Unfinished } from '../stats/types.js'
import type { PreparedTest } from './prepare-test.js'

/**
 * What drives the load for the coordinator: worker threads of this machine (LocalEngine) or
 * agents over NATS (the cluster). Both feed the same snapshots to the same merge.
 */
export interface Engine {
  /** Runs the whole plan; resolves once every source sent its final snapshot (or was given up). */
  run(): Promise<void>
  /** Graceful stop: no new test runs, results so far kept. */
  stop(): void
  /**
   * A change to the run in progress (live control): `users` / `rate` as the whole engine's total
   * for the step running now, which the engine splits over its workers or agents exactly.
   */
  control?(change: EngineChange): void
  /**
   * Sources (worker threads, agents) still running that have not yet said the latest pause or
   * resume is in force: 0 once every one has. Until then a pause is "pausing": runs may still start.
   */
  pausePending?(): number
  /** A live change as the coordinator recorded it (after `control`, or for a stop before `stop`): a cluster stores it in the run's stream. */
  recordChange?(event: ChangeEvent): void
  /** Lines for the summary (per-agent state …), asked once the run is over. */
  notes?(): string[]
  /** An exit code that overrides the tests' (e.g. PARTIAL when agents were lost). */
  exitCode?(): number | undefined
  /** True when the run was stopped from outside this runner (e.g. `--purge-broker`): exit 130. */
  interrupted?(): boolean
}

/** What an engine is built from. */
export interface EngineContext {
  /** The run's id (RunInfo.runId): a cluster run is stored and attached to under it. */
  runId: string
  prepared: PreparedTest
  config: RunConfig
  plan: Plan
  /** Worker threads per machine. */
  workers: number
  /** The environment local worker threads start from (`RunIO.env`); `process.env` when absent. */
  workerEnv?: NodeJS.ProcessEnv
  onSnapshot(snapshot: Snapshot): void
  onStep(index: number): void
  /** A cluster agent finished saying what it counted but could not deliver (by its source id). */
  onUndelivered?(source: string, undelivered: Undelivered): void
  /**
   * Once the run is over (before the summary): a cluster agent whose final snapshot never came,
   * and why — every one, including an agent none of whose snapshots arrived.
   */
  onUnfinished?(source: string, unfinished: Unfinished): void
  /**
   * Live control from outside this process (a cluster run's `loads ctl --run`, `--attach`
   * sessions): checks, applies and records a change as the dashboard's API would, or throws a
   * ControlError saying why not.
   */
  applyChange?(change: RunChange, by: ChangedBy): ChangeEvent
}

export type EngineFactory = (context: EngineContext) => Engine | Promise<Engine>
