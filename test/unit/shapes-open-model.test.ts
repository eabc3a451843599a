import { describe, expect, it } from 'vitest'
import { arrivalsInStep, runOpenStep, workerArrivals } from '../../src/load/open-model.js'

describe('the open model schedule', () => {
  it('counts the arrivals due before the step ends, and shares them across workers exactly', () => {
    expect(arrivalsInStep(200, 10_000)).toBe(2000)
    expect(arrivalsInStep(3, 1000)).toBe(3)
    expect(arrivalsInStep(0.5, 10_000)).toBe(5)
    for (const workers of [1, 2, 3, 7]) {
      const shares = Array.from({ length: workers }, (_, w) => workerArrivals(2000, w, workers))
      expect(shares.reduce((a, b) => a + b, 0)).toBe(2000)
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1)
    }
    expect(workerArrivals(1, 1, 2)).toBe(0)
  })

  it('starts each of its arrivals at its time on a simulated clock, interleaved with the other workers', async () => {
    let clock = 0
    const starts: { at: number; lag: number }[] = []
    const result = await runOpenStep(
      { rate: 100, durationMs: 100, worker: 1, workers: 2, capacity: 1 },
      {
        createUser: (i) => i,
        run: (_user, lagMs) => {
          starts.push({ at: clock, lag: lagMs })
          return Promise.resolve()
        },
        onBusy: () => {},
        now: () => clock,
        stopping: () => false,
        timer: (ms) => {
          clock += ms
          return { done: Promise.resolve(), cancel: () => {} }
        },
      },
    )
    // Global arrivals at 0, 10 … 90 ms; worker 1 of 2 takes 10, 30, 50, 70, 90.
    expect(starts.map((s) => s.at)).toEqual([10, 30, 50, 70, 90])
    expect(starts.every((s) => s.lag === 0)).toBe(true)
    expect(result).toMatchObject({ started: 5, dropped: 0, users: [0] })
  })

  it('makes a start wait for a busy user and counts its lag from when it was due', async () => {
    let clock = 0
    const lags: number[] = []
    let release: (() => void) | undefined
    const result = await runOpenStep(
      { rate: 100, durationMs: 50, worker: 0, workers: 1, capacity: 1 },
      {
        createUser: (i) => i,
        // The first run holds its user until the clock passes 25 ms; the others are instant.
        run: (_user, lagMs) => {
          lags.push(lagMs)
          return lags.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
        },
        onBusy: () => {},
        now: () => clock,
        stopping: () => false,
        // A sleep ends after the microtasks of this turn (clock advanced), unless cancelled first
        // (a freed user), as real timers would.
        timer: (ms) => {
          let cancel = (): void => {}
          const done = new Promise<void>((resolve) => {
            let cancelled = false
            cancel = () => {
              cancelled = true
              resolve()
            }
            setImmediate(() => {
              if (cancelled) return
              clock += ms
              if (clock >= 25 && release) {
                release()
                release = undefined
              }
              resolve()
            })
          })
          return { done, cancel }
        },
      },
    )
    expect(result.started + result.dropped).toBe(5)
    expect(result.dropped).toBe(0)
    // Due at 10 and 20, started when the user came back at 30: 20 and 10 ms late; then on time.
    expect(lags).toEqual([0, 20, 10, 0, 0])
  })
})
