import { describe, expect, it } from 'vitest'
import { parseRates, parseThink, plannedDurationMs, sampleThinkMs } from '../../src/load/load-shape.js'
import { buildPlan, describeStep } from '../../src/load/plan.js'

describe('load shapes in the plan', () => {
  it('spreads each step over --ramp-up and keeps --pause and --think on the plan', () => {
    const plan = buildPlan({ users: '10:20', duration: '30s', rampUp: '10s', pause: '5s', think: '200ms-1s' })
    expect(plan).toEqual({
      steps: [
        { users: 10, durationMs: 30_000, rampUpMs: 10_000 },
        { users: 20, durationMs: 30_000, rampUpMs: 10_000 },
      ],
      pauseMs: 5000,
      think: { minMs: 200, maxMs: 1000 },
    })
    expect(plannedDurationMs(plan)).toBe(65_000)
    expect(describeStep(plan.steps[0]!)).toBe('10 users for 30s, starting over 10s')
  })

  it('plans the open model: one step per rate, capped by --max-users', () => {
    const plan = buildPlan({ rate: '100:200:400', duration: '30s', maxUsers: 50 })
    expect(plan.steps).toEqual([
      { users: 50, rate: 100, durationMs: 30_000 },
      { users: 50, rate: 200, durationMs: 30_000 },
      { users: 50, rate: 400, durationMs: 30_000 },
    ])
    expect(buildPlan({ rate: '0.5', duration: '10s' }).steps[0]).toEqual({ users: 1000, rate: 0.5, durationMs: 10_000 })
    expect(describeStep(plan.steps[0]!)).toBe('100 runs/s for 30s (at most 50 in flight)')
  })

  it.each([
    [{ rate: '100' }, /--rate needs -d/],
    [{ rate: '100', duration: '1s', users: '5' }, /-u\/--users cannot be used with --rate/],
    [{ rate: '100', duration: '1s', hits: '5' }, /-c\/--hits cannot be used with --rate/],
    [{ rate: '100', duration: '1s', rampUp: '1s' }, /--ramp-up/],
    [{ rate: '100', duration: '1s', think: '1s' }, /--think/],
    [{ rate: '100::200', duration: '1s' }, /--rate expects/],
    [{ rate: '0', duration: '1s' }, /--rate expects/],
    [{ users: '5', maxUsers: 10 }, /--max-users caps the open model/],
    [{ users: '5', duration: '10s', rampUp: '10s' }, /--ramp-up 10s is not shorter/],
    [{ users: '5', think: '1s-200ms' }, /ends before it starts/],
  ])('refuses %j', (input, message) => {
    expect(() => buildPlan(input)).toThrow(message)
  })

  it('parses think times and rates', () => {
    expect(parseThink('500ms')).toEqual({ minMs: 500, maxMs: 500 })
    expect(parseThink('0-2s')).toEqual({ minMs: 0, maxMs: 2000 })
    expect(sampleThinkMs({ minMs: 200, maxMs: 1000 }, () => 0.5)).toBe(600)
    expect(parseRates('100:200.5')).toEqual([100, 200.5])
  })
})
