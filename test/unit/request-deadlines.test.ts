import { describe, expect, it } from 'vitest'
import { DeadlineList, type DeadlineEntry } from '../../src/http/request-deadlines.js'

/** A request stand-in that notes when its deadline was reported passed (performance.now()). */
function entry(log: Array<[string, number]>, name: string): DeadlineEntry {
  return {
    deadlineMs: 0,
    deadlineList: null,
    deadlinePrev: null,
    deadlineNext: null,
    deadlinePassed() {
      log.push([name, performance.now()])
    },
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('request deadlines: one timer per timeout length', () => {
  it('fails each request at its own deadline, never before it, and only those not done', async () => {
    const list = new DeadlineList(100)
    const log: Array<[string, number]> = []
    const a = entry(log, 'a')
    const b = entry(log, 'b')
    const c = entry(log, 'c')
    list.add(a, performance.now())
    await sleep(30)
    list.add(b, performance.now())
    await sleep(30)
    list.add(c, performance.now())
    // a finishes: the timer armed for a's deadline fires early for b and is armed again.
    list.remove(a)
    await sleep(1000)
    expect(log.map(([name]) => name)).toEqual(['b', 'c'])
    const [, bAt] = log[0]!
    const [, cAt] = log[1]!
    // Never early (the list compares against performance.now()); late only by the loop's delay.
    expect(bAt).toBeGreaterThanOrEqual(b.deadlineMs)
    expect(cAt).toBeGreaterThanOrEqual(c.deadlineMs)
    expect(b.deadlineList).toBeNull()
    expect(list.armedFor).toBeNull()
  })

  it('clears its timer when the last request leaves, so nothing keeps the process alive', () => {
    const list = new DeadlineList(30_000)
    const log: Array<[string, number]> = []
    const a = entry(log, 'a')
    const b = entry(log, 'b')
    const now = performance.now()
    list.add(a, now)
    list.add(b, now + 1)
    expect(list.armedFor).toBe(now + 30_000)
    list.remove(b)
    expect(list.armedFor).toBe(now + 30_000)
    list.remove(a)
    expect(list.armedFor).toBeNull()
    expect(a.deadlineList).toBeNull()
    expect(log).toEqual([])
  })

  it('a request sent again (a redirect hop) goes to the end with a new deadline', async () => {
    const list = new DeadlineList(80)
    const log: Array<[string, number]> = []
    const a = entry(log, 'a')
    const b = entry(log, 'b')
    list.add(a, performance.now())
    list.add(b, performance.now())
    await sleep(40)
    list.remove(a)
    list.add(a, performance.now())
    await sleep(1000)
    expect(log.map(([name]) => name)).toEqual(['b', 'a'])
    expect(log[1]![1]).toBeGreaterThanOrEqual(a.deadlineMs)
  })
})

describe('request deadlines: a request sent while the list fires', () => {
  it('does not push the timer past the deadline of a request already waiting', async () => {
    const list = new DeadlineList(300)
    const log: Array<[string, number]> = []
    const b = entry(log, 'b')
    const c = entry(log, 'c')
    let armedAfterA: number | null | undefined
    // a times out first and, as it does, a request of the same length is sent (c).
    const a: DeadlineEntry = {
      ...entry(log, 'a'),
      deadlinePassed() {
        log.push(['a', performance.now()])
        list.add(c, performance.now())
        // Once the timer callback is over (before any later timer can run): what is it armed for?
        setImmediate(() => (armedAfterA = list.armedFor))
      },
    }
    list.add(a, performance.now())
    await sleep(50)
    list.add(b, performance.now())
    await sleep(1000)
    // b's deadline comes first: the timer must be armed for it, not for c's (300 ms after a's).
    expect(armedAfterA).toBe(b.deadlineMs)
    expect(log.map(([name]) => name)).toEqual(['a', 'b', 'c'])
    expect(log[1]![1]).toBeGreaterThanOrEqual(b.deadlineMs)
    expect(log[2]![1]).toBeGreaterThanOrEqual(c.deadlineMs)
    expect(list.armedFor).toBeNull()
  })
})
