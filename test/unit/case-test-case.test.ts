import assert from 'node:assert'
import { describe, expect, it } from 'vitest'
import { AssertionError, isAssertionError } from '../../src/case/assertion-error.js'
import { TestCase, testMethodNames } from '../../src/case/test-case.js'

class Sample extends TestCase {
  async test_b() {}
  test_a() {}
  helper() {}
}
class Child extends Sample {
  test_c() {}
}

describe('TestCase', () => {
  const t = new TestCase()

  it('finds test methods, inherited ones included, in definition order', () => {
    expect(testMethodNames(Sample)).toEqual(['test_b', 'test_a'])
    expect(testMethodNames(Child)).toEqual(['test_c', 'test_b', 'test_a'])
  })

  it.each<[string, () => unknown, string]>([
    ['assertTrue', () => t.assertTrue(0), 'expected a truthy value, got 0'],
    ['assertFalse', () => t.assertFalse('x'), 'expected a falsy value, got "x"'],
    ['assertEqual', () => t.assertEqual({ a: [1, 2] }, { a: [1, 3] }), '{ a: [ 1, 2 ] } != { a: [ 1, 3 ] }'],
    ['assertNotEqual', () => t.assertNotEqual([1], [1]), '[ 1 ] == [ 1 ]'],
    ['assertIn', () => t.assertIn('z', 'abc'), '"z" not found in "abc"'],
    ['assertIn array', () => t.assertIn(4, [1, 2, 3]), '4 not found in [ 1, 2, 3 ]'],
    ['assertNotIn', () => t.assertNotIn('a', { a: 1 }), '"a" unexpectedly found in { a: 1 }'],
    ['assertIsNone', () => t.assertIsNone(0), '0 is not null or undefined'],
    ['assertIsNotNone', () => t.assertIsNotNone(null), 'unexpectedly null'],
    ['assertGreater', () => t.assertGreater(1, 2), '1 not greater than 2'],
    ['assertLess', () => t.assertLess(3, 2), '3 not less than 2'],
    ['assertRegex', () => t.assertRegex('abc', /^x/), "regex /^x/ didn't match \"abc\""],
    ['fail', () => t.fail('boom'), 'boom'],
    ['custom message', () => t.assertEqual(1, 2, 'status should be 1'), 'status should be 1: 1 != 2'],
    ['custom message keeps values', () => t.assertEqual(500, 200, 'msg'), 'msg: 500 != 200'],
  ])('%s fails with a helpful message', (_name, fn, message) => {
    expect(fn).toThrow(AssertionError)
    expect(fn).toThrow(message)
  })

  it.each<[string, () => unknown]>([
    ['assertTrue', () => t.assertTrue(1)],
    ['assertEqual deep', () => t.assertEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })],
    ['assertIn substring', () => t.assertIn('Search', 'Elastic Search')],
    ['assertIn Buffer', () => t.assertIn('Search', Buffer.from('Elastic Search'))],
    ['assertIn Set', () => t.assertIn(2, new Set([1, 2]))],
    ['assertIsNone undefined', () => t.assertIsNone(undefined)],
    ['assertGreater strings', () => t.assertGreater('b', 'a')],
  ])('%s passes', (_name, fn) => {
    expect(fn).not.toThrow()
  })

  it('assertRaises returns the error, and fails when nothing or something else is thrown', async () => {
    const err = await t.assertRaises(TypeError, () => {
      throw new TypeError('x')
    })
    expect(err.message).toBe('x')
    await expect(t.assertRaises(TypeError, async () => {})).rejects.toThrow('TypeError not raised')
    await expect(t.assertRaises(TypeError, () => Promise.reject(new RangeError('r')))).rejects.toThrow('expected TypeError to be raised, got RangeError: r')
  })

  it("counts ours and node:assert's AssertionError as failures, nothing else", () => {
    expect(isAssertionError(new AssertionError('x'))).toBe(true)
    try {
      assert.strictEqual(1, 2)
    } catch (e) {
      expect(isAssertionError(e)).toBe(true)
    }
    expect(isAssertionError(new TypeError('x'))).toBe(false)
    expect(isAssertionError('AssertionError')).toBe(false)
  })
})
