/**
 * The coordinator's side of live control: checks a change against the step running now, hands it
 * to the engine (which splits it over workers or agents), and records it as an event with its time
 * for every output: the page, the JSON result, the static report's chart marks.
 */
import type { ChangeEvent, ChangedBy, RunChange } from '../load/control.js'
import type { Plan } from '../load/plan.js'
import type { Reporter } from '../report/reporter.js'
import type { Engine } from './engine.js'
import { ControlError, type ControlTarget } from './live-control.js'

export class RunChanges implements ControlTarget {
  /** Every change applied, in order. */
  readonly events: ChangeEvent[] = []
  #step = 0
  #paused = false
  #over = false

  constructor(
    private readonly plan: Plan,
    private readonly engine: Engine,
    private readonly reporters: readonly Reporter[],
    /** A stop asked through live control: the run ends as after Ctrl-C. */
    private readonly onStop: () => void,
  ) {}

  /** The coordinator started step `index`. */
  step(index: number): void {
    this.#step = index
  }

  /** The run is over: later changes are refused. */
  end(): void {
    this.#over = true
  }

  paused(): boolean {
    return this.#paused
  }

  pausePending(): number {
    return this.engine.pausePending?.() ?? 0
  }

  apply(change: RunChange, by: ChangedBy): ChangeEvent {
    if (this.#over) throw new ControlError('the run is over')
    if (change.action !== 'stop' && this.engine.control === undefined) throw new ControlError('this run cannot be changed while it goes (its engine takes no live control)')
    checkChange(change, this.plan, this.#step, this.#paused)
    switch (change.action) {
      case 'scale':
        this.engine.control!('users' in change ? { users: change.users } : { rate: change.rate, offset: 0, stride: 1 })
        break
      case 'pause':
        this.#paused = true
        this.engine.control!({ pause: true })
        break
      case 'resume':
        this.#paused = false
        this.engine.control!({ resume: true })
        break
      case 'stop':
        break
    }
    const event: ChangeEvent = { ...change, atMs: Date.now(), by, step: this.#step }
    this.events.push(event)
    this.engine.recordChange?.(event)
    for (const r of this.reporters) r.onChange?.(event)
    if (change.action === 'stop') this.onStop()
    return event
  }
}

/**
 * Whether `change` applies to a run at plan step `stepIndex`, paused or not: throws a
 * ControlError saying why not. The same rule wherever a run is controlled from (its runner, or
 * `loads ctl --run` for a cluster run no runner follows).
 */
export function checkChange(change: RunChange, plan: Plan, stepIndex: number, paused: boolean): void {
  if (change.action === 'stop') return
  const step = plan.steps[stepIndex]
  if (change.action === 'scale' && plan.scenarios !== undefined) {
    throw new ControlError('a run of scenarios has no single step to scale (live scaling per scenario is not there yet); pause, resume and stop work', 409)
  }
  if (change.action === 'scale' && step !== undefined) {
    const open = step.rate !== undefined
    if ('users' in change && open) throw new ControlError('the step running now is in the open model (--rate): scale its rate, {"rate": R}', 409, 'loads ctl scale --rate 50')
    if ('rate' in change && !open) throw new ControlError('the step running now is in the closed model (-u): scale its users, {"users": N}', 409, 'loads ctl scale 200')
  }
  if (change.action === 'pause' && paused) throw new ControlError('the run is paused already')
  if (change.action === 'resume' && !paused) throw new ControlError('the run is not paused')
}
