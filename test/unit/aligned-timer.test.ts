import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { everyAligned } from '../../src/util/aligned-timer.js'

describe('everyAligned: ticks on the wall clock’s whole intervals', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('fires at each multiple of the interval, whenever it was started', () => {
    vi.setSystemTime(1_000_000_370)
    const at: number[] = []
    const timer = everyAligned(1000, () => at.push(Date.now()))
    vi.advanceTimersByTime(3500) // to …3.870
    timer.stop()
    expect(at).toEqual([1_000_001_000, 1_000_002_000, 1_000_003_000])
    vi.advanceTimersByTime(5000)
    expect(at).toHaveLength(3)
  })

  it('started just before a boundary, skips it rather than tick twice in a row', () => {
    vi.setSystemTime(2_000_000_960)
    const at: number[] = []
    const timer = everyAligned(1000, () => at.push(Date.now()))
    vi.advanceTimersByTime(2100)
    timer.stop()
    expect(at).toEqual([2_000_002_000, 2_000_003_000])
  })

  it('a late tick does not shift the next ones', () => {
    vi.setSystemTime(3_000_000_000)
    const at: number[] = []
    const timer = everyAligned(500, () => {
      at.push(Date.now())
      if (at.length === 1) vi.setSystemTime(Date.now() + 180) // the tick's work took 180 ms
    })
    vi.advanceTimersByTime(1600)
    timer.stop()
    expect(at).toEqual([3_000_000_500, 3_000_001_000, 3_000_001_500])
  })
})
