/**
 * Timers a worker's users wait on (ramp-up delays, think times, the arrival schedule), all woken
 * at once when the run is stopped, so a stop never waits for a sleep to run out.
 */
export class Sleeper {
  readonly #pending = new Map<NodeJS.Timeout, () => void>()
  #woken = false

  /** Resolves after `ms` (at once for ms ≤ 0), or as soon as `wakeAll()` is called. */
  sleep(ms: number): Promise<void> {
    return this.timer(ms).done
  }

  /** A sleep that can also be ended early by its owner (`cancel` resolves `done` now). */
  timer(ms: number): { done: Promise<void>; cancel(): void } {
    if (this.#woken || !(ms > 0)) return { done: Promise.resolve(), cancel: () => {} }
    let cancel = (): void => {}
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(timer)
        resolve()
      }, ms)
      this.#pending.set(timer, resolve)
      cancel = () => {
        clearTimeout(timer)
        this.#pending.delete(timer)
        resolve()
      }
    })
    return { done, cancel }
  }

  /** Ends every sleep now and every later one at once: the engine is stopping. */
  wakeAll(): void {
    this.#woken = true
    for (const [timer, resolve] of this.#pending) {
      clearTimeout(timer)
      resolve()
    }
    this.#pending.clear()
  }
}
