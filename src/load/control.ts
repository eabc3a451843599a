/**
 * Live control of a run in progress: the changes a user may make (scale, pause, resume, stop),
 * who made them, and each engine's share of a new count. One message type from the coordinator
 * to its engines, the same for worker threads and cluster agents; the dashboard, the HTTP API
 * and `loads ctl` only send it. Plain data: the front end imports these types.
 */

/** A change asked of a running run. `users` applies to the closed model, `rate` to the open one. */
export type RunChange =
  | { action: 'scale'; users: number }
  | { action: 'scale'; rate: number }
  | { action: 'pause' }
  | { action: 'resume' }
  | { action: 'stop' }

/** Who asked: the dashboard page, the HTTP API (curl …), `loads ctl`, or an `--attach` session. */
export type ChangedBy = 'page' | 'api' | 'cli' | 'attach'

/** A change as the run records it: in the page, the JSON result and the static report. */
export type ChangeEvent = RunChange & {
  /** When the coordinator applied it, ms since epoch. */
  atMs: number
  /** Seconds since the run started, on the series' time axis (set when a view is made). */
  t?: number
  by: ChangedBy
  /** The plan step that was running (index into plan.steps). */
  step: number
}

/**
 * What one engine (a worker thread, an agent) is told: its own share, already split.
 * `rate` comes with the engine's place in the arrival schedule: it starts arrivals
 * k = offset, offset + stride, … of the global schedule at `rate` runs per second.
 */
export type EngineChange =
  | { users: number }
  | { rate: number; offset: number; stride: number }
  | { pause: true }
  | { resume: true }

/** Most users a change may ask for (as `-u`). */
export const MAX_CONTROL_USERS = 10_000_000
/** Highest rate a change may ask for, runs per second (as `--rate`). */
export const MAX_CONTROL_RATE = 1_000_000

/**
 * Checks a change received from outside (a JSON body, a command line): a message for the user
 * when it is not one, else the change.
 */
export function parseChange(action: string, body: unknown): RunChange | string {
  switch (action) {
    case 'pause':
    case 'resume':
    case 'stop':
      return { action }
    case 'scale': {
      const b = (typeof body === 'object' && body !== null ? body : {}) as { users?: unknown; rate?: unknown }
      if ((b.users === undefined) === (b.rate === undefined)) return 'scale needs {"users": N} (closed model) or {"rate": R} (open model), one of them'
      if (b.users !== undefined) {
        const n = b.users
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_CONTROL_USERS) return `users must be a whole number from 0 to ${MAX_CONTROL_USERS}: got ${JSON.stringify(n)}`
        return { action, users: n }
      }
      const r = b.rate
      if (typeof r !== 'number' || !(r > 0) || r > MAX_CONTROL_RATE) return `rate must be a number of runs per second above 0, at most ${MAX_CONTROL_RATE}: got ${JSON.stringify(r)}`
      return { action, rate: r }
    }
    default:
      return `no action ${JSON.stringify(action)}: scale, pause, resume or stop`
  }
}

/** "200 users", "50 runs/s", "paused" … as the plan line and the page say it. */
export function describeChange(change: RunChange): string {
  switch (change.action) {
    case 'scale':
      return 'users' in change ? `${change.users} user${change.users === 1 ? '' : 's'}` : `${change.rate} runs/s`
    case 'pause':
      return 'paused'
    case 'resume':
      return 'resumed'
    case 'stop':
      return 'stopped'
  }
}

const BY: Record<ChangedBy, string> = { page: 'the page', api: 'the API', cli: 'the CLI', attach: 'an --attach session' }

/** "changed at 00:42 to 200 users by the page": `elapsedMs` since the run started. */
export function describeChangeEvent(event: ChangeEvent, elapsedMs: number): string {
  const s = Math.max(0, Math.floor(elapsedMs / 1000))
  const at = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
  const what = event.action === 'scale' ? `changed at ${at} to ${describeChange(event)}` : `${describeChange(event)} at ${at}`
  return `${what} by ${BY[event.by]}`
}

/**
 * A step's plan as changed live, for the plan line of the console, the page and the static
 * report: `10 users for 1m, changed at 00:42 to 200 users by the page` (the step's last scale),
 * then `, paused at 01:10 by the CLI` while paused, or `, stopped at 01:20 by the API`.
 * `planned` is the step as planned (describeStep); `startMs` the run's start.
 */
export function describeChangedStep(planned: string, changes: readonly ChangeEvent[], stepIndex: number, startMs: number): string {
  const scale = changes.findLast((c) => c.action === 'scale' && c.step === stepIndex)
  const state = changes.findLast((c) => c.action !== 'scale')
  const parts = [planned]
  if (scale !== undefined) parts.push(describeChangeEvent(scale, scale.atMs - startMs))
  if (state !== undefined && state.action !== 'resume') parts.push(describeChangeEvent(state, state.atMs - startMs))
  return parts.join(', ')
}
