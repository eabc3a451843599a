/**
 * The open model (`--rate`): test runs start on a fixed schedule, whatever the responses do. The
 * step's arrivals are numbered k = 0, 1, 2 … at k·1000/rate ms; worker w of W takes the arrivals
 * k ≡ w (mod W), so the workers together follow one schedule exactly. A run due while every user
 * of the worker's pool is busy waits for one, and its latency counts from when it was due (the
 * coordinated-omission correction wrk2 makes); a run still waiting when the step's time is up was
 * dropped, and is counted.
 */

/** Global arrivals of a step: those due before `durationMs`. */
export function arrivalsInStep(rate: number, durationMs: number): number {
  // k·1000/rate < durationMs; the epsilon keeps 200/s × 10 s at exactly 2000.
  return Math.max(0, Math.ceil((durationMs * rate) / 1000 - 1e-9))
}

/** How many of `total` arrivals worker `worker` of `workers` takes. */
export function workerArrivals(total: number, worker: number, workers: number): number {
  return total > worker ? Math.floor((total - 1 - worker) / workers) + 1 : 0
}

export interface OpenStep {
  rate: number
  durationMs: number
  /** This worker's part of the schedule. */
  worker: number
  workers: number
  /** This worker's users (its share of `--max-users`). */
  capacity: number
}

/**
 * Live changes to a running open step (docs/live-control.md), made by the engine: a new rate (a
 * new schedule from now on, this worker taking arrivals offset, offset + stride …), pause (the
 * queue of arrivals due is dropped, none start until resumed) and resume (the schedule starts
 * again from then).
 */
export class OpenControl {
  /** Set by a change; read once by the step's loop. */
  next: { rate: number; offset: number; stride: number } | undefined
  paused = false
  /** Wakes the step's loop to look at a change (set by the loop while it sleeps). */
  wake: (() => void) | undefined

  setRate(rate: number, offset: number, stride: number): void {
    this.next = { rate, offset, stride }
    this.wake?.()
  }

  setPaused(paused: boolean): void {
    this.paused = paused
    this.wake?.()
  }
}

/** A stretch of the schedule at one rate: this worker's arrivals j = 0, 1 … are due at `dueAt(j)`. */
interface Segment {
  startMs: number
  intervalMs: number
  offset: number
  stride: number
}

const dueIn = (seg: Segment, j: number): number => seg.startMs + (seg.offset + j * seg.stride) * seg.intervalMs

export interface OpenStepHooks<U> {
  /** A new user for the pool (0-based index in this worker's pool); called only when none is idle. */
  createUser(poolIndex: number): U
  /** Runs one test run on `user`, which started `lagMs` after it was due. Must not reject. */
  run(user: U, lagMs: number): Promise<void>
  /** Runs in flight changed (a gauge). */
  onBusy(busy: number): void
  /** Clock in ms (performance.now). */
  now(): number
  /** True once the engine is stopping: no more starts. */
  stopping(): boolean
  /** Waits `ms` (see Sleeper.timer): `cancel` ends it early; it ends at once when the engine stops. */
  timer(ms: number): { done: Promise<void>; cancel(): void }
}

export interface OpenStepResult<U> {
  started: number
  /** Due but never started: no user was free before the step's time was up (or the run was paused). */
  dropped: number
  /** Every user the pool created, for the caller to close. */
  users: U[]
}

/** Runs this worker's arrivals of one step; resolves once the last run it started has ended. */
export async function runOpenStep<U>(step: OpenStep, hooks: OpenStepHooks<U>, control = new OpenControl()): Promise<OpenStepResult<U>> {
  let seg: Segment = { startMs: 0, intervalMs: 1000 / step.rate, offset: step.worker, stride: step.workers }
  // Arrivals due and not yet started, oldest first, as ranges [from, to) of a segment's arrivals.
  const queue: { seg: Segment; from: number; to: number }[] = []
  let next = 0
  const users: U[] = []
  const idle: U[] = []
  const running = new Set<Promise<void>>()
  let started = 0
  let dropped = 0
  const startMs = hooks.now()
  const queued = (): number => queue.reduce((n, r) => n + r.to - r.from, 0)

  const take = (): U | undefined => {
    const user = idle.pop()
    if (user !== undefined || users.length >= step.capacity) return user
    const created = hooks.createUser(users.length)
    users.push(created)
    return created
  }

  while (!hooks.stopping()) {
    const now = hooks.now() - startMs
    const change = control.next
    if (change !== undefined) {
      control.next = undefined
      seg = { startMs: now, intervalMs: 1000 / change.rate, offset: change.offset, stride: change.stride }
      next = 0
    }
    if (control.paused) {
      if (now >= step.durationMs) break
      dropped += queued()
      queue.length = 0
      const timer = hooks.timer(step.durationMs - now)
      control.wake = timer.cancel
      await timer.done
      control.wake = undefined
      // Resumed: the schedule starts again from now.
      if (!control.paused) {
        seg = { ...seg, startMs: hooks.now() - startMs }
        next = 0
      }
      continue
    }
    const from = next
    while (dueIn(seg, next) <= now && dueIn(seg, next) < step.durationMs) next++
    if (next > from) {
      const last = queue.at(-1)
      if (last !== undefined && last.seg === seg && last.to === from) last.to = next
      else queue.push({ seg, from, to: next })
    }
    // Oldest first.
    while (queue.length > 0) {
      const user = take()
      if (user === undefined) break
      const range = queue[0]!
      const lagMs = Math.max(0, now - dueIn(range.seg, range.from))
      if (++range.from === range.to) queue.shift()
      started++
      const run: Promise<void> = hooks.run(user, lagMs).finally(() => {
        running.delete(run)
        idle.push(user)
        hooks.onBusy(running.size)
        if (queue.length > 0) control.wake?.()
      })
      running.add(run)
      hooks.onBusy(running.size)
    }
    // Arrivals due before the end were queued above (a late wake-up loses none): the rest is dropped.
    if (now >= step.durationMs) break
    // Sleep until the next arrival is due (or the step ends); a freed user wakes a waiting queue,
    // a change wakes it too.
    const untilMs = Math.min(dueIn(seg, next), step.durationMs) - now
    const timer = hooks.timer(untilMs)
    control.wake = timer.cancel
    await timer.done
    control.wake = undefined
  }
  dropped += queued()
  await Promise.all(running)
  return { started, dropped, users }
}
