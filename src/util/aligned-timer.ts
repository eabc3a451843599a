/**
 * A timer that fires at every multiple of its interval on the wall clock (…:01.000, …:02.000 for
 * one second), not one interval after it was started.
 *
 * Why: workers snapshot on it. Every worker of every agent of a run (clocks kept by NTP) then
 * snapshots at the same instants, so a runner merging 100 agents receives their snapshots
 * together once a second, in a few socket reads, instead of one wake-up per agent spread over
 * the second (bench/cluster-merge.mjs: about half the receiving cost), an agent's workers are
 * ready to merge together, and a snapshot covers the same second everywhere.
 */
export interface AlignedTimer {
  stop(): void
}

/**
 * Calls `tick` at each multiple of `intervalMs` of `now()` (the first one may come sooner than
 * `intervalMs`: the first snapshot then covers less than a whole interval). The timer does not
 * keep the process alive.
 */
export function everyAligned(intervalMs: number, tick: () => void, now: () => number = Date.now): AlignedTimer {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const arm = (): void => {
    const t = now()
    // Never sooner than a tenth of the interval: a tick just before a boundary would otherwise
    // be followed by another one at once.
    let wait = intervalMs - (t % intervalMs)
    if (wait < intervalMs / 10) wait += intervalMs
    timer = setTimeout(fire, wait)
    timer.unref()
  }
  const fire = (): void => {
    if (stopped) return
    tick()
    arm()
  }
  arm()
  return {
    stop(): void {
      stopped = true
      clearTimeout(timer)
    },
  }
}
