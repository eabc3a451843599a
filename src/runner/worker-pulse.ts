/**
 * Shared memory between a worker thread and its engine: a heartbeat the worker's event loop
 * bumps, and how many test runs of each selected test are in progress. The engine reads both
 * without the worker's help, so it can tell a worker stuck in synchronous code (the beat stops)
 * and count the runs it cuts when it ends such a worker — or one that crashed.
 */

/** How often a worker's event loop bumps its heartbeat, ms. */
export const PULSE_MS = 250

/** Slot 0: the heartbeat; slot 1 + i: runs of `config.tests[i]` in progress. */
export class WorkerPulse {
  readonly buffer: SharedArrayBuffer
  readonly #slots: Int32Array

  /** @param tests the number of selected tests (`config.tests.length`). */
  constructor(tests: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(4 * (1 + tests))
    this.#slots = new Int32Array(this.buffer)
  }

  /** Worker side: the event loop turned. */
  beat(): void {
    Atomics.add(this.#slots, 0, 1)
  }

  /** Worker side: a run of test `i` started / ended. */
  runStarted(i: number): void {
    Atomics.add(this.#slots, 1 + i, 1)
  }

  runEnded(i: number): void {
    Atomics.sub(this.#slots, 1 + i, 1)
  }

  /** Engine side: the heartbeat counter (it changes while the worker's event loop turns). */
  beats(): number {
    return Atomics.load(this.#slots, 0)
  }

  /** Engine side: runs in progress, per test index. */
  inFlight(): number[] {
    const runs: number[] = []
    for (let i = 1; i < this.#slots.length; i++) runs.push(Math.max(0, Atomics.load(this.#slots, i)))
    return runs
  }
}
