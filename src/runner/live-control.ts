/**
 * The handle through which the dashboard, its HTTP API and `loads ctl` change a run in progress
 * (docs/live-control.md). The coordinator binds it to its run while the run goes; the callers only
 * send changes: checking them, splitting them and recording them is the coordinator's.
 */
import { LoadsError } from '../errors.js'
import type { ChangeEvent, ChangedBy, RunChange } from '../load/control.js'

/** A change refused: no run in progress, or one it does not apply to (`status`: the HTTP answer). */
export class ControlError extends LoadsError {
  constructor(
    message: string,
    readonly status: 400 | 409 = 409,
    hint?: string,
  ) {
    super('LOADS_ERR_CONTROL', message, { hint })
    this.name = 'ControlError'
  }
}

/**
 * What a bound run does with a change: applies and records it (or throws a ControlError). A run
 * followed from elsewhere (`--attach`) answers once its controller did: a promise.
 */
export interface ControlTarget {
  apply(change: RunChange, by: ChangedBy): ChangeEvent | Promise<ChangeEvent>
  /** Paused now. */
  paused(): boolean
  /**
   * Sources (worker threads, agents) that have not yet said the latest pause or resume is in
   * force; absent where nobody can tell (a run followed with `--attach`).
   */
  pausePending?(): number
}

/**
 * Where a run is with pause and resume: `pausing` until every worker (every agent) said the pause
 * is in force, then `paused` (no test run starts any more); `resuming`, then `running`.
 */
export type PauseState = 'running' | 'pausing' | 'paused' | 'resuming'

export class LiveControl {
  #target: ControlTarget | undefined

  /** Called by the coordinator when its run starts (and with undefined when it ends). */
  bind(target: ControlTarget | undefined): void {
    this.#target = target
  }

  /** True while a run is bound. */
  get running(): boolean {
    return this.#target !== undefined
  }

  get paused(): boolean {
    return this.#target?.paused() ?? false
  }

  /** Sources that have not yet applied the latest pause or resume (0 once every one has). */
  get pausePending(): number {
    return this.#target?.pausePending?.() ?? 0
  }

  get pauseState(): PauseState {
    const pending = this.pausePending > 0
    return this.paused ? (pending ? 'pausing' : 'paused') : pending ? 'resuming' : 'running'
  }

  /** Applies a change to the run in progress; throws (or rejects with) a ControlError when there is none. */
  apply(change: RunChange, by: ChangedBy): ChangeEvent | Promise<ChangeEvent> {
    if (this.#target === undefined) throw new ControlError('no run in progress to change')
    return this.#target.apply(change, by)
  }
}
