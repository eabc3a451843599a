import { describe, expect, it } from 'vitest'
import { buildPlan } from '../../src/load/plan.js'
import { checkWorkers } from '../../src/runner/run.js'

describe('-w is bounded', () => {
  it('never starts more workers than the largest step has users', () => {
    expect(checkWorkers(8, buildPlan({ users: '3' }), 4)).toBe(3)
    expect(checkWorkers(8, buildPlan({ users: '2:6' }), 4)).toBe(6)
  })

  it('refuses more than 4 per core, saying how many the machine allows', () => {
    expect(checkWorkers(8, buildPlan({ users: '100' }), 2)).toBe(8)
    expect(() => checkWorkers(9, buildPlan({ users: '100' }), 2)).toThrow('--workers 9 is more than 4 per core (8 on this machine\'s 2 cores)')
    expect(() => checkWorkers(999, buildPlan({ users: '1' }), 2)).toThrow(/more than 4 per core/)
  })
})
