import { describe, expect, it } from 'vitest'
import { classAssignment, globalUser, splitUsers } from '../../src/load/user-classes.js'

const c = (className: string, weight = 1, fixedCount?: number) => ({ className, weight, ...(fixedCount !== undefined ? { fixedCount } : {}) })

describe('splitting users between classes (Locust: fixed counts first, then weights)', () => {
  it.each([
    [10, [c('A', 3), c('B', 1)], [8, 2]], // 7.5 / 2.5: remainders tie, the larger weight wins
    [10, [c('A', 1), c('B', 3)], [2, 8]],
    [3, [c('A', 1), c('B', 1), c('C', 1)], [1, 1, 1]],
    [2, [c('A', 1), c('B', 1), c('C', 1)], [1, 1, 0]], // equal weights: the class listed first
    [100, [c('A', 3), c('B', 1)], [75, 25]],
    [10, [c('A'), c('B', 1, 1)], [9, 1]],
    [3, [c('A'), c('B', 1, 5)], [0, 3]], // fixed counts take what there is
    [7, [c('A', 1), c('B', 1), c('C', 1)], [3, 2, 2]],
    [12, [c('A', 1, 2), c('B', 2), c('C', 1)], [2, 7, 3]], // 10 left: 6.67 / 3.33
  ])('%i users over %j → %j', (total, classes, expected) => {
    expect(splitUsers(total, classes)).toEqual(expected)
    expect(splitUsers(total, classes).reduce((a, b) => a + b, 0)).toBe(total)
  })

  it('assigns every global user a class, exactly the split, interleaved (a prefix is a fair mix)', () => {
    const classes = [c('Browser', 3), c('Buyer', 1, 2), c('Admin', 1)]
    const plan = classAssignment(30, classes)
    const counts = [0, 1, 2].map((k) => plan.filter((x) => x === k).length)
    expect(counts).toEqual(splitUsers(30, classes))
    // The first 10 users hold about a third of each class's users.
    const first = [0, 1, 2].map((k) => plan.slice(0, 10).filter((x) => x === k).length)
    counts.forEach((n, k) => expect(Math.abs(first[k]! - n / 3)).toBeLessThanOrEqual(1))
  })

  it('numbers agents\' users into one global run: agent s of n, its user u', () => {
    expect(globalUser(0, 4, { index: 2, count: 3 })).toEqual({ index: 2, total: 12 })
    expect(globalUser(3, 4, { index: 0, count: 3 })).toEqual({ index: 9, total: 12 })
    const seen = new Set<number>()
    for (let s = 0; s < 3; s++) for (let u = 0; u < 4; u++) seen.add(globalUser(u, 4, { index: s, count: 3 }).index)
    expect(seen.size).toBe(12)
  })
})
