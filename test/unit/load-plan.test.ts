import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/load/duration.js'
import { buildPlan, parseSteps, plannedRuns, shareUsers } from '../../src/load/plan.js'

describe('plans', () => {
  it('is every users-step × hits-step, in order, as the original did', () => {
    expect(buildPlan({ users: '10:20:30', hits: '20' }).steps).toEqual([
      { users: 10, hits: 20 },
      { users: 20, hits: 20 },
      { users: 30, hits: 20 },
    ])
    expect(buildPlan({ users: '1:2', hits: '3:4' }).steps).toEqual([
      { users: 1, hits: 3 },
      { users: 1, hits: 4 },
      { users: 2, hits: 3 },
      { users: 2, hits: 4 },
    ])
  })

  it('counts Σ users × hits runs: 1200 for -u 10:20:30 -c 20, 1000 for -u 100 -c 10', () => {
    expect(plannedRuns(buildPlan({ users: '10:20:30', hits: '20' }))).toBe(1200)
    expect(plannedRuns(buildPlan({ users: '100', hits: '10' }))).toBe(1000)
    expect(plannedRuns(buildPlan({}))).toBe(1)
    expect(plannedRuns(buildPlan({ users: '5', duration: '10s' }))).toBeUndefined()
  })

  it('runs each users-step for the duration with -d', () => {
    expect(buildPlan({ users: '5:10', duration: '1m30s' }).steps).toEqual([
      { users: 5, durationMs: 90_000 },
      { users: 10, durationMs: 90_000 },
    ])
  })

  it.each(['0', 'abc', '10::20', ':10', '10:', '-1', '1.5', ''])('refuses -u %j', (text) => {
    expect(() => parseSteps(text, '-u/--users')).toThrow(/-u\/--users expects a whole number ≥ 1/)
  })

  it('refuses -c with -d', () => {
    expect(() => buildPlan({ hits: '1', duration: '1s' })).toThrow('-c/--hits and -d/--duration cannot be used together')
  })

  it('shares a step’s users over workers, the first ones getting one more', () => {
    expect(shareUsers(10, 3)).toEqual([4, 3, 3])
    expect(shareUsers(2, 4)).toEqual([1, 1, 0, 0])
    expect(shareUsers(100, 1)).toEqual([100])
  })
})

describe('durations', () => {
  it.each([
    ['30', 30_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '-d')).toBe(ms)
  })

  it.each(['', '0', 'soon', '10x', '-5s', '5 s'])('refuses %j', (text) => {
    expect(() => parseDuration(text, '-d/--duration')).toThrow(`-d/--duration expects a duration like 30, 30s, 500ms, 2m or 1m30s: got '${text}'`)
  })

  it('refuses durations below 1 ms, and past 2^31-1 ms (where a Node timer fires after 1 ms)', () => {
    expect(() => parseDuration('0.1ms', '-d/--duration')).toThrow('-d/--duration 0.1ms is below 1 ms')
    expect(() => parseDuration('1000h', '--timeout')).toThrow("--timeout 1000h is longer than the longest duration, 596h (2^31-1 ms, Node's timer limit)")
    expect(() => parseDuration(String(2 ** 31 / 1000), '--think')).toThrow('longer than the longest duration')
    expect(parseDuration('596h', '--timeout')).toBe(596 * 3_600_000)
    expect(parseDuration('1ms', '--timeout')).toBe(1)
  })

  it('formats back', () => {
    expect([500, 1500, 30_000, 90_000, 120_000].map(formatDuration)).toEqual(['500ms', '1.5s', '30s', '1m30s', '2m'])
  })
})
