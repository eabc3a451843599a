/**
 * One worker's part of a closed-model step whose number of users can change while it runs
 * (live control: docs/live-control.md). Scaling up starts users, spaced at the step's ramp-up
 * rate when it has one; scaling down retires the newest users: each ends after its current run,
 * and one still running `graceMs` later is cut (its run counted as Interrupted, never as a
 * failure). A duration step stays open until its deadline even with no user left, so it can be
 * scaled up again; a step of runs per user (-c) ends when its last user has made its runs.
 */

/** One user's place in the step. */
export interface Seat {
  /** This worker's user number in the step (0, 1 …): the step's user `worker + slot × workers`. */
  slot: number
  /** Set by a scale-down: the user ends after its current run. */
  retired: boolean
  /** Ends what the user waits on now (ramp-up delay, think time, pause): set by the user. */
  wake?: (() => void) | undefined
  /** Cuts the user's run in progress (the grace period is over): set by the user while it runs. */
  cut?: (() => void) | undefined
}

export interface ClosedStepShape {
  /** This worker's users at the start. */
  users: number
  worker: number
  workers: number
  /** The step's users over all workers (for ramp-up spacing). */
  total: number
  rampUpMs?: number | undefined
  /** ms since epoch when the step ends (duration steps), else Infinity. */
  deadline: number
}

export interface ClosedStepHooks {
  /** Runs one user to its end (runs made, deadline, retired or stopping); must not reject for a test's sake. */
  runUser(seat: Seat, startInMs: number): Promise<void>
  /** Waits `ms`, or less once the engine stops (see Sleeper.timer). */
  sleep(ms: number): Promise<void>
  stopping(): boolean
}

export class ClosedStep {
  readonly #seats: Seat[] = []
  readonly #running = new Set<Promise<void>>()
  readonly #cuts = new Set<NodeJS.Timeout>()
  #nextSlot = 0
  #failure: unknown

  constructor(
    private readonly shape: ClosedStepShape,
    private readonly hooks: ClosedStepHooks,
    private readonly graceMs: number,
  ) {}

  /** Users running now (not retired). */
  get users(): number {
    return this.#seats.filter((s) => !s.retired).length
  }

  /** Starts the step's users and resolves when the step is over for this worker. */
  async run(): Promise<void> {
    const { users, worker, workers, total, rampUpMs } = this.shape
    try {
      for (let i = 0; i < users && !this.hooks.stopping(); i++) {
        const startInMs = rampUpMs !== undefined ? ((worker + i * workers) * rampUpMs) / total : 0
        this.#start(startInMs)
        // Users without a ramp-up start together, but not in one synchronous loop: the event loop
        // turns between two starts, so a user's connect completes and its request leaves before the
        // next users are set up (else their first request waits for every other user's set-up).
        if (startInMs === 0 && i + 1 < users) await new Promise<void>((resolve) => setImmediate(resolve))
      }
      for (;;) {
        while (this.#running.size > 0) await Promise.all([...this.#running])
        const leftMs = this.shape.deadline - Date.now()
        if (this.hooks.stopping() || !(leftMs > 0) || this.shape.deadline === Infinity) break
        // A duration step with no user left waits for its end: it may be scaled up meanwhile.
        await this.hooks.sleep(Math.min(leftMs, 250))
      }
    } finally {
      for (const t of this.#cuts) clearTimeout(t)
    }
    if (this.#failure !== undefined) throw this.#failure
  }

  /** Sets this worker's users to `n`: starts new ones or retires the newest. */
  scale(n: number): void {
    if (this.hooks.stopping()) return
    const live = this.#seats.filter((s) => !s.retired)
    if (n > live.length) {
      const { rampUpMs, worker, workers, total } = this.shape
      // At the step's ramp-up rate: the step's users over its ramp-up, this worker's share of it.
      const spacingMs = rampUpMs !== undefined && total > 0 ? (rampUpMs * workers) / total : 0
      const offsetMs = rampUpMs !== undefined && total > 0 ? (worker * rampUpMs) / total : 0
      for (let k = 0; k < n - live.length; k++) this.#start(spacingMs > 0 ? offsetMs + k * spacingMs : 0)
      return
    }
    for (const seat of live.slice(n).reverse()) {
      seat.retired = true
      seat.wake?.()
      const timer = setTimeout(() => {
        this.#cuts.delete(timer)
        seat.cut?.()
      }, this.graceMs)
      this.#cuts.add(timer)
    }
  }

  #start(startInMs: number): void {
    const seat: Seat = { slot: this.#nextSlot++, retired: false }
    this.#seats.push(seat)
    const run = this.hooks
      .runUser(seat, startInMs)
      .catch((err: unknown) => {
        this.#failure ??= err
      })
      .finally(() => {
        this.#running.delete(run)
        const i = this.#seats.indexOf(seat)
        if (i >= 0) this.#seats.splice(i, 1)
      })
    this.#running.add(run)
  }
}
