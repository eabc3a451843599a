import { describe, expect, it } from 'vitest'
import { seededRandom, userRandom } from '../../src/load/random.js'
import { taskPicker, testsPerRun } from '../../src/load/task-picker.js'

const t = (className: string, name: string, weight?: number, sequential?: boolean) => ({
  className, name, ...(weight !== undefined ? { weight } : {}), ...(sequential === true ? { sequential } : {}),
})

describe('taskPicker', () => {
  it('without weights gives every test of every class, in order, each run', () => {
    const tests = [t('A', 'a1'), t('A', 'a2'), t('B', 'b1')]
    const pick = taskPicker(tests, Math.random)
    expect(pick().map((x) => x.name)).toEqual(['a1', 'a2', 'b1'])
    expect(testsPerRun(tests)).toBe(3)
  })

  it('with weights picks one task per class by weight (and keeps unweighted classes whole)', () => {
    const tests = [t('A', 'browse', 3), t('A', 'buy', 1), t('B', 'b1'), t('B', 'b2')]
    const pick = taskPicker(tests, seededRandom(1))
    const counts: Record<string, number> = {}
    for (let i = 0; i < 40_000; i++) for (const x of pick()) counts[x.name] = (counts[x.name] ?? 0) + 1
    expect(counts['b1']).toBe(40_000)
    expect(counts['browse']! + counts['buy']!).toBe(40_000)
    // 4σ of Binomial(40000, 0.75) is ±347.
    expect(Math.abs(counts['browse']! - 30_000)).toBeLessThan(347)
    expect(testsPerRun(tests)).toBe(3)
  })

  it('sequential: each task in order, repeated by its weight, round and round', () => {
    const pick = taskPicker([t('A', 'a', 2, true), t('A', 'b', 1, true)], Math.random)
    expect(Array.from({ length: 7 }, () => pick()[0]!.name).join('')).toBe('aabaaba')
  })
})

describe('seeded random numbers', () => {
  it('repeat for the same keys, differ for others, and are uniform in [0, 1)', () => {
    const a = seededRandom(42, 0, 3)
    const b = seededRandom(42, 0, 3)
    const c = seededRandom(42, 0, 4)
    const xs = Array.from({ length: 10_000 }, () => a())
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs)
    expect(c()).not.toBe(seededRandom(42, 0, 3)())
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0115) // 4σ for 10,000 uniforms
    expect(userRandom(undefined, 1, 2)).toBe(Math.random)
  })
})
