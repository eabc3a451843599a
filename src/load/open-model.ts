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
  /** Due but never started: no user was free before the step's time was up. */
  dropped: number
  /** Every user the pool created, for the caller to close. */
  users: U[]
}

/** Runs this worker's arrivals of one step; resolves once the last run it started has ended. */
export async function runOpenStep<U>(step: OpenStep, hooks: OpenStepHooks<U>): Promise<OpenStepResult<U>> {
  const mine = workerArrivals(arrivalsInStep(step.rate, step.durationMs), step.worker, step.workers)
  const intervalMs = 1000 / step.rate
  const dueAt = (j: number): number => (step.worker + j * step.workers) * intervalMs
  const users: U[] = []
  const idle: U[] = []
  const running = new Set<Promise<void>>()
  let due = 0
  let started = 0
  let freed: (() => void) | undefined
  const startMs = hooks.now()

  const take = (): U | undefined => {
    const user = idle.pop()
    if (user !== undefined || users.length >= step.capacity) return user
    const created = hooks.createUser(users.length)
    users.push(created)
    return created
  }

  while (!hooks.stopping()) {
    const now = hooks.now() - startMs
    while (due < mine && dueAt(due) <= now) due++
    // Oldest first: the queue is the arrivals [started, due).
    while (started < due) {
      const user = take()
      if (user === undefined) break
      const lagMs = Math.max(0, now - dueAt(started))
      started++
      const run: Promise<void> = hooks.run(user, lagMs).finally(() => {
        running.delete(run)
        idle.push(user)
        hooks.onBusy(running.size)
        freed?.()
      })
      running.add(run)
      hooks.onBusy(running.size)
    }
    if (started >= mine || now >= step.durationMs) break
    // Sleep until the next arrival is due (or the step ends); a freed user wakes a waiting queue.
    const untilMs = (due < mine ? dueAt(due) : step.durationMs) - now
    const timer = hooks.timer(untilMs)
    if (started < due) freed = timer.cancel
    await timer.done
    freed = undefined
  }
  const dropped = due - started
  await Promise.all(running)
  return { started, dropped, users }
}
