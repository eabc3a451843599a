import { describe, expect, it } from 'vitest'
import { errorMessage } from '../../src/case/error-message.js'
import { formatSummary } from '../../src/report/console/summary.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { ErrorGroups, OTHER_ERRORS } from '../../src/stats/error-groups.js'
import { Recorder } from '../../src/stats/recorder.js'

class PaymentDeclined extends Error {}
class Named extends Error {
  constructor() {
    super()
    this.name = 'ShopError'
  }
}

describe('the message of an error group', () => {
  it('is the error message when there is one', () => {
    expect(errorMessage(new TypeError('x is null'))).toBe('x is null')
  })

  it('says what an error thrown with no message is: its class, its own fields, its cause', () => {
    expect(errorMessage(new Error())).toBe('Error thrown with no message')
    expect(errorMessage(new PaymentDeclined())).toBe('PaymentDeclined (name Error) thrown with no message')
    expect(errorMessage(new Named())).toBe('Named (name ShopError) thrown with no message')
    const withFields = Object.assign(new Error(''), { code: 'E_QUOTA', status: 429 })
    expect(errorMessage(withFields)).toBe('Error thrown with no message; fields {"code":"E_QUOTA","status":429}')
    expect(errorMessage(new Error('', { cause: new RangeError('too far') }))).toBe('Error thrown with no message; cause: RangeError: too far')
    expect(errorMessage(new Error('', { cause: { reason: 'gone' } }))).toBe('Error thrown with no message; cause: {"reason":"gone"}')
    const huge = Object.assign(new Error(), { body: 'x'.repeat(1000) })
    expect(errorMessage(huge).length).toBeLessThan(400)
  })
})

describe('overflowed error groups in the console', () => {
  it('keep their kind and say what they are', () => {
    let now = 0
    const rec = new Recorder({ source: 'w', now: () => now, maxErrorGroups: 2 })
    for (let i = 0; i < 7; i++) rec.recordTest('error', 'T.a', { kind: i < 4 ? 'TypeError' : 'ECONNREFUSED', message: `id ${i}`, stack: '' })
    now = 1000
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const groups = agg.summary().errors
    expect(groups.map((g) => [g.kind, g.message, g.count])).toEqual([
      ['TypeError', OTHER_ERRORS, 2],
      ['ECONNREFUSED', OTHER_ERRORS, 3],
      ['TypeError', 'id 0', 1],
      ['TypeError', 'id 1', 1],
    ].sort((a, b) => Number(b[2]) - Number(a[2])))
    const text = formatSummary(agg.summary())
    // The group's row, then its whole message on the line under it.
    expect(text).toMatch(/^ +3 +error +ECONNREFUSED *\n +\(other errors: past the limit of distinct groups, counted by kind and not kept apart\)$/m)
    expect(text).toMatch(/^ +2 +error +TypeError *\n +\(other errors: past the limit of distinct groups, counted by kind and not kept apart\)$/m)
    expect(new ErrorGroups().maxGroups).toBe(100)
  })
})
